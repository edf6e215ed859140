//go:build !js

package fakewa_test

import (
	"slices"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

// A phone reads and plays what it received: the author's whatsmeow gets
// events.Receipt read and played with the ids and the reader, 1:1 and in a
// group (with the participant); the phone's own companion gets each as
// IsFromMe with the chat (and, in a group, the author); read-self reaches
// only the companion.
func TestPhoneReadAndPlayedReceipts(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220071", "Alice")
	bob := newMember(t, srv, "15552220072", "Bob")
	carol := mustAccount(t, srv, "15552220073", "Carol") // a phone only

	one := sendText(t, alice.tc, types.NewJID(carol.Phone, types.DefaultUserServer), "one")
	two := sendText(t, alice.tc, types.NewJID(carol.Phone, types.DefaultUserServer), "two")
	waitPhoneText(t, srv, carol.Phone, "two")
	fromCarol := func(typ types.ReceiptType, chat types.JID, ids ...string) func(*events.Receipt) bool {
		return func(r *events.Receipt) bool {
			return r.Type == typ && sameUser(r.Sender, carol) && !r.IsFromMe && slices.Equal(r.MessageIDs, ids) &&
				(chat.IsEmpty() && sameUser(r.Chat, carol) || r.Chat == chat)
		}
	}
	if n, err := srv.MarkRead(carol.Phone, []string{one, two}, "read"); err != nil || n != 1 {
		t.Fatalf("MarkRead: %d receipts, %v", n, err)
	}
	waitEvent(alice.tc, 10*time.Second, fromCarol(types.ReceiptTypeRead, types.EmptyJID, one, two))
	if _, err := srv.MarkRead(carol.Phone, []string{two}, "played"); err != nil {
		t.Fatal(err)
	}
	waitEvent(alice.tc, 10*time.Second, fromCarol(types.ReceiptTypePlayed, types.EmptyJID, two))

	// Bob's phone reads Alice's message: read-self tells only Bob's
	// companion, read tells both.
	hi := sendText(t, alice.tc, bob.jid(), "hi bob")
	waitText(bob.tc, "hi bob")
	waitPhoneText(t, srv, bob.acct.Phone, "hi bob")
	fromBobsPhone := func(typ types.ReceiptType) func(*events.Receipt) bool {
		return func(r *events.Receipt) bool {
			return r.Type == typ && r.IsFromMe && sameUser(r.Sender, bob.acct) && r.Sender.Device == 0 && sameUser(r.Chat, alice.acct) && slices.Equal(r.MessageIDs, []string{hi})
		}
	}
	if _, err := srv.MarkRead(bob.acct.Phone, []string{hi}, "read-self"); err != nil {
		t.Fatal(err)
	}
	waitEvent(bob.tc, 10*time.Second, fromBobsPhone(types.ReceiptTypeReadSelf))
	if _, err := srv.MarkRead(bob.acct.Phone, []string{hi}, "read"); err != nil {
		t.Fatal(err)
	}
	waitEvent(bob.tc, 10*time.Second, fromBobsPhone(types.ReceiptTypeRead))
	r := waitEvent(alice.tc, 10*time.Second, func(r *events.Receipt) bool {
		return r.Type == types.ReceiptTypeRead || r.Type == types.ReceiptTypeReadSelf
	})
	if r.Type != types.ReceiptTypeRead || !sameUser(r.Sender, bob.acct) || r.MessageIDs[0] != hi {
		t.Fatalf("alice's first receipt after bob's phone read: %+v (read-self must not reach her)", r)
	}

	// In a group: the reader is the participant; Bob's companion hears of
	// his phone's read with the author.
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Reads", Participants: []types.JID{bob.jid(), types.NewJID(carol.Phone, types.DefaultUserServer)}})
	if err != nil {
		t.Fatal(err)
	}
	g := sendText(t, alice.tc, info.JID, "group read me")
	waitGroupText(t, bob, info.JID, alice, "group read me")
	waitPhoneText(t, srv, carol.Phone, "group read me")
	waitPhoneText(t, srv, bob.acct.Phone, "group read me")
	for _, typ := range []types.ReceiptType{types.ReceiptTypeRead, types.ReceiptTypePlayed} {
		if _, err := srv.MarkRead(carol.Phone, []string{g}, string(typ)); err != nil {
			t.Fatal(err)
		}
		waitEvent(alice.tc, 10*time.Second, fromCarol(typ, info.JID, g))
	}
	if _, err := srv.MarkRead(bob.acct.Phone, []string{g}, "read"); err != nil {
		t.Fatal(err)
	}
	waitEvent(bob.tc, 10*time.Second, func(r *events.Receipt) bool {
		return r.Type == types.ReceiptTypeRead && r.IsFromMe && r.Chat == info.JID && sameUser(r.MessageSender, alice.acct) && r.MessageIDs[0] == g
	})

	// What the phone never received, and unknown types, are refused.
	if _, err := srv.MarkRead(carol.Phone, []string{"3EB0NOSUCHID"}, "read"); err == nil {
		t.Fatal("a receipt for a message the phone never got was sent")
	}
	if _, err := srv.MarkRead(carol.Phone, []string{g}, "seen"); err == nil {
		t.Fatal("receipt type seen accepted")
	}
}
