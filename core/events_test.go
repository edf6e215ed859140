//go:build !js

package core

import (
	"encoding/json"
	"slices"
	"testing"
)

// The JSON of each event is the payload the page gets: these are the field
// names (and nulls) of today's API, as wasmeow.d.ts types them.
func TestEventPayloadsKeepThePagesFieldNames(t *testing.T) {
	lid := "1@lid"
	for _, c := range []struct {
		event Event
		want  string
	}{
		{QR{Code: "c", TimeoutMs: 60000}, `{"code":"c","timeoutMs":60000}`},
		{PairingCode{Code: "ABCD-EFGH", Phone: "15550000001"}, `{"code":"ABCD-EFGH","phone":"15550000001"}`},
		{Authenticated{Me: strPtr("1@s.whatsapp.net"), Method: "stored"}, `{"me":"1@s.whatsapp.net","lid":null,"platform":"","businessName":"","method":"stored"}`},
		{AuthFailure{Reason: AuthQRTimeout, Message: "m"}, `{"reason":"qr_timeout","message":"m"}`},
		{AuthFailure{Reason: AuthClientOutdated, Message: "m", Version: "2.3000.1"}, `{"reason":"client_outdated","message":"m","version":"2.3000.1"}`},
		{Ready{}, `{"me":null}`},
		{CredsUpdate{Changed: []string{"me"}, Creds: Creds{LID: &lid}}, `{"changed":["me"],"creds":{"me":null,"lid":"1@lid","platform":"","pushName":"","businessName":"","registered":false}}`},
		{Disconnected{Reason: DisconnectClient}, `{"reason":"client"}`},
		{Disconnected{Reason: DisconnectReplaced, Message: "m"}, `{"reason":"replaced","message":"m"}`},
		{Reconnecting{Attempt: 2, DelayMs: 1000}, `{"attempt":2,"delayMs":1000}`},
		{LoggedOut{Reason: LoggedOutLogout}, `{"reason":"logout"}`},
		{Message{ID: "i", Chat: "c", Sender: "s", SenderAlt: &lid, AddressingMode: "lid", Time: 5,
			MessageContent: MessageContent{Type: MsgText, Key: MessageKey{RemoteJID: "c", ID: "i"}, Raw: []byte(`{"conversation":""}`)}},
			`{"id":"i","chat":"c","chatAlt":null,"sender":"s","senderAlt":"1@lid","addressingMode":"lid","fromMe":false,"redelivered":false,"isGroup":false,"pushName":"","text":"","time":5,` +
				`"type":"text","key":{"remoteJid":"c","fromMe":false,"id":"i"},"raw":{"conversation":""}}`},
		{Message{MessageContent: MessageContent{Type: MsgReaction, Key: MessageKey{RemoteJID: "g", ID: "i", Participant: "p"}, Reaction: &Reaction{Key: MessageKey{ID: "t"}, Text: "x"}, Raw: []byte(`{}`)}},
			`{"id":"","chat":"","chatAlt":null,"sender":"","senderAlt":null,"addressingMode":"","fromMe":false,"redelivered":false,"isGroup":false,"pushName":"","text":"","time":0,` +
				`"type":"reaction","key":{"remoteJid":"g","fromMe":false,"id":"i","participant":"p"},"reaction":{"key":{"remoteJid":"","fromMe":false,"id":"t"},"text":"x"},"raw":{}}`},
		{Receipt{Type: ReceiptRead, IDs: []string{"a"}, Chat: "c", Reader: "r", Time: 1},
			`{"type":"read","ids":["a"],"chat":"c","chatAlt":null,"reader":"r","readerAlt":null,"fromMe":false,"isGroup":false,"time":1}`},
		{Presence{JID: "j", Available: true}, `{"jid":"j","available":true,"lastSeen":null}`},
		{ChatPresence{Chat: "c", Sender: "s", State: ChatRecording}, `{"chat":"c","sender":"s","state":"recording"}`},
		{GroupUpdate{JID: "g", Time: 1, Added: []string{"a"}}, `{"jid":"g","author":null,"time":1,"added":["a"]}`},
		{RemoteSessionSaved{Session: "s", Bytes: 1, Records: 2, SavedAt: 3, Format: "f", Version: 1}, `{"session":"s","bytes":1,"records":2,"savedAt":3,"format":"f","version":1}`},
	} {
		got, err := json.Marshal(c.event)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %s (%v), want %s", c.event.EventName(), got, err, c.want)
		}
	}
}

func TestCredsChangedNamesEachChangedField(t *testing.T) {
	me, lid := "1@s.whatsapp.net", "2@lid"
	paired := Creds{Me: &me, LID: &lid, Platform: "android", PushName: "Ann", Registered: true}
	if got := paired.changedFrom(Creds{}); !slices.Equal(got, []string{"me", "lid", "platform", "pushName", "registered"}) {
		t.Fatalf("pairing changed %v", got)
	}
	renamed := paired
	renamed.PushName = "Anna"
	if got := renamed.changedFrom(paired); !slices.Equal(got, []string{"pushName"}) {
		t.Fatalf("a new push name changed %v", got)
	}
	same := me
	copyOf := paired
	copyOf.Me = &same // another pointer, the same value
	if got := copyOf.changedFrom(paired); len(got) != 0 {
		t.Fatalf("an equal view changed %v", got)
	}
	empty := ""
	if got := (Creds{Me: &empty}).changedFrom(Creds{}); !slices.Equal(got, []string{"me"}) {
		t.Fatalf(`"" against null changed %v`, got)
	}
}
