//go:build !js

package fakewa_test

import (
	"errors"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

// Presence, chat states, receipts and profile pictures reach the peer:
// events.Presence after SubscribePresence and each change, events.ChatPresence
// 1:1 and in a group, events.Receipt for delivered, read and played group
// messages.
func TestReceiptsAndPresence(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220031", "Alice")
	bob := newMember(t, srv, "15552220032", "Bob")
	bob.tc.cli.Store.PushName = "Bob"

	// Subscribing answers with bob's presence at once: offline so far.
	if err := alice.tc.cli.SubscribePresence(ctx10(t), bob.jid()); err != nil {
		t.Fatal(err)
	}
	p := waitEvent[*events.Presence](alice.tc, 10*time.Second, nil)
	if p.From != bob.jid() || !p.Unavailable {
		t.Fatalf("first presence %+v, want bob unavailable", p)
	}
	if err := bob.tc.cli.SendPresence(ctx10(t), types.PresenceAvailable); err != nil {
		t.Fatal(err)
	}
	p = waitEvent[*events.Presence](alice.tc, 10*time.Second, nil)
	if p.From != bob.jid() || p.Unavailable {
		t.Fatalf("presence after bob came online %+v", p)
	}
	if err := bob.tc.cli.SendPresence(ctx10(t), types.PresenceUnavailable); err != nil {
		t.Fatal(err)
	}
	p = waitEvent[*events.Presence](alice.tc, 10*time.Second, nil)
	if !p.Unavailable || time.Since(p.LastSeen) > time.Minute {
		t.Fatalf("presence after bob left %+v, want unavailable with a last seen", p)
	}

	// Typing and recording, 1:1.
	if err := bob.tc.cli.SendChatPresence(ctx10(t), alice.jid(), types.ChatPresenceComposing, types.ChatPresenceMediaAudio); err != nil {
		t.Fatal(err)
	}
	cp := waitEvent[*events.ChatPresence](alice.tc, 10*time.Second, nil)
	if cp.State != types.ChatPresenceComposing || cp.Media != types.ChatPresenceMediaAudio || !sameUser(cp.Sender, bob.acct) || cp.IsGroup {
		t.Fatalf("chat presence %+v", cp)
	}

	// In a group: chat state and receipts carry the participant.
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Receipts", Participants: []types.JID{bob.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	group := info.JID
	if err = alice.tc.cli.SendChatPresence(ctx10(t), group, types.ChatPresencePaused, ""); err != nil {
		t.Fatal(err)
	}
	cp = waitEvent[*events.ChatPresence](bob.tc, 10*time.Second, nil)
	if cp.State != types.ChatPresencePaused || cp.Chat != group || !sameUser(cp.Sender, alice.acct) {
		t.Fatalf("group chat presence %+v", cp)
	}
	id := sendText(t, bob.tc, group, "read me")
	m := waitGroupText(t, alice, group, bob, "read me")
	isGroupReceipt := func(typ types.ReceiptType) func(r *events.Receipt) bool {
		return func(r *events.Receipt) bool {
			return r.Type == typ && r.Chat == group && r.MessageIDs[0] == id && sameUser(r.Sender, alice.acct)
		}
	}
	waitEvent[*events.Receipt](bob.tc, 10*time.Second, isGroupReceipt(types.ReceiptTypeDelivered))
	if err = alice.tc.cli.MarkRead(ctx10(t), []types.MessageID{id}, time.Now(), group, m.Info.Sender); err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.Receipt](bob.tc, 10*time.Second, isGroupReceipt(types.ReceiptTypeRead))
	if err = alice.tc.cli.MarkRead(ctx10(t), []types.MessageID{id}, time.Now(), group, m.Info.Sender, types.ReceiptTypePlayed); err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.Receipt](bob.tc, 10*time.Second, isGroupReceipt(types.ReceiptTypePlayed))

	// Nobody in fakewa has a profile picture: the service's 404.
	if _, err = alice.tc.cli.GetProfilePictureInfo(ctx10(t), bob.jid(), nil); !errors.Is(err, whatsmeow.ErrProfilePictureNotSet) {
		t.Fatalf("profile picture: %v", err)
	}
}

// A device whose socket closes goes offline for its watchers, with a last
// seen time.
func TestPresenceOfflineOnDisconnect(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220051", "Alice")
	bob := newMember(t, srv, "15552220052", "Bob")
	bob.tc.cli.Store.PushName = "Bob"
	if err := bob.tc.cli.SendPresence(ctx10(t), types.PresenceAvailable); err != nil {
		t.Fatal(err)
	}
	if err := alice.tc.cli.SubscribePresence(ctx10(t), bob.jid()); err != nil {
		t.Fatal(err)
	}
	// Bob's available and Alice's subscription race on their two sockets:
	// an unavailable answer may come first, then the change.
	waitEvent[*events.Presence](alice.tc, 10*time.Second, func(p *events.Presence) bool { return !p.Unavailable && p.From == bob.jid() })
	bob.tc.cli.Disconnect()
	if p := waitEvent[*events.Presence](alice.tc, 10*time.Second, nil); !p.Unavailable || p.LastSeen.IsZero() {
		t.Fatalf("bob disconnected, presence %+v", p)
	}
}
