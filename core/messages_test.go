//go:build !js

package core

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wasmeow/wasmeow/fakewa"
)

// phoneReceived waits until phone received a message that match holds for
// (what names it in the failure), and returns it.
func phoneReceived(t *testing.T, phone, what string, match func(fakewa.ReceivedMessage) bool) fakewa.ReceivedMessage {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		msgs, err := srv.Messages(phone)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if match(m) {
				return m
			}
		}
	}
	t.Fatalf("%s never received %s", phone, what)
	return fakewa.ReceivedMessage{}
}

// receivedBy waits until peer's phone received the message id.
func receivedBy(t *testing.T, peer, id string) fakewa.ReceivedMessage {
	t.Helper()
	return phoneReceived(t, peer, id, func(m fakewa.ReceivedMessage) bool { return m.ID == id })
}

// rawOf decodes a received message's protobuf JSON.
func rawOf(t *testing.T, m fakewa.ReceivedMessage) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(m.Raw, &out); err != nil {
		t.Fatalf("raw %s: %v", m.Raw, err)
	}
	return out
}

func TestMessageTypesFromAPhone(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Hana"), newAccount(t, "Ivo")
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	exchange(t, c, me, peer, "1")
	mine, err := c.SendMessage(ctxT(t), peer, []byte(`{"text":"mine"}`))
	if err != nil {
		t.Fatal(err)
	}
	meJID := me + "@s.whatsapp.net"
	first, err := srv.SendText(peer, me, "first")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, c.rec, 0, 20*time.Second, func(m Message) bool { return m.ID == first })
	theirKey := &waCommon.MessageKey{RemoteJID: proto.String(meJID), FromMe: proto.Bool(true), ID: proto.String(first)}
	ourKey := &waCommon.MessageKey{RemoteJID: proto.String(meJID), FromMe: proto.Bool(false), ID: proto.String(mine.ID)}
	cases := []struct {
		msg   *waE2E.Message
		check func(Message) bool
	}{
		{&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("a reply @" + me), ContextInfo: &waE2E.ContextInfo{
			StanzaID: proto.String(mine.ID), Participant: proto.String(meJID), QuotedMessage: &waE2E.Message{Conversation: proto.String("mine")},
			MentionedJID: []string{meJID}}}},
			func(m Message) bool {
				return m.Type == MsgText && m.Text == "a reply @"+me && m.Quoted != nil && m.Quoted.ID == mine.ID &&
					strings.HasPrefix(m.Quoted.Sender, me) && m.Quoted.Text == "mine" && len(m.Mentions) == 1 && strings.HasPrefix(m.Mentions[0], me)
			}},
		{&waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Key: ourKey, Text: proto.String("👍"), SenderTimestampMS: proto.Int64(time.Now().UnixMilli())}},
			func(m Message) bool {
				return m.Type == MsgReaction && m.Reaction.Text == "👍" && m.Reaction.Key.ID == mine.ID && m.Reaction.Key.FromMe
			}},
		{&waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_MESSAGE_EDIT.Enum(), Key: theirKey,
			EditedMessage: &waE2E.Message{Conversation: proto.String("first, edited")}}},
			func(m Message) bool {
				return m.Type == MsgEdit && m.Edit.Key.ID == first && !m.Edit.Key.FromMe && m.Edit.Text == "first, edited"
			}},
		{&waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_REVOKE.Enum(), Key: theirKey}},
			func(m Message) bool { return m.Type == MsgRevoke && m.Revoke.Key.ID == first && !m.Revoke.Key.FromMe }},
		{&waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(52.52), DegreesLongitude: proto.Float64(13.405), Name: proto.String("Berlin")}},
			func(m Message) bool {
				return m.Type == MsgLocation && m.Location.DegreesLatitude == 52.52 && m.Location.DegreesLongitude == 13.405 && m.Location.Name == "Berlin"
			}},
		{&waE2E.Message{PollCreationMessage: &waE2E.PollCreationMessage{Name: proto.String("Lunch?"), SelectableOptionsCount: proto.Uint32(1),
			Options: []*waE2E.PollCreationMessage_Option{{OptionName: proto.String("yes")}, {OptionName: proto.String("no")}}}},
			func(m Message) bool {
				return m.Type == MsgPoll && m.Poll.Name == "Lunch?" && strings.Join(m.Poll.Options, ",") == "yes,no" && m.Poll.SelectableCount == 1
			}},
		{&waE2E.Message{ContactMessage: &waE2E.ContactMessage{DisplayName: proto.String("Jo"), Vcard: proto.String("BEGIN:VCARD\nFN:Jo\nEND:VCARD")}},
			func(m Message) bool {
				return m.Type == MsgContact && m.Contact.DisplayName == "Jo" && strings.Contains(m.Contact.Vcard, "FN:Jo")
			}},
		{&waE2E.Message{ButtonsResponseMessage: &waE2E.ButtonsResponseMessage{SelectedButtonID: proto.String("b1")}},
			func(m Message) bool {
				return m.Type == MsgUnknown && strings.Contains(string(m.Raw), `"selectedButtonID":"b1"`)
			}},
	}
	for i, tc := range cases {
		id, err := srv.SendMessage(peer, me, tc.msg)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got := waitFor(t, c.rec, 0, 20*time.Second, func(m Message) bool { return m.ID == id })
		if !tc.check(got) || got.Key.ID != id || got.Key.FromMe || !strings.HasPrefix(got.Key.RemoteJID, peer) {
			b, _ := json.Marshal(got)
			t.Fatalf("case %d: message event %s", i, b)
		}
	}
}

func TestSendMessageEachType(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Jana"), newAccount(t, "Karl")
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	exchange(t, c, me, peer, "1")
	theirs, err := srv.SendText(peer, me, "theirs")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, c.rec, 0, 20*time.Second, func(m Message) bool { return m.ID == theirs })
	send := func(content string) (MessageKey, map[string]any) {
		t.Helper()
		key, err := c.SendMessage(ctxT(t), peer+"@s.whatsapp.net", []byte(content))
		if err != nil {
			t.Fatalf("sendMessage %s: %v", content, err)
		}
		if !key.FromMe || key.ID == "" || key.RemoteJID != peer+"@s.whatsapp.net" {
			t.Fatalf("key %+v", key)
		}
		return key, rawOf(t, receivedBy(t, peer, key.ID))
	}
	field := func(raw map[string]any, path ...string) any {
		var v any = raw
		for _, p := range path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		return v
	}
	plain, raw := send(`{"text":"plain"}`)
	if raw["conversation"] != "plain" {
		t.Fatalf("text: %v", raw)
	}
	theirKey := `{"remoteJid":"` + peer + `@s.whatsapp.net","fromMe":false,"id":"` + theirs + `"}`
	ourKey := `{"remoteJid":"` + peer + `@s.whatsapp.net","fromMe":true,"id":"` + plain.ID + `"}`
	_, raw = send(`{"text":"a reply","quoted":{"key":` + theirKey + `,"message":{"conversation":"theirs"}},"mentions":["` + peer + `"]}`)
	if field(raw, "extendedTextMessage", "contextInfo", "stanzaID") != theirs || field(raw, "extendedTextMessage", "contextInfo", "participant") != peer+"@s.whatsapp.net" ||
		field(raw, "extendedTextMessage", "contextInfo", "quotedMessage", "conversation") != "theirs" ||
		field(raw, "extendedTextMessage", "contextInfo", "mentionedJID").([]any)[0] != peer+"@s.whatsapp.net" {
		t.Fatalf("reply: %v", raw)
	}
	_, raw = send(`{"react":{"key":` + theirKey + `,"text":"❤️"}}`)
	if field(raw, "reactionMessage", "text") != "❤️" || field(raw, "reactionMessage", "key", "ID") != theirs || field(raw, "reactionMessage", "key", "fromMe") == true {
		t.Fatalf("reaction: %v", raw)
	}
	_, raw = send(`{"edit":` + ourKey + `,"text":"plain, edited"}`)
	// On the wire an edit is wrapped in editedMessage (whatsmeow's BuildEdit).
	pm := field(raw, "editedMessage", "message", "protocolMessage").(map[string]any)
	if field(pm, "type") != "MESSAGE_EDIT" || field(pm, "key", "ID") != plain.ID || field(pm, "editedMessage", "conversation") != "plain, edited" {
		t.Fatalf("edit: %v", raw)
	}
	_, raw = send(`{"delete":` + ourKey + `}`)
	if field(raw, "protocolMessage", "type") != "REVOKE" || field(raw, "protocolMessage", "key", "ID") != plain.ID {
		t.Fatalf("revoke: %v", raw)
	}
	_, raw = send(`{"location":{"degreesLatitude":-33.86,"degreesLongitude":151.21,"name":"Sydney"}}`)
	if field(raw, "locationMessage", "degreesLatitude") != -33.86 || field(raw, "locationMessage", "name") != "Sydney" {
		t.Fatalf("location: %v", raw)
	}
	_, raw = send(`{"poll":{"name":"Tea or coffee?","values":["tea","coffee"],"selectableCount":1}}`)
	if field(raw, "pollCreationMessage", "name") != "Tea or coffee?" || len(field(raw, "pollCreationMessage", "options").([]any)) != 2 {
		t.Fatalf("poll: %v", raw)
	}
	_, raw = send(`{"raw":{"contactMessage":{"displayName":"Lu","vcard":"BEGIN:VCARD\nFN:Lu\nEND:VCARD"}}}`)
	if field(raw, "contactMessage", "displayName") != "Lu" {
		t.Fatalf("raw: %v", raw)
	}
}

func TestSendMessageRefusesBadContent(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Lena"), newAccount(t, "Mats")
	c := newClient(t, Options{}, nil, nil)
	if _, err := c.SendMessage(ctxT(t), peer, []byte(`{"text":"x"}`)); CodeOf(err) != CodeNotLoggedIn {
		t.Fatalf("before pairing: %v", err)
	}
	pairQR(t, c, me)
	key := `{"fromMe":true,"id":"ABC"}`
	for content, code := range map[string]string{
		`null`: CodeInvalidOption, `[]`: CodeInvalidOption, `"text"`: CodeInvalidOption, `{}`: CodeInvalidOption,
		`{"text":""}`: CodeInvalidOption, `{"text":5}`: CodeInvalidOption, `{"text":"x","colour":1}`: CodeInvalidOption,
		`{"text":"x","react":{"key":` + key + `,"text":"👍"}}`:             CodeInvalidOption,
		`{"react":{"key":` + key + `}}`:                                   CodeInvalidOption,
		`{"react":{"key":{"fromMe":true,"id":""},"text":"x"}}`:            CodeInvalidOption,
		`{"react":{"key":{"fromMe":true,"id":"A","extra":1},"text":"x"}}`: CodeInvalidOption,
		`{"edit":{"fromMe":false,"id":"A"},"text":"x"}`:                   CodeInvalidOption,
		`{"edit":` + key + `}`:                                            CodeInvalidOption,
		`{"delete":{"id":"A","participant":"nope"}}`:                      CodeInvalidJID,
		`{"location":{"degreesLatitude":91,"degreesLongitude":0}}`:        CodeInvalidOption,
		`{"location":{"degreesLatitude":"north"}}`:                        CodeInvalidOption,
		`{"poll":{"name":"q","options":["a"]}}`:                           CodeInvalidOption,
		`{"poll":{"name":"q","options":["a","a"]}}`:                       CodeInvalidOption,
		`{"poll":{"name":"","options":["a","b"]}}`:                        CodeInvalidOption,
		`{"poll":{"name":"q","options":["a","b"],"selectableCount":3}}`:   CodeInvalidOption,
		`{"poll":{"name":"q","options":["a","b"],"values":["a","b"]}}`:    CodeInvalidOption,
		`{"raw":{"noSuchField":1}}`:                                       CodeInvalidOption,
		`{"raw":{}}`:                                                      CodeInvalidOption,
		`{"text":"x","mentions":["not a jid"]}`:                           CodeInvalidJID,
		`{"text":"x","mentions":"` + peer + `"}`:                          CodeInvalidOption,
		`{"text":"x","quoted":{"id":"A"}}`:                                CodeInvalidOption,
		`{"image":{}}`:                                                    CodeInvalidOption,
		`{"text":"` + strings.Repeat("x", maxTextRunes+1) + `"}`:          CodeTooLarge,
	} {
		if _, err := c.SendMessage(ctxT(t), peer, []byte(content)); CodeOf(err) != code {
			t.Errorf("%.80s: got %v, want code %s", content, err, code)
		}
	}
	if _, err := c.SendMessage(ctxT(t), "nobody", []byte(`{"text":"x"}`)); CodeOf(err) != CodeInvalidJID {
		t.Fatalf("bad jid: %v", err)
	}
	if _, err := c.SendMessage(ctxT(t), "120363000000000001@g.us", []byte(`{"react":{"key":{"id":"A"},"text":"x"}}`)); CodeOf(err) != CodeInvalidOption {
		t.Fatalf("a group key without participant: %v", err)
	}
}
