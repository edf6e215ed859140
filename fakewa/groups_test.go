//go:build !js

package fakewa_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

// member is one account of a group test with its paired companion.
type member struct {
	acct fakewa.AccountInfo
	tc   *testClient
	dev  types.JID
}

func (m member) jid() types.JID { return types.NewJID(m.acct.Phone, types.DefaultUserServer) }

func newMember(t *testing.T, srv *fakewa.Server, phone, name string) member {
	t.Helper()
	acct := mustAccount(t, srv, phone, name)
	tc := newTestClient(t, srv, name+"-web", nil)
	return member{acct: acct, tc: tc, dev: pairQR(t, srv, tc, phone)}
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitGroupText waits for a group message with the text, checks its chat and
// sender, and returns it.
func waitGroupText(t *testing.T, m member, group types.JID, from member, text string) *events.Message {
	t.Helper()
	msg := waitText(m.tc, text)
	if msg.Info.Chat != group || !msg.Info.IsGroup || !sameUser(msg.Info.Sender, from.acct) || msg.Info.IsFromMe {
		t.Fatalf("%s got %q with %+v, want chat %s from %s", m.tc.name, text, msg.Info.MessageSource, group, from.acct.Phone)
	}
	return msg
}

// noText fails if the client gets a message with the text within the wait.
func noText(t *testing.T, tc *testClient, text string, wait time.Duration) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case evt := <-tc.events:
			if m, ok := evt.(*events.Message); ok && textOf(m) == text {
				t.Fatalf("%s got %q, which it must not", tc.name, text)
			}
			if u, ok := evt.(*events.UndecryptableMessage); ok {
				t.Fatalf("%s got an undecryptable message %s (it should get nothing)", tc.name, u.Info.ID)
			}
		case <-deadline:
			return
		}
	}
}

// A group of three companions: create, info and joined groups, a message from
// each reaches the two others, an added member reads the next message, a
// removed one gets nothing more, and every change arrives as events.GroupInfo.
func TestGroupLifecycle(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220001", "Alice")
	bob := newMember(t, srv, "15552220002", "Bob")
	carol := newMember(t, srv, "15552220003", "Carol")
	dave := newMember(t, srv, "15552220004", "Dave")

	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Three", Participants: []types.JID{bob.jid(), carol.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "Three" || len(info.Participants) != 3 || info.AddressingMode != types.AddressingModeLID || info.JID.Server != types.GroupServer {
		t.Fatalf("created %+v", info)
	}
	for _, p := range info.Participants {
		if p.LID.IsEmpty() || p.PhoneNumber.IsEmpty() || (p.PhoneNumber.User == alice.acct.Phone) != p.IsSuperAdmin {
			t.Fatalf("participant %+v: want LID and phone number, Alice the superadmin", p)
		}
	}
	group := info.JID
	for _, m := range []member{bob, carol} {
		j := waitEvent[*events.JoinedGroup](m.tc, 10*time.Second, func(e *events.JoinedGroup) bool { return e.JID == group })
		if j.Name != "Three" || len(j.Participants) != 3 {
			t.Fatalf("%s joined %+v", m.tc.name, j.GroupInfo)
		}
	}
	joined, err := carol.tc.cli.GetJoinedGroups(ctx10(t))
	if err != nil || len(joined) != 1 || joined[0].JID != group {
		t.Fatalf("carol's joined groups %v, %v", joined, err)
	}
	if _, err = dave.tc.cli.GetGroupInfo(ctx10(t), group); !errors.Is(err, whatsmeow.ErrNotInGroup) {
		t.Fatalf("dave, no member, asking for the group: %v", err)
	}

	// A message from each reaches the two others (twice: the second on the
	// sender keys the first distributed).
	all := []member{alice, bob, carol}
	for round := 0; round < 2; round++ {
		for _, from := range all {
			text := from.tc.name + " says hello " + string(rune('A'+round))
			sendText(t, from.tc, group, text)
			for _, to := range all {
				if to.tc != from.tc {
					waitGroupText(t, to, group, from, text)
				}
			}
		}
	}

	// Names and topics reach every member as events.GroupInfo.
	if err = bob.tc.cli.SetGroupName(ctx10(t), group, "Renamed"); err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		e := waitEvent[*events.GroupInfo](m.tc, 10*time.Second, func(e *events.GroupInfo) bool { return e.Name != nil })
		if e.JID != group || e.Name.Name != "Renamed" || e.Sender == nil || !sameUser(*e.Sender, bob.acct) {
			t.Fatalf("%s: name change %+v", m.tc.name, e)
		}
	}
	if err = carol.tc.cli.SetGroupTopic(ctx10(t), group, "", "", "about things"); err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		e := waitEvent[*events.GroupInfo](m.tc, 10*time.Second, func(e *events.GroupInfo) bool { return e.Topic != nil })
		if e.Topic.Topic != "about things" || e.Topic.TopicID == "" {
			t.Fatalf("%s: topic change %+v", m.tc.name, e.Topic)
		}
	}
	got, err := bob.tc.cli.GetGroupInfo(ctx10(t), group)
	if err != nil || got.Name != "Renamed" || got.Topic != "about things" || !sameUser(got.TopicSetBy, carol.acct) {
		t.Fatalf("info after changes: %+v, %v", got, err)
	}
	// A stale previous topic id is a conflict, as the service checks it.
	if err = carol.tc.cli.SetGroupTopic(ctx10(t), group, "stale", "", "again"); !errors.Is(err, &whatsmeow.IQError{Code: 409, Text: "conflict"}) {
		t.Fatalf("topic with a stale previous id: %v", err)
	}

	// Only admins change participants.
	if _, err = bob.tc.cli.UpdateGroupParticipants(ctx10(t), group, []types.JID{dave.jid()}, whatsmeow.ParticipantChangeAdd); !errors.Is(err, whatsmeow.ErrIQNotAuthorized) {
		t.Fatalf("bob, no admin, adding: %v", err)
	}
	res, err := alice.tc.cli.UpdateGroupParticipants(ctx10(t), group, []types.JID{dave.jid(), bob.jid()}, whatsmeow.ParticipantChangeAdd)
	if err != nil || len(res) != 2 || res[0].Error != 0 || res[1].Error != 409 {
		t.Fatalf("adding dave and bob again: %+v, %v", res, err)
	}
	for _, m := range append(all, dave) {
		e := waitEvent[*events.GroupInfo](m.tc, 10*time.Second, func(e *events.GroupInfo) bool { return len(e.Join) > 0 })
		if len(e.Join) != 1 || !sameUser(e.Join[0], dave.acct) {
			t.Fatalf("%s: join %+v", m.tc.name, e.Join)
		}
	}
	all = append(all, dave)
	sendText(t, carol.tc, group, "welcome dave")
	for _, m := range []member{alice, bob, dave} {
		waitGroupText(t, m, group, carol, "welcome dave")
	}
	sendText(t, dave.tc, group, "thanks, dave here")
	for _, m := range []member{alice, bob, carol} {
		waitGroupText(t, m, group, dave, "thanks, dave here")
	}

	// Bob is removed: he hears of it, then nothing more.
	if _, err = alice.tc.cli.UpdateGroupParticipants(ctx10(t), group, []types.JID{bob.jid()}, whatsmeow.ParticipantChangeRemove); err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		e := waitEvent[*events.GroupInfo](m.tc, 10*time.Second, func(e *events.GroupInfo) bool { return len(e.Leave) > 0 })
		if !sameUser(e.Leave[0], bob.acct) {
			t.Fatalf("%s: leave %+v", m.tc.name, e.Leave)
		}
	}
	sendText(t, carol.tc, group, "bob is gone")
	for _, m := range []member{alice, dave} {
		waitGroupText(t, m, group, carol, "bob is gone")
	}
	noText(t, bob.tc, "bob is gone", 500*time.Millisecond)
	if _, err = bob.tc.cli.SendMessage(ctx10(t), group, textMessage("let me in")); err == nil {
		t.Fatal("bob, removed, could still send to the group")
	}

	// Promote, then Dave leaves by himself.
	if _, err = alice.tc.cli.UpdateGroupParticipants(ctx10(t), group, []types.JID{carol.jid()}, whatsmeow.ParticipantChangePromote); err != nil {
		t.Fatal(err)
	}
	e := waitEvent[*events.GroupInfo](dave.tc, 10*time.Second, func(e *events.GroupInfo) bool { return len(e.Promote) > 0 })
	if !sameUser(e.Promote[0], carol.acct) {
		t.Fatalf("promote %+v", e.Promote)
	}
	if err = dave.tc.cli.LeaveGroup(ctx10(t), group); err != nil {
		t.Fatal(err)
	}
	e = waitEvent[*events.GroupInfo](carol.tc, 10*time.Second, func(e *events.GroupInfo) bool { return len(e.Leave) > 0 })
	if !sameUser(e.Leave[0], dave.acct) || e.Sender == nil || !sameUser(*e.Sender, dave.acct) {
		t.Fatalf("dave leaving: %+v", e)
	}
	got, err = carol.tc.cli.GetGroupInfo(ctx10(t), group)
	if err != nil || len(got.Participants) != 2 {
		t.Fatalf("after dave left: %+v, %v", got, err)
	}
}

// Invite links: only admins get one, a member joins by it, a reset link
// is revoked.
func TestGroupInviteLink(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220011", "Alice")
	bob := newMember(t, srv, "15552220012", "Bob")
	carol := newMember(t, srv, "15552220013", "Carol")
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Linked", Participants: []types.JID{bob.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = bob.tc.cli.GetGroupInviteLink(ctx10(t), info.JID, false); !errors.Is(err, whatsmeow.ErrGroupInviteLinkUnauthorized) {
		t.Fatalf("bob, no admin, asking for the link: %v", err)
	}
	link, err := alice.tc.cli.GetGroupInviteLink(ctx10(t), info.JID, false)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := alice.tc.cli.GetGroupInviteLink(ctx10(t), info.JID, false); again != link {
		t.Fatalf("link changed without a reset: %s then %s", link, again)
	}
	preview, err := carol.tc.cli.GetGroupInfoFromLink(ctx10(t), link)
	if err != nil || preview.JID != info.JID || preview.Name != "Linked" {
		t.Fatalf("link preview %+v, %v", preview, err)
	}
	jid, err := carol.tc.cli.JoinGroupWithLink(ctx10(t), link)
	if err != nil || jid != info.JID {
		t.Fatalf("joining by link: %s, %v", jid, err)
	}
	e := waitEvent[*events.GroupInfo](bob.tc, 10*time.Second, func(e *events.GroupInfo) bool { return len(e.Join) > 0 })
	if e.JoinReason != "invite" || !sameUser(e.Join[0], carol.acct) {
		t.Fatalf("join by link seen as %+v", e)
	}
	newLink, err := alice.tc.cli.GetGroupInviteLink(ctx10(t), info.JID, true)
	if err != nil || newLink == link {
		t.Fatalf("reset link: %s, %v", newLink, err)
	}
	if _, err = carol.tc.cli.JoinGroupWithLink(ctx10(t), link); !errors.Is(err, whatsmeow.ErrInviteLinkRevoked) {
		t.Fatalf("joining by a revoked link: %v", err)
	}
	if _, err = carol.tc.cli.GetGroupInfoFromLink(ctx10(t), "https://chat.whatsapp.com/nonsense"); !errors.Is(err, whatsmeow.ErrInviteLinkInvalid) {
		t.Fatalf("an unknown link: %v", err)
	}
}

// waitPhoneGroupText waits until the phone received the text in the group.
func waitPhoneGroupText(t *testing.T, srv *fakewa.Server, phone string, group types.JID, from types.JID, text string) {
	t.Helper()
	got := waitPhoneText(t, srv, phone, text)
	if got.Chat != group.String() || got.From != from.String() {
		t.Fatalf("phone %s got %+v, want chat %s from %s", phone, got, group, from)
	}
}

// Simulated phones in groups: a phone-only account reads and writes in a
// group of companions, and a phone creates a group, adds and removes members;
// after a removal its new sender key reaches the others and not the one
// removed.
func TestPhoneInGroup(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220021", "Alice")
	carol := newMember(t, srv, "15552220023", "Carol")
	bob := mustAccount(t, srv, "15552220022", "Bob") // the phone alone
	bobPhone := types.NewJID(bob.Phone, types.DefaultUserServer)
	bobMember := member{acct: bob}

	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "With a phone", Participants: []types.JID{bobPhone, carol.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	group := info.JID
	sendText(t, alice.tc, group, "hello phone")
	waitPhoneGroupText(t, srv, bob.Phone, group, alice.dev, "hello phone")
	waitGroupText(t, carol, group, alice, "hello phone")
	// The phone's delivery receipt reaches the sender.
	waitEvent[*events.Receipt](alice.tc, 10*time.Second, func(r *events.Receipt) bool {
		return r.Chat == group && sameUser(r.Sender, bob)
	})
	for _, text := range []string{"phone answers", "phone again"} {
		if _, err = srv.SendGroupText(bob.Phone, group.String(), text); err != nil {
			t.Fatal(err)
		}
		waitGroupText(t, alice, group, bobMember, text)
		waitGroupText(t, carol, group, bobMember, text)
	}

	// Bob's phone makes its own group and manages it.
	g2, err := srv.CreateGroup(bob.Phone, "Phone's group", []string{alice.acct.Phone})
	if err != nil {
		t.Fatal(err)
	}
	g2JID, _ := types.ParseJID(g2.JID)
	j := waitEvent[*events.JoinedGroup](alice.tc, 10*time.Second, func(e *events.JoinedGroup) bool { return e.JID == g2JID })
	if j.Name != "Phone's group" || len(j.Participants) != 2 {
		t.Fatalf("alice joined %+v", j.GroupInfo)
	}
	res, err := srv.UpdateGroupParticipants(bob.Phone, g2.JID, "add", []string{carol.acct.Phone, "15559999999"})
	if err != nil || len(res) != 2 || res[0].Error != 0 || res[1].Error != 404 {
		t.Fatalf("phone adding carol and a stranger: %+v, %v", res, err)
	}
	waitEvent[*events.GroupInfo](carol.tc, 10*time.Second, func(e *events.GroupInfo) bool { return e.JID == g2JID && len(e.Join) > 0 })
	if _, err = srv.SendGroupText(bob.Phone, g2.JID, "all three of us"); err != nil {
		t.Fatal(err)
	}
	waitGroupText(t, alice, g2JID, bobMember, "all three of us")
	waitGroupText(t, carol, g2JID, bobMember, "all three of us")
	sendText(t, carol.tc, g2JID, "carol in the phone's group")
	waitPhoneGroupText(t, srv, bob.Phone, g2JID, carol.dev, "carol in the phone's group")

	if _, err = srv.UpdateGroupParticipants(bob.Phone, g2.JID, "remove", []string{carol.acct.Phone}); err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.GroupInfo](carol.tc, 10*time.Second, func(e *events.GroupInfo) bool { return e.JID == g2JID && len(e.Leave) > 0 })
	if _, err = srv.SendGroupText(bob.Phone, g2.JID, "carol has gone"); err != nil {
		t.Fatal(err)
	}
	waitGroupText(t, alice, g2JID, bobMember, "carol has gone")
	noText(t, carol.tc, "carol has gone", 500*time.Millisecond)
	if _, err = srv.SendGroupText(carol.acct.Phone, g2.JID, "carol's phone tries"); err == nil {
		t.Fatal("carol's phone, no member, sent to the group")
	}
	groups, err := srv.Groups(alice.acct.Phone)
	if err != nil || len(groups) != 2 {
		t.Fatalf("alice's groups %+v, %v", groups, err)
	}
}

// spoilSenderKey makes a client's stored sender key of a device in a group
// unreadable, so its next message from that device fails to decrypt.
func spoilSenderKey(t *testing.T, tc *testClient, group types.JID, lid string, device uint16) {
	t.Helper()
	sender, err := types.ParseJID(lid)
	if err != nil {
		t.Fatal(err)
	}
	sender.Device = device
	if err = tc.cli.Store.SenderKeys.PutSenderKey(ctx10(t), group.String(), sender.SignalAddress().String(), []byte{0xff}); err != nil {
		t.Fatal(err)
	}
}

// A member that cannot decrypt a group message sends a retry receipt; it
// reaches the sending device (a companion or a phone), which sends the
// message again 1:1 to that member alone, with its sender key inside.
func TestGroupRetryReceipts(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220041", "Alice")
	carol := newMember(t, srv, "15552220043", "Carol")
	bob := mustAccount(t, srv, "15552220042", "Bob")
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Retries", Participants: []types.JID{carol.jid(), types.NewJID(bob.Phone, types.DefaultUserServer)}})
	if err != nil {
		t.Fatal(err)
	}
	group := info.JID
	sendText(t, alice.tc, group, "key goes out")
	waitGroupText(t, carol, group, alice, "key goes out")
	if _, err = srv.SendGroupText(bob.Phone, group.String(), "phone key goes out"); err != nil {
		t.Fatal(err)
	}
	waitGroupText(t, carol, group, member{acct: bob}, "phone key goes out")

	// Carol's copy of each sender's key is spoilt: each next message from
	// them fails to decrypt, and arrives anyway, sent again after her retry
	// receipt reached the sending device.
	spoilSenderKey(t, carol.tc, group, alice.acct.LID, alice.dev.Device)
	id := sendText(t, alice.tc, group, "after a lost key")
	waitEvent[*events.UndecryptableMessage](carol.tc, 10*time.Second, func(u *events.UndecryptableMessage) bool { return u.Info.ID == id })
	if m := waitGroupText(t, carol, group, alice, "after a lost key"); m.Info.ID != id {
		t.Fatalf("resent message has id %s, want %s", m.Info.ID, id)
	}
	waitPhoneText(t, srv, bob.Phone, "after a lost key")

	spoilSenderKey(t, carol.tc, group, bob.LID, 0)
	if id, err = srv.SendGroupText(bob.Phone, group.String(), "phone after a lost key"); err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.UndecryptableMessage](carol.tc, 10*time.Second, func(u *events.UndecryptableMessage) bool { return u.Info.ID == id })
	if m := waitGroupText(t, carol, group, member{acct: bob}, "phone after a lost key"); m.Info.ID != id {
		t.Fatalf("resent message has id %s, want %s", m.Info.ID, id)
	}
	waitGroupText(t, alice, group, member{acct: bob}, "phone after a lost key")
	noText(t, alice.tc, "phone after a lost key", 300*time.Millisecond) // the resend went to carol alone
}

// With PNAddressing a new group is PN-addressed: members by phone number with
// their LID beside, messages with participant the phone number device.
func TestGroupPNAddressing(t *testing.T) {
	srv := newServer(t, fakewa.Config{Settings: fakewa.Settings{PNAddressing: true}})
	alice := newMember(t, srv, "15552220081", "Alice")
	bob := newMember(t, srv, "15552220082", "Bob")
	carol := mustAccount(t, srv, "15552220083", "Carol")
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Old style", Participants: []types.JID{bob.jid(), types.NewJID(carol.Phone, types.DefaultUserServer)}})
	if err != nil {
		t.Fatal(err)
	}
	if info.AddressingMode != types.AddressingModePN {
		t.Fatalf("addressing %q, want pn", info.AddressingMode)
	}
	for _, p := range info.Participants {
		if p.JID.Server != types.DefaultUserServer || p.LID.Server != types.HiddenUserServer {
			t.Fatalf("participant %+v: want a phone number JID with its LID", p)
		}
	}
	sendText(t, alice.tc, info.JID, "pn hello")
	m := waitGroupText(t, bob, info.JID, alice, "pn hello")
	if m.Info.Sender != alice.dev || m.Info.SenderAlt.Server != types.HiddenUserServer {
		t.Fatalf("sender %s (alt %s), want %s with its LID", m.Info.Sender, m.Info.SenderAlt, alice.dev)
	}
	waitPhoneGroupText(t, srv, carol.Phone, info.JID, alice.dev, "pn hello")
	if _, err = srv.SendGroupText(carol.Phone, info.JID.String(), "pn phone"); err != nil {
		t.Fatal(err)
	}
	waitGroupText(t, alice, info.JID, member{acct: carol}, "pn phone")
	waitGroupText(t, bob, info.JID, member{acct: carol}, "pn phone")
}

// A phone and its own companion in a group: each sees the other's messages
// as its own (IsFromMe on the companion, the companion as sender on the phone).
func TestPhoneAndOwnCompanionInGroup(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220091", "Alice")
	bob := newMember(t, srv, "15552220092", "Bob")
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Own devices", Participants: []types.JID{bob.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = srv.SendGroupText(bob.acct.Phone, info.JID.String(), "from bob's phone"); err != nil {
		t.Fatal(err)
	}
	m := waitText(bob.tc, "from bob's phone")
	if !m.Info.IsFromMe || m.Info.Chat != info.JID || !sameUser(m.Info.Sender, bob.acct) || m.Info.Sender.Device != 0 {
		t.Fatalf("bob-web's copy %+v", m.Info.MessageSource)
	}
	waitGroupText(t, alice, info.JID, bob, "from bob's phone")
	sendText(t, bob.tc, info.JID, "from bob-web")
	waitPhoneGroupText(t, srv, bob.acct.Phone, info.JID, bob.dev, "from bob-web")
	waitPhoneGroupText(t, srv, alice.acct.Phone, info.JID, bob.dev, "from bob-web")
}

// A member offline while the group talks and changes gets it all, in order,
// when it comes back: the notification, then the messages, decrypted.
func TestGroupOfflineMember(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220111", "Alice")
	bob := newMember(t, srv, "15552220112", "Bob")
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Later", Participants: []types.JID{bob.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.JoinedGroup](bob.tc, 10*time.Second, nil)
	bob.tc.cli.Disconnect()
	if err = alice.tc.cli.SetGroupName(ctx10(t), info.JID, "Later on"); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"while you were out 1", "while you were out 2"} {
		sendText(t, alice.tc, info.JID, text)
	}
	if srv.Queued(bob.dev) < 3 {
		t.Fatalf("%d stanzas queued for bob, want the notification and two messages", srv.Queued(bob.dev))
	}
	bob.tc.connect()
	e := waitEvent[*events.GroupInfo](bob.tc, 10*time.Second, func(e *events.GroupInfo) bool { return e.Name != nil })
	if e.Name.Name != "Later on" {
		t.Fatalf("name change %+v", e.Name)
	}
	waitGroupText(t, bob, info.JID, alice, "while you were out 1")
	m := waitGroupText(t, bob, info.JID, alice, "while you were out 2")

	// An edit and a revoke keep their edit attribute on the way.
	if _, err = alice.tc.cli.SendMessage(ctx10(t), info.JID, alice.tc.cli.BuildEdit(info.JID, m.Info.ID, textMessage("edited"))); err != nil {
		t.Fatal(err)
	}
	ed := waitEvent[*events.Message](bob.tc, 10*time.Second, func(e *events.Message) bool { return e.IsEdit })
	if ed.Info.Edit != types.EditAttributeMessageEdit || ed.Message.GetProtocolMessage().GetEditedMessage().GetConversation() != "edited" {
		t.Fatalf("edit arrived as %+v: %v", ed.Info, ed.Message)
	}
	if _, err = alice.tc.cli.SendMessage(ctx10(t), info.JID, alice.tc.cli.BuildRevoke(info.JID, types.EmptyJID, m.Info.ID)); err != nil {
		t.Fatal(err)
	}
	rv := waitEvent[*events.Message](bob.tc, 10*time.Second, func(e *events.Message) bool { return e.Message.GetProtocolMessage() != nil })
	if rv.Info.Edit != types.EditAttributeSenderRevoke {
		t.Fatalf("revoke arrived with edit %q", rv.Info.Edit)
	}
}

// Locked, announcement and disappearing settings: only admins set them, the
// members hear of each, and they take effect (a locked group's info and an
// announcement group's messages are the admins' alone).
func TestGroupSettings(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220131", "Alice")
	bob := newMember(t, srv, "15552220132", "Bob")
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Ruled", Participants: []types.JID{bob.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	group := info.JID
	if info.MemberAddMode != types.GroupMemberAddModeAdmin {
		t.Fatalf("a new group's add mode %q", info.MemberAddMode)
	}
	carol := mustAccount(t, srv, "15552220133", "Carol")
	carolJID := types.NewJID(carol.Phone, types.DefaultUserServer)
	if _, err = bob.tc.cli.UpdateGroupParticipants(ctx10(t), group, []types.JID{carolJID}, whatsmeow.ParticipantChangeAdd); !errors.Is(err, whatsmeow.ErrIQNotAuthorized) {
		t.Fatalf("bob adding under admin_add: %v", err)
	}
	if err = alice.tc.cli.SetGroupMemberAddMode(ctx10(t), group, types.GroupMemberAddModeAllMember); err != nil {
		t.Fatal(err)
	}
	if res, err := bob.tc.cli.UpdateGroupParticipants(ctx10(t), group, []types.JID{carolJID}, whatsmeow.ParticipantChangeAdd); err != nil || res[0].Error != 0 {
		t.Fatalf("bob adding under all_member_add: %+v, %v", res, err)
	}
	if _, err = bob.tc.cli.UpdateGroupParticipants(ctx10(t), group, []types.JID{carolJID}, whatsmeow.ParticipantChangeRemove); !errors.Is(err, whatsmeow.ErrIQNotAuthorized) {
		t.Fatalf("bob removing: %v", err)
	}
	if err = bob.tc.cli.SetGroupLocked(ctx10(t), group, true); !errors.Is(err, whatsmeow.ErrIQNotAuthorized) {
		t.Fatalf("bob, no admin, locking: %v", err)
	}
	if err = alice.tc.cli.SetGroupLocked(ctx10(t), group, true); err != nil {
		t.Fatal(err)
	}
	e := waitEvent[*events.GroupInfo](bob.tc, 10*time.Second, func(e *events.GroupInfo) bool { return e.Locked != nil })
	if !e.Locked.IsLocked {
		t.Fatalf("lock seen as %+v", e.Locked)
	}
	if err = bob.tc.cli.SetGroupName(ctx10(t), group, "Bob's now"); !errors.Is(err, whatsmeow.ErrIQNotAuthorized) {
		t.Fatalf("bob renaming a locked group: %v", err)
	}

	if err = alice.tc.cli.SetGroupAnnounce(ctx10(t), group, true); err != nil {
		t.Fatal(err)
	}
	e = waitEvent[*events.GroupInfo](bob.tc, 10*time.Second, func(e *events.GroupInfo) bool { return e.Announce != nil })
	if !e.Announce.IsAnnounce || e.Announce.AnnounceVersionID == "" {
		t.Fatalf("announce seen as %+v", e.Announce)
	}
	if _, err = bob.tc.cli.SendMessage(ctx10(t), group, textMessage("may I?")); err == nil {
		t.Fatal("bob, no admin, wrote in an announcement group")
	}
	sendText(t, alice.tc, group, "admins only")
	waitGroupText(t, bob, group, alice, "admins only")

	if err = alice.tc.cli.SetDisappearingTimer(ctx10(t), group, time.Hour, time.Time{}); !errors.Is(err, whatsmeow.ErrInvalidDisappearingTimer) {
		t.Fatalf("a one-hour timer: %v", err)
	}
	if err = alice.tc.cli.SetDisappearingTimer(ctx10(t), group, whatsmeow.DisappearingTimer24Hours, time.Time{}); err != nil {
		t.Fatal(err)
	}
	e = waitEvent[*events.GroupInfo](bob.tc, 10*time.Second, func(e *events.GroupInfo) bool { return e.Ephemeral != nil })
	if !e.Ephemeral.IsEphemeral || e.Ephemeral.DisappearingTimer != 86400 {
		t.Fatalf("ephemeral seen as %+v", e.Ephemeral)
	}
	got, err := bob.tc.cli.GetGroupInfo(ctx10(t), group)
	if err != nil || !got.IsLocked || !got.IsAnnounce || !got.IsEphemeral || got.DisappearingTimer != 86400 || got.MemberAddMode != types.GroupMemberAddModeAllMember {
		t.Fatalf("settings in the info %+v, %v", got, err)
	}
	if err = alice.tc.cli.SetGroupAnnounce(ctx10(t), group, false); err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.GroupInfo](bob.tc, 10*time.Second, func(e *events.GroupInfo) bool { return e.Announce != nil && !e.Announce.IsAnnounce })
	sendText(t, bob.tc, group, "my turn")
	waitGroupText(t, alice, group, bob, "my turn")
}

// A member's new companion gets the next group message straight away: group
// co-members hear of the new device (a devices notification), so the sender
// gives it the sender key, and it needs no retry.
func TestGroupNewDeviceOfMember(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220141", "Alice")
	bob := newMember(t, srv, "15552220142", "Bob")
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Growing", Participants: []types.JID{bob.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	sendText(t, alice.tc, info.JID, "before the new device")
	waitGroupText(t, bob, info.JID, alice, "before the new device")

	b2 := newTestClient(t, srv, "Bob-web-2", nil)
	pairQR(t, srv, b2, bob.acct.Phone)
	sendText(t, alice.tc, info.JID, "after the new device")
	deadline := time.After(10 * time.Second)
	for {
		select {
		case evt := <-b2.events:
			if u, ok := evt.(*events.UndecryptableMessage); ok {
				t.Fatalf("bob's new device could not decrypt %s: it lacked the sender key", u.Info.ID)
			}
			if m, ok := evt.(*events.Message); ok && textOf(m) == "after the new device" {
				return
			}
		case <-deadline:
			t.Fatal("bob's new device never got the message")
		}
	}
}

// A phone that lost its sender keys asks for the next group message again
// (a retry receipt with fresh keys) and reads it; the sending phone answers
// that device alone. The phone's own next message goes out under a new key.
func TestPhoneLostSenderKeys(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220151", "Alice")
	bob := mustAccount(t, srv, "15552220152", "Bob")
	carol := mustAccount(t, srv, "15552220153", "Carol")
	g, err := srv.CreateGroup(bob.Phone, "Two phones", []string{carol.Phone, alice.acct.Phone})
	if err != nil {
		t.Fatal(err)
	}
	group, _ := types.ParseJID(g.JID)
	bobPhone := types.NewJID(bob.Phone, types.DefaultUserServer)
	carolPhone := types.NewJID(carol.Phone, types.DefaultUserServer)
	if _, err = srv.SendGroupText(bob.Phone, g.JID, "one"); err != nil {
		t.Fatal(err)
	}
	waitPhoneGroupText(t, srv, carol.Phone, group, bobPhone, "one")
	if _, err = srv.SendGroupText(carol.Phone, g.JID, "carol one"); err != nil {
		t.Fatal(err)
	}
	waitGroupText(t, alice, group, member{acct: carol}, "carol one")

	if err = srv.ForgetSenderKeys(carol.Phone); err != nil {
		t.Fatal(err)
	}
	if _, err = srv.SendGroupText(bob.Phone, g.JID, "two"); err != nil {
		t.Fatal(err)
	}
	waitPhoneGroupText(t, srv, carol.Phone, group, bobPhone, "two")
	waitGroupText(t, alice, group, member{acct: bob}, "two")
	noText(t, alice.tc, "two", 300*time.Millisecond) // the resend went to carol's phone alone
	if _, err = srv.SendGroupText(carol.Phone, g.JID, "carol two"); err != nil {
		t.Fatal(err)
	}
	waitGroupText(t, alice, group, member{acct: carol}, "carol two")
	waitPhoneGroupText(t, srv, bob.Phone, group, carolPhone, "carol two")
	msgs, _ := srv.Messages(carol.Phone)
	n := 0
	for _, m := range msgs {
		if m.Text == "two" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("carol's phone has %q %d times", "two", n)
	}
}
