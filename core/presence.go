package core

import (
	"context"
	"encoding/json"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// Presence: a contact we subscribed to went online or offline (LastSeen:
// when they were last online, when they share it).
type Presence struct {
	JID       string `json:"jid"`
	Available bool   `json:"available"`
	LastSeen  *int64 `json:"lastSeen"`
}

// Chat presence states (ChatPresence.State, sendChatPresence).
const (
	ChatComposing = "composing"
	ChatPaused    = "paused"
	ChatRecording = "recording"
)

// ChatPresence: someone is typing or recording in a chat, or stopped.
type ChatPresence struct {
	Chat   string `json:"chat"`
	Sender string `json:"sender"`
	State  string `json:"state"`
}

func (Presence) EventName() string     { return "presence" }
func (ChatPresence) EventName() string { return "chat_presence" }

func (c *Client) emitPresence(v *events.Presence) {
	jid, _ := c.bothForms(v.From.ToNonAD(), types.EmptyJID)
	p := Presence{JID: jid, Available: !v.Unavailable}
	if !v.LastSeen.IsZero() {
		ms := v.LastSeen.UnixMilli()
		p.LastSeen = &ms
	}
	c.emit(p)
}

func (c *Client) emitChatPresence(v *events.ChatPresence) {
	state := ChatPaused
	if v.State == types.ChatPresenceComposing {
		state = ChatComposing
		if v.Media == types.ChatPresenceMediaAudio {
			state = ChatRecording
		}
	}
	chat, _ := c.bothForms(v.Chat.ToNonAD(), types.EmptyJID)
	sender, _ := c.bothForms(v.Sender.ToNonAD(), v.SenderAlt.ToNonAD())
	c.emit(ChatPresence{Chat: chat, Sender: sender, State: state})
}

// SendPresence sets our presence: "available" or "unavailable". (The
// service needs a push name first; the phone's app state gives it.)
func (c *Client) SendPresence(ctx context.Context, state string) error {
	cli, err := c.readyToSend("sendPresence")
	if err != nil {
		return err
	}
	if state != string(types.PresenceAvailable) && state != string(types.PresenceUnavailable) {
		return Errorf(CodeInvalidOption, "sendPresence(state): state must be 'available' or 'unavailable', got %q", state)
	}
	if err := cli.SendPresence(ctx, types.Presence(state)); err != nil {
		return Errorf(CodeSend, "sendPresence: %w", err)
	}
	return nil
}

// SubscribePresence asks for jid's presence events.
func (c *Client) SubscribePresence(ctx context.Context, jid string) error {
	cli, err := c.readyToSend("subscribePresence")
	if err != nil {
		return err
	}
	j, err := parseJID(jid)
	if err != nil {
		return err
	}
	if j.Server != types.DefaultUserServer && j.Server != types.HiddenUserServer {
		return Errorf(CodeInvalidJID, "subscribePresence(jid): %s is not a user", j)
	}
	if err := cli.SubscribePresence(ctx, j); err != nil {
		return Errorf(CodeSend, "subscribePresence %s: %w", j, err)
	}
	return nil
}

// SendChatPresence says we are typing ("composing"), recording a voice
// message ("recording") or stopped ("paused") in a chat.
func (c *Client) SendChatPresence(ctx context.Context, jid, state string) error {
	cli, err := c.readyToSend("sendChatPresence")
	if err != nil {
		return err
	}
	j, err := parseJID(jid)
	if err != nil {
		return err
	}
	var st types.ChatPresence
	var media types.ChatPresenceMedia
	switch state {
	case ChatComposing:
		st = types.ChatPresenceComposing
	case ChatRecording:
		st, media = types.ChatPresenceComposing, types.ChatPresenceMediaAudio
	case ChatPaused:
		st = types.ChatPresencePaused
	default:
		return Errorf(CodeInvalidOption, "sendChatPresence(jid, state): state must be 'composing', 'recording' or 'paused', got %q", state)
	}
	if err := cli.SendChatPresence(ctx, j, st, media); err != nil {
		return Errorf(CodeSend, "sendChatPresence to %s: %w", j, err)
	}
	return nil
}

func init() {
	register("sendPresence", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		state, err := stringArg(args, 0, "sendPresence(state)", "state")
		if err != nil {
			return nil, err
		}
		return nil, c.SendPresence(ctx, state)
	})
	register("subscribePresence", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		jid, err := jidArg(args, 0, "subscribePresence(jid)", "jid")
		if err != nil {
			return nil, err
		}
		return nil, c.SubscribePresence(ctx, jid)
	})
	register("sendChatPresence", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		const sig = "sendChatPresence(jid, state)"
		jid, err := jidArg(args, 0, sig, "jid")
		if err != nil {
			return nil, err
		}
		state, err := stringArg(args, 1, sig, "state")
		if err != nil {
			return nil, err
		}
		return nil, c.SendChatPresence(ctx, jid, state)
	})
}
