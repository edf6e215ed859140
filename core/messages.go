package core

import (
	"encoding/json"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// What a message holds, in plain fields for the page: its type and the
// fields of that type, and the whole message as protobuf JSON (raw) for
// anything not modelled. The field names follow Baileys where it has one
// (key: {remoteJid, fromMe, id, participant}, degreesLatitude, ...).

// Message types (Message.Type).
const (
	MsgText         = "text"
	MsgImage        = "image"
	MsgVideo        = "video"
	MsgAudio        = "audio"
	MsgDocument     = "document"
	MsgSticker      = "sticker"
	MsgLocation     = "location"
	MsgLiveLocation = "live_location"
	MsgContact      = "contact"
	MsgContacts     = "contacts"
	MsgPoll         = "poll"
	MsgPollVote     = "poll_vote"
	MsgReaction     = "reaction"
	MsgEdit         = "edit"
	MsgRevoke       = "revoke"
	MsgUnknown      = "unknown"
)

// MessageKey names a message as Baileys does; sendMessage takes it to
// react to, edit, delete or quote a message, and resolves with one.
type MessageKey struct {
	RemoteJID string `json:"remoteJid"`
	FromMe    bool   `json:"fromMe"`
	ID        string `json:"id"`
	// Participant is the author of a group message (omitted in 1:1 chats).
	Participant string `json:"participant,omitempty"`
}

// Quoted is the message a reply quotes.
type Quoted struct {
	ID     string `json:"id"`
	Sender string `json:"sender"`
	// Text is the quoted message's text or caption, when it has one.
	Text string `json:"text,omitempty"`
}

// Reaction: an emoji on the message key names ("" removes it).
type Reaction struct {
	Key  MessageKey `json:"key"`
	Text string     `json:"text"`
}

// Edit: the message key names now reads Text.
type Edit struct {
	Key  MessageKey `json:"key"`
	Text string     `json:"text"`
}

// Revoke: the message key names was deleted for everyone.
type Revoke struct {
	Key MessageKey `json:"key"`
}

// Location is a (live) location.
type Location struct {
	DegreesLatitude  float64 `json:"degreesLatitude"`
	DegreesLongitude float64 `json:"degreesLongitude"`
	Name             string  `json:"name,omitempty"`
	Address          string  `json:"address,omitempty"`
}

// Contact is a shared contact card.
type Contact struct {
	DisplayName string `json:"displayName"`
	Vcard       string `json:"vcard"`
}

// Poll is a poll's question and options.
type Poll struct {
	Name            string   `json:"name"`
	Options         []string `json:"options"`
	SelectableCount int      `json:"selectableCount"`
}

// MessageContent is the typed part of a message event: Type and the field
// of that type (the others omitted).
type MessageContent struct {
	Type     string     `json:"type"`
	Key      MessageKey `json:"key"`
	Caption  string     `json:"caption,omitempty"`
	Quoted   *Quoted    `json:"quoted,omitempty"`
	Mentions []string   `json:"mentions,omitempty"`
	Reaction *Reaction  `json:"reaction,omitempty"`
	Edit     *Edit      `json:"edit,omitempty"`
	Revoke   *Revoke    `json:"revoke,omitempty"`
	Location *Location  `json:"location,omitempty"`
	Contact  *Contact   `json:"contact,omitempty"`
	Contacts []Contact  `json:"contacts,omitempty"`
	Poll     *Poll      `json:"poll,omitempty"`
	PollVote *PollVote  `json:"pollVote,omitempty"`
	// Raw is the whole message (unwrapped from its device-sent, ephemeral,
	// view-once and edit envelopes) in protobuf JSON.
	Raw json.RawMessage `json:"raw"`
}

// ownUser tells whether j is the session's account (by number or LID).
func (c *Client) ownUser(j types.JID) bool {
	cli, _ := c.current()
	if cli == nil || cli.Store == nil || j.IsEmpty() {
		return false
	}
	own, lid := cli.Store.GetJID(), cli.Store.GetLID()
	return (!own.IsEmpty() && j.User == own.User && j.Server == own.Server) || (!lid.IsEmpty() && j.User == lid.User && j.Server == lid.Server)
}

// messageContent describes v's message for the page. chat and sender are
// the page's forms of them.
func (c *Client) messageContent(v *events.Message, chat, sender string) MessageContent {
	m := v.Message
	out := MessageContent{Type: MsgUnknown, Key: MessageKey{RemoteJID: chat, FromMe: v.Info.IsFromMe, ID: v.Info.ID}}
	if v.Info.IsGroup {
		out.Key.Participant = sender
	}
	if raw, err := protojson.Marshal(m); err == nil {
		out.Raw = raw
	} else {
		out.Raw = json.RawMessage("{}")
	}
	// target turns a key as the message's author wrote it (fromMe: the
	// author's own message) into the page's view.
	target := func(k *waCommon.MessageKey) MessageKey {
		t := MessageKey{RemoteJID: chat, ID: k.GetID()}
		switch {
		case k.GetFromMe():
			t.FromMe = v.Info.IsFromMe
			if v.Info.IsGroup {
				t.Participant = sender
			}
		case v.Info.IsGroup:
			p, _ := types.ParseJID(k.GetParticipant())
			pn, _ := c.bothForms(p, types.EmptyJID)
			t.FromMe, t.Participant = c.ownUser(p), pn
		default:
			// The other party's message from the author's view: ours,
			// unless we are the author.
			t.FromMe = !v.Info.IsFromMe
		}
		return t
	}
	switch {
	case m.Conversation != nil:
		out.Type = MsgText
	case m.ExtendedTextMessage != nil:
		out.Type = MsgText
	case m.ImageMessage != nil:
		out.Type, out.Caption = MsgImage, m.GetImageMessage().GetCaption()
	case m.VideoMessage != nil:
		out.Type, out.Caption = MsgVideo, m.GetVideoMessage().GetCaption()
	case m.PtvMessage != nil:
		out.Type, out.Caption = MsgVideo, m.GetPtvMessage().GetCaption()
	case m.AudioMessage != nil:
		out.Type = MsgAudio
	case m.DocumentMessage != nil:
		out.Type, out.Caption = MsgDocument, m.GetDocumentMessage().GetCaption()
	case m.StickerMessage != nil:
		out.Type = MsgSticker
	case m.LocationMessage != nil:
		l := m.GetLocationMessage()
		out.Type = MsgLocation
		out.Location = &Location{DegreesLatitude: l.GetDegreesLatitude(), DegreesLongitude: l.GetDegreesLongitude(), Name: l.GetName(), Address: l.GetAddress()}
	case m.LiveLocationMessage != nil:
		l := m.GetLiveLocationMessage()
		out.Type = MsgLiveLocation
		out.Location = &Location{DegreesLatitude: l.GetDegreesLatitude(), DegreesLongitude: l.GetDegreesLongitude()}
	case m.ContactMessage != nil:
		out.Type = MsgContact
		out.Contact = &Contact{DisplayName: m.GetContactMessage().GetDisplayName(), Vcard: m.GetContactMessage().GetVcard()}
	case m.ContactsArrayMessage != nil:
		out.Type = MsgContacts
		out.Contacts = []Contact{}
		for _, ct := range m.GetContactsArrayMessage().GetContacts() {
			out.Contacts = append(out.Contacts, Contact{DisplayName: ct.GetDisplayName(), Vcard: ct.GetVcard()})
		}
	case m.PollCreationMessage != nil || m.PollCreationMessageV2 != nil || m.PollCreationMessageV3 != nil:
		p := m.GetPollCreationMessage()
		if p == nil {
			p = m.GetPollCreationMessageV2()
		}
		if p == nil {
			p = m.GetPollCreationMessageV3()
		}
		out.Type = MsgPoll
		c.notePoll(v.Info.ID, p) // pollvotes.go
		out.Poll = &Poll{Name: p.GetName(), Options: []string{}, SelectableCount: int(p.GetSelectableOptionsCount())}
		for _, o := range p.GetOptions() {
			out.Poll.Options = append(out.Poll.Options, o.GetOptionName())
		}
	case m.PollUpdateMessage != nil:
		out.Type = MsgPollVote
		out.PollVote = c.readVote(v, target(m.GetPollUpdateMessage().GetPollCreationMessageKey()))
	case m.ReactionMessage != nil:
		r := m.GetReactionMessage()
		out.Type = MsgReaction
		out.Reaction = &Reaction{Key: target(r.GetKey()), Text: r.GetText()}
	case m.ProtocolMessage != nil && m.GetProtocolMessage().GetType() == waE2E.ProtocolMessage_MESSAGE_EDIT:
		pm := m.GetProtocolMessage()
		out.Type = MsgEdit
		out.Edit = &Edit{Key: target(pm.GetKey()), Text: textOf(pm.GetEditedMessage())}
	case m.ProtocolMessage != nil && m.GetProtocolMessage().GetType() == waE2E.ProtocolMessage_REVOKE:
		out.Type = MsgRevoke
		out.Revoke = &Revoke{Key: target(m.GetProtocolMessage().GetKey())}
	}
	if ci := contextInfoOf(m); ci != nil {
		if ci.GetStanzaID() != "" {
			p, _ := types.ParseJID(ci.GetParticipant())
			quotedSender, _ := c.bothForms(p, types.EmptyJID)
			out.Quoted = &Quoted{ID: ci.GetStanzaID(), Sender: quotedSender, Text: textOf(ci.GetQuotedMessage())}
		}
		for _, j := range ci.GetMentionedJID() {
			p, err := types.ParseJID(j)
			if err != nil {
				continue
			}
			pn, _ := c.bothForms(p, types.EmptyJID)
			out.Mentions = append(out.Mentions, pn)
		}
	}
	return out
}

// onlyKeys tells a message that carries nothing for the chat: a group's
// sender key (sent 1:1 ahead of the group message it opens, which arrives
// on its own) and its context, nothing else.
func onlyKeys(m *waE2E.Message) bool {
	empty := true
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		switch fd.Name() {
		case "senderKeyDistributionMessage", "messageContextInfo":
			return true
		}
		empty = false
		return false
	})
	return empty
}

// textOf is a message's text, or its caption.
func textOf(m *waE2E.Message) string {
	switch {
	case m.GetConversation() != "":
		return m.GetConversation()
	case m.GetExtendedTextMessage() != nil:
		return m.GetExtendedTextMessage().GetText()
	case m.GetImageMessage() != nil:
		return m.GetImageMessage().GetCaption()
	case m.GetVideoMessage() != nil:
		return m.GetVideoMessage().GetCaption()
	case m.GetDocumentMessage() != nil:
		return m.GetDocumentMessage().GetCaption()
	}
	return ""
}

// contextInfoOf is the contextInfo (quote, mentions) of the message's
// content, whichever type it is: every content type has the field.
func contextInfoOf(m *waE2E.Message) *waE2E.ContextInfo {
	var ci *waE2E.ContextInfo
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return true
		}
		inner := fd.Message().Fields().ByName("contextInfo")
		if inner == nil || inner.Kind() != protoreflect.MessageKind {
			return true
		}
		if got, ok := val.Message().Get(inner).Message().Interface().(*waE2E.ContextInfo); ok && val.Message().Has(inner) {
			ci = got
			return false
		}
		return true
	})
	return ci
}
