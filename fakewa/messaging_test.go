//go:build !js

package fakewa_test

import (
	"context"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wasmeow/wasmeow/fakewa"
)

func textOf(m *events.Message) string {
	if t := m.Message.GetConversation(); t != "" {
		return t
	}
	return m.Message.GetExtendedTextMessage().GetText()
}

func waitText(tc *testClient, text string) *events.Message {
	tc.t.Helper()
	return waitEvent[*events.Message](tc, 10*time.Second, func(m *events.Message) bool { return textOf(m) == text })
}

func waitPhoneText(t *testing.T, srv *fakewa.Server, phone, text string) fakewa.ReceivedMessage {
	t.Helper()
	return waitPhone(t, srv, phone, "text "+text, func(m fakewa.ReceivedMessage) bool { return m.Text == text })
}

// waitPhoneMessage waits until the phone received the message id.
func waitPhoneMessage(t *testing.T, srv *fakewa.Server, phone, id string) fakewa.ReceivedMessage {
	t.Helper()
	return waitPhone(t, srv, phone, "message "+id, func(m fakewa.ReceivedMessage) bool { return m.ID == id })
}

// waitPhone waits until the phone received a message that matches.
func waitPhone(t *testing.T, srv *fakewa.Server, phone, what string, match func(fakewa.ReceivedMessage) bool) fakewa.ReceivedMessage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		msgs, err := srv.Messages(phone)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if match(m) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("phone %s never received %s", phone, what)
	return fakewa.ReceivedMessage{}
}

func sendText(t *testing.T, tc *testClient, to types.JID, text string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := tc.cli.SendMessage(ctx, to, &waE2E.Message{Conversation: proto.String(text)})
	if err != nil {
		t.Fatalf("%s sending %q to %s: %v", tc.name, text, to, err)
	}
	return resp.ID
}

// sameUser says whether j is the account's user, by phone number or LID.
func sameUser(j types.JID, acct fakewa.AccountInfo) bool {
	return j.User == acct.Phone || j.User+"@lid" == acct.LID
}

// sameDevice says whether j names the device dev (a PN JID) in either form.
func sameDevice(j, dev types.JID, acct fakewa.AccountInfo) bool {
	return sameUser(j, acct) && j.Device == dev.Device
}

// Texts both ways between a companion (alice-web) and another account's
// phone and its companion (bob-web, a real whatsmeow client as the peer).
func TestTextsBothWays(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15551110001", "Alice")
	bob := mustAccount(t, srv, "15551110002", "Bob")
	aliceJID := types.NewJID(alice.Phone, types.DefaultUserServer)
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	a1 := newTestClient(t, srv, "alice-web", nil)
	a1ID := pairQR(t, srv, a1, alice.Phone)
	b1 := newTestClient(t, srv, "bob-web", nil)
	b1ID := pairQR(t, srv, b1, bob.Phone)

	// Bob's phone writes to Alice: her companion gets it, Bob's companion a copy.
	id, err := srv.SendText(bob.Phone, alice.Phone, "hi from bob's phone")
	if err != nil {
		t.Fatal(err)
	}
	m := waitText(a1, "hi from bob's phone")
	// LID-addressed as today's service does: the phone number rides along.
	if m.Info.ID != id || m.Info.Sender.String() != bob.LID || m.Info.SenderAlt != bobJID || m.Info.AddressingMode != types.AddressingModeLID ||
		m.Info.IsFromMe || m.Info.PushName != "Bob" {
		t.Fatalf("alice-web got %+v", m.Info)
	}
	m = waitText(b1, "hi from bob's phone")
	if !m.Info.IsFromMe || m.Info.Chat.String() != alice.LID || m.Info.RecipientAlt != aliceJID {
		t.Fatalf("bob-web's copy: %+v", m.Info)
	}

	// Alice's companion answers: Bob's phone and companion get it, and Alice's
	// phone a copy; the sender sees delivery receipts.
	id = sendText(t, a1, bobJID, "hello bob")
	got := waitPhoneText(t, srv, bob.Phone, "hello bob")
	if got.ID != id || got.From != a1ID.String() || got.Chat != aliceJID.String() {
		t.Fatalf("bob's phone got %+v", got)
	}
	m = waitText(b1, "hello bob")
	if !sameDevice(m.Info.Sender, a1ID, alice) || !sameDevice(m.Info.SenderAlt, a1ID, alice) || m.Info.IsFromMe {
		t.Fatalf("bob-web got %+v", m.Info)
	}
	copyOnPhone := waitPhoneText(t, srv, alice.Phone, "hello bob")
	if copyOnPhone.Chat != bobJID.String() {
		t.Fatalf("alice's phone copy %+v", copyOnPhone)
	}
	waitEvent[*events.Receipt](a1, 10*time.Second, func(r *events.Receipt) bool {
		return r.MessageIDs[0] == id && sameUser(r.Sender, bob)
	})

	// Bob's companion writes back twice (the second on the open session).
	for _, text := range []string{"from bob-web 1", "from bob-web 2"} {
		id = sendText(t, b1, aliceJID, text)
		m = waitText(a1, text)
		if m.Info.ID != id || !sameDevice(m.Info.Sender, b1ID, bob) {
			t.Fatalf("alice-web got %+v", m.Info)
		}
		waitPhoneText(t, srv, alice.Phone, text)
	}
	// Read receipts reach every device of the sender.
	if err = a1.cli.MarkRead(context.Background(), []types.MessageID{id}, time.Now(), bobJID, b1ID); err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.Receipt](b1, 10*time.Second, func(r *events.Receipt) bool {
		return r.Type == types.ReceiptTypeRead && r.MessageIDs[0] == id
	})
	// Every stanza gets acknowledged (acks leave asynchronously).
	for i := 0; srv.Queued(a1ID)+srv.Queued(b1ID) != 0; i++ {
		if i == 100 {
			t.Fatalf("%d stanzas still unacknowledged", srv.Queued(a1ID)+srv.Queued(b1ID))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A companion paired after a peer cached the device list still gets the
// peer's next message: the server announces the new device.
func TestNewDeviceReachedAfterCachedList(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15551110011", "Alice")
	bob := mustAccount(t, srv, "15551110012", "Bob")
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)
	b1 := newTestClient(t, srv, "bob-web", nil)
	pairQR(t, srv, b1, bob.Phone)
	sendText(t, a1, bobJID, "first")
	waitText(b1, "first")

	b2 := newTestClient(t, srv, "bob-laptop", nil)
	b2ID := pairQR(t, srv, b2, bob.Phone)
	// Let the devices notification reach alice-web.
	waitQueued(t, srv, types.JID{User: alice.Phone, Device: 1, Server: types.DefaultUserServer}, 0)
	id := sendText(t, a1, bobJID, "second")
	m := waitText(b2, "second")
	if m.Info.ID != id || *b2.cli.Store.ID != b2ID {
		t.Fatalf("bob-laptop got %+v", m.Info)
	}
	waitText(b1, "second")
}

// A companion that lost its session with a phone sends a retry receipt; the
// phone starts a new session and sends the message again.
func TestPhoneAnswersRetryReceipt(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15551110021", "Alice")
	bob := mustAccount(t, srv, "15551110022", "Bob")
	a1 := newTestClient(t, srv, "alice-web", nil)
	a1ID := pairQR(t, srv, a1, alice.Phone)
	if _, err := srv.SendText(bob.Phone, alice.Phone, "before"); err != nil {
		t.Fatal(err)
	}
	waitText(a1, "before")
	// A reply settles the session, so the phone's next message is a plain msg.
	sendText(t, a1, types.NewJID(bob.Phone, types.DefaultUserServer), "reply")
	waitPhoneText(t, srv, bob.Phone, "reply")

	ctx := context.Background()
	bobLID, _ := types.ParseJID(bob.LID)
	for _, jid := range []types.JID{types.NewJID(bob.Phone, types.DefaultUserServer), bobLID} {
		if err := a1.cli.Store.Sessions.DeleteAllSessions(ctx, jid.SignalAddressUser()); err != nil {
			t.Fatal(err)
		}
	}
	id, err := srv.SendText(bob.Phone, a1ID.String(), "after the session was lost")
	if err != nil {
		t.Fatal(err)
	}
	m := waitText(a1, "after the session was lost")
	if m.Info.ID != id {
		t.Fatalf("got %+v", m.Info)
	}
	// Sent to one device only: Alice's phone got neither text.
	msgs, _ := srv.Messages(alice.Phone)
	for _, got := range msgs {
		if got.Text == "after the session was lost" {
			t.Fatal("a message for one device reached the phone too")
		}
	}
	if _, err = srv.SendText(bob.Phone, alice.Phone+":7@s.whatsapp.net", "x"); err == nil {
		t.Fatal("send to a device that does not exist succeeded")
	}
}

func TestUserQueries(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15551110031", "Alice")
	bob := mustAccount(t, srv, "15551110032", "Bob")
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)
	ctx := context.Background()
	res, err := a1.cli.IsOnWhatsApp(ctx, []string{"+" + bob.Phone, "+15559990000"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || !res[0].IsIn || res[0].JID.User != bob.Phone || res[0].Query != "+"+bob.Phone || res[1].IsIn {
		t.Fatalf("IsOnWhatsApp = %+v", res)
	}
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	info, err := a1.cli.GetUserInfo(ctx, []types.JID{bobJID})
	if err != nil {
		t.Fatal(err)
	}
	if got := info[bobJID]; got.LID.String() != bob.LID || len(got.Devices) != 1 {
		t.Fatalf("GetUserInfo = %+v", got)
	}
	devs, err := a1.cli.GetUserDevices(ctx, []types.JID{bobJID, types.NewJID(alice.Phone, types.DefaultUserServer)})
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 3 { // bob's phone, alice's phone and alice-web
		t.Fatalf("GetUserDevices = %v", devs)
	}
}

func TestSendToLID(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15551110041", "Alice")
	bob := mustAccount(t, srv, "15551110042", "Bob")
	a1 := newTestClient(t, srv, "alice-web", nil)
	a1ID := pairQR(t, srv, a1, alice.Phone)
	b1 := newTestClient(t, srv, "bob-web", nil)
	pairQR(t, srv, b1, bob.Phone)
	bobLID, err := types.ParseJID(bob.LID)
	if err != nil {
		t.Fatal(err)
	}
	id := sendText(t, a1, bobLID, "to a LID")
	if got := waitPhoneText(t, srv, bob.Phone, "to a LID"); got.ID != id || got.From != a1ID.String() {
		t.Fatalf("bob's phone got %+v", got)
	}
	waitText(b1, "to a LID")
	// And the phone can be told to write to a LID too.
	if _, err = srv.SendText(bob.Phone, alice.LID, "back to a LID"); err != nil {
		t.Fatal(err)
	}
	waitText(a1, "back to a LID")
}

// Each bundle fetch consumes a one-time prekey; a simulated phone publishes
// more when it runs low, and an unknown device gets an error entry.
func TestPreKeyFetchConsumes(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15551110051", "Alice")
	bob := mustAccount(t, srv, "15551110052", "Bob")
	a1 := newTestClient(t, srv, "alice-web", nil)
	a1ID := pairQR(t, srv, a1, alice.Phone)
	b1 := newTestClient(t, srv, "bob-web", nil)
	pairQR(t, srv, b1, bob.Phone)
	ctx := context.Background()
	in := b1.cli.DangerousInternals()

	before, err := a1.cli.DangerousInternals().GetServerPreKeyCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint32]bool{}
	for i := 0; i < 3; i++ {
		bundles := in.FetchPreKeysNoError(ctx, []types.JID{a1ID})
		b := bundles[a1ID]
		if b == nil || b.PreKeyID().IsEmpty || seen[b.PreKeyID().Value] {
			t.Fatalf("fetch %d: bundle %+v (seen %v)", i, b, seen)
		}
		seen[b.PreKeyID().Value] = true
	}
	after, _ := a1.cli.DangerousInternals().GetServerPreKeyCount(ctx)
	if after != before-3 {
		t.Fatalf("server count %d -> %d after 3 fetches", before, after)
	}

	// Drain Bob's phone (50 published) well past its first batch.
	bobPhone := types.NewJID(bob.Phone, types.DefaultUserServer)
	for i := 0; i < 80; i++ {
		if b := in.FetchPreKeysNoError(ctx, []types.JID{bobPhone})[bobPhone]; b == nil || b.PreKeyID().IsEmpty {
			t.Fatalf("fetch %d of the phone's bundle had no one-time prekey", i)
		}
	}
	unknown := types.JID{User: bob.Phone, Device: 9, Server: types.DefaultUserServer}
	resp, err := in.FetchPreKeys(ctx, []types.JID{unknown})
	if err != nil || len(resp) != 1 {
		t.Fatalf("fetch of an unknown device: %v %v", resp, err)
	}
	if bundles := in.FetchPreKeysNoError(ctx, []types.JID{unknown}); bundles[unknown] != nil {
		t.Fatal("unknown device got a bundle")
	}
	// A session from a fetched bundle still works end to end.
	sendText(t, b1, types.NewJID(alice.Phone, types.DefaultUserServer), "after the fetches")
	waitText(a1, "after the fetches")
}

// The phone's LID migration sync switches a companion to LIDs; with
// PNAddressing the old behaviour stays: phone numbers with sender_lid.
func TestLIDMigrationAndPNSwitch(t *testing.T) {
	for _, pn := range []bool{false, true} {
		srv := newServer(t, fakewa.Config{Settings: fakewa.Settings{PNAddressing: pn}})
		alice := mustAccount(t, srv, "15551110061", "Alice")
		bob := mustAccount(t, srv, "15551110062", "Bob")
		bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
		if _, err := srv.SendText(bob.Phone, alice.Phone, "a chat before pairing"); err != nil {
			t.Fatal(err)
		}
		a1 := newTestClient(t, srv, "alice-web", nil)
		pairQR(t, srv, a1, alice.Phone)
		if migrated := a1.cli.Store.LIDMigrationTimestamp > 0; migrated == pn {
			t.Fatalf("pnAddressing=%v: LID migration timestamp %d", pn, a1.cli.Store.LIDMigrationTimestamp)
		}
		if lid, err := a1.cli.Store.LIDs.GetLIDForPN(context.Background(), bobJID); !pn && (err != nil || lid.String() != bob.LID) {
			t.Fatalf("mapping of bob from the migration sync: %v %v", lid, err)
		}
		if _, err := srv.SendText(bob.Phone, alice.Phone, "hi"); err != nil {
			t.Fatal(err)
		}
		m := waitText(a1, "hi")
		want, alt := bob.LID, bobJID.String()
		if pn {
			want, alt = bobJID.String(), bob.LID
		}
		if m.Info.Sender.String() != want || m.Info.SenderAlt.String() != alt {
			t.Fatalf("pnAddressing=%v: sender %s alt %s", pn, m.Info.Sender, m.Info.SenderAlt)
		}
		sendText(t, a1, bobJID, "reply")
		waitPhoneText(t, srv, bob.Phone, "reply")
	}
}
