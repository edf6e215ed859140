//go:build !js

package core

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wasmeow/wasmeow/fakewa"
)

// receivedIn waits until phone received text in chat, and returns its id.
func receivedIn(t *testing.T, phone, chat, text string) string {
	t.Helper()
	return phoneReceived(t, phone, text+" in "+chat, func(m fakewa.ReceivedMessage) bool { return m.Chat == chat && m.Text == text }).ID
}

func hasUser(list []string, phone string) bool {
	return slices.ContainsFunc(list, func(j string) bool { return strings.HasPrefix(j, phone+"@") })
}

func TestGroupOfTheClientAndTwoPhones(t *testing.T) {
	t.Parallel()
	me, b, d, e := newAccount(t, "Rita"), newAccount(t, "Sven"), newAccount(t, "Tara"), newAccount(t, "Ugo")
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	g := mustCall(t, c, "createGroup", "Lunch club", []string{b, d}).(GroupInfo)
	if !strings.HasSuffix(g.JID, "@g.us") || g.Name != "Lunch club" || len(g.Participants) != 3 || g.Owner == nil || !strings.HasPrefix(*g.Owner, me) {
		t.Fatalf("createGroup %+v", g)
	}
	joined := mustCall(t, c, "getJoinedGroups").([]GroupInfo)
	if len(joined) != 1 || joined[0].JID != g.JID {
		t.Fatalf("getJoinedGroups %+v", joined)
	}

	// Messages both ways.
	key := mustCall(t, c, "sendMessage", g.JID, map[string]any{"text": "hello group"}).(MessageKey)
	for _, p := range []string{b, d} {
		if id := receivedIn(t, p, g.JID, "hello group"); id != key.ID {
			t.Fatalf("%s got %s, sent %s", p, id, key.ID)
		}
	}
	id, err := srv.SendGroupText(b, g.JID, "hi from Sven")
	if err != nil {
		t.Fatal(err)
	}
	m := waitFor(t, c.rec, 0, 20*time.Second, func(m Message) bool { return m.ID == id })
	if !m.IsGroup || m.Chat != g.JID || !strings.HasPrefix(m.Sender, b) || m.Text != "hi from Sven" || m.Key.Participant != m.Sender {
		t.Fatalf("group message %+v", m)
	}
	// A reaction in the group, from a phone to our message: the target's key.
	rid, err := srv.SendMessage(d, g.JID, &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Text: proto.String("🎉"),
		Key: &waCommon.MessageKey{RemoteJID: proto.String(g.JID), FromMe: proto.Bool(false), ID: proto.String(key.ID), Participant: proto.String(me + "@s.whatsapp.net")}}})
	if err != nil {
		t.Fatal(err)
	}
	r := waitFor(t, c.rec, 0, 20*time.Second, func(m Message) bool { return m.ID == rid })
	if r.Type != MsgReaction || r.Reaction.Key.ID != key.ID || !r.Reaction.Key.FromMe || r.Reaction.Text != "🎉" {
		t.Fatalf("group reaction %+v", r.Reaction)
	}
	// Our reply in the group quotes Sven's message.
	reply := map[string]any{"text": "welcome", "quoted": map[string]any{"key": m.Key, "raw": m.Raw}}
	mustCall(t, c, "sendMessage", g.JID, reply)
	receivedIn(t, b, g.JID, "welcome")

	// Members: add Ugo, who reads the next message; remove Tara, who does not.
	from := c.rec.count()
	res := mustCall(t, c, "updateGroupParticipants", g.JID, "add", []string{e}).([]GroupParticipant)
	if len(res) != 1 || res[0].Error != 0 || !strings.HasPrefix(res[0].JID, e) {
		t.Fatalf("add %+v", res)
	}
	up := waitFor(t, c.rec, from, 20*time.Second, func(u GroupUpdate) bool { return u.JID == g.JID && hasUser(u.Added, e) })
	if up.Author == nil || !strings.HasPrefix(*up.Author, me) {
		t.Fatalf("group.update %+v", up)
	}
	mustCall(t, c, "updateGroupParticipants", g.JID, "remove", []string{d})
	waitFor(t, c.rec, from, 20*time.Second, func(u GroupUpdate) bool { return u.JID == g.JID && hasUser(u.Removed, d) })
	key = mustCall(t, c, "sendMessage", g.JID, map[string]any{"text": "after the changes"}).(MessageKey)
	receivedIn(t, e, g.JID, "after the changes")
	receivedIn(t, b, g.JID, "after the changes")
	time.Sleep(300 * time.Millisecond)
	msgs, _ := srv.Messages(d)
	for _, m := range msgs {
		if m.ID == key.ID {
			t.Fatalf("a removed member got %+v", m)
		}
	}

	// Name, topic, invite link; a phone's change arrives as group.update.
	mustCall(t, c, "setGroupName", g.JID, "Dinner club")
	mustCall(t, c, "setGroupTopic", g.JID, "Fridays at 8")
	info := mustCall(t, c, "getGroupInfo", g.JID).(GroupInfo)
	if info.Name != "Dinner club" || info.Topic != "Fridays at 8" || len(info.Participants) != 3 {
		t.Fatalf("getGroupInfo %+v", info)
	}
	link := mustCall(t, c, "getGroupInviteLink", g.JID, false).(string)
	if !strings.HasPrefix(link, "https://chat.whatsapp.com/") {
		t.Fatalf("invite link %q", link)
	}
	if again := mustCall(t, c, "getGroupInviteLink", g.JID, true).(string); again == link {
		t.Fatalf("reset gave the same link %q", again)
	}
	from = c.rec.count()
	if _, err := srv.UpdateGroupParticipants(b, g.JID, "add", []string{d}); err == nil {
		t.Fatal("a member who is no admin added someone")
	}
	if _, err := srv.UpdateGroupParticipants(me, g.JID, "promote", []string{b}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c.rec, from, 20*time.Second, func(u GroupUpdate) bool { return u.JID == g.JID && hasUser(u.Promoted, b) })

	for _, bad := range [][]any{{"createGroup", "", []string{b}}, {"createGroup", strings.Repeat("n", 26), []string{b}}, {"createGroup", "x", "b"},
		{"updateGroupParticipants", g.JID, "kick", []string{b}}, {"getGroupInfo", b}, {"setGroupName", g.JID, 5},
		{"getGroupInviteLink", g.JID, "yes"}, {"joinGroupWithLink", "https://example.com/x/y"}} {
		if _, err := call(t, c, bad[0].(string), bad[1:]...); CodeOf(err) != CodeInvalidOption && CodeOf(err) != CodeInvalidJID {
			t.Errorf("%v: %v", bad, err)
		}
	}
	// Every sendMessage shape reaches the group's phones.
	edited := mustCall(t, c, "sendMessage", g.JID, map[string]any{"text": "to edit"}).(MessageKey)
	for _, content := range []map[string]any{
		{"location": map[string]any{"degreesLatitude": 1.5, "degreesLongitude": 2.5}},
		{"poll": map[string]any{"name": "When?", "options": []string{"Mon", "Tue"}}},
		{"raw": map[string]any{"contactMessage": map[string]any{"displayName": "Vi"}}},
		{"edit": edited, "text": "edited"},
		{"delete": edited},
		{"text": "@" + b, "mentions": []string{b}},
	} {
		k := mustCall(t, c, "sendMessage", g.JID, content).(MessageKey)
		raw := string(receivedBy(t, b, k.ID).Raw)
		for key := range content {
			want := map[string]string{"location": "locationMessage", "poll": "pollCreationMessage", "raw": "contactMessage", "edit": "MESSAGE_EDIT", "delete": "REVOKE", "mentions": "mentionedJID"}[key]
			if want != "" && !strings.Contains(raw, want) {
				t.Fatalf("%v reached the phone as %s", content, raw)
			}
		}
	}
	// And a phone's location in the group arrives typed.
	lid, err := srv.SendMessage(b, g.JID, &waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(3), DegreesLongitude: proto.Float64(4)}})
	if err != nil {
		t.Fatal(err)
	}
	if loc := waitFor(t, c.rec, 0, 20*time.Second, func(m Message) bool { return m.ID == lid }); loc.Type != MsgLocation || loc.Location.DegreesLongitude != 4 || !loc.IsGroup {
		t.Fatalf("group location %+v", loc)
	}

	// Another account's client joins by the link.
	f := newAccount(t, "Vera")
	cf := newClient(t, Options{}, nil, nil)
	pairQR(t, cf, f)
	link = mustCall(t, c, "getGroupInviteLink", g.JID, false).(string)
	if joined := mustCall(t, cf, "joinGroupWithLink", link).(string); joined != g.JID {
		t.Fatalf("joined %s, want %s", joined, g.JID)
	}
	waitFor(t, c.rec, 0, 20*time.Second, func(u GroupUpdate) bool { return u.JID == g.JID && hasUser(u.Added, f) })

	mustCall(t, c, "leaveGroup", g.JID)
	if left := mustCall(t, c, "getJoinedGroups").([]GroupInfo); len(left) != 0 {
		t.Fatalf("after leaving: %+v", left)
	}
}
