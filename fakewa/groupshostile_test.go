//go:build !js

package fakewa_test

import (
	"errors"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/fakewa"
)

// Malformed group iqs get coded errors; malformed group messages, receipts,
// presence and chat states are dropped; the socket and the group live on.
func TestHostileGroupStanzas(t *testing.T) {
	logs := &fakewa.LineCapture{}
	srv := newServer(t, fakewa.Config{Log: logs})
	alice := newMember(t, srv, "15552220071", "Alice")
	bob := newMember(t, srv, "15552220072", "Bob")
	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Sturdy", Participants: []types.JID{bob.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	group := info.JID
	in := alice.tc.cli.DangerousInternals()
	for _, c := range []struct {
		name string
		typ  whatsmeow.DangerousInfoQueryType
		to   types.JID
		body []waBinary.Node
		code int
	}{
		{"no child", "get", group, nil, 400},
		{"two children", "get", group, []waBinary.Node{{Tag: "query"}, {Tag: "query"}}, 400},
		{"unknown group", "get", types.NewJID("120363999999999999", types.GroupServer), []waBinary.Node{{Tag: "query"}}, 404},
		{"not a group", "get", types.ServerJID, []waBinary.Node{{Tag: "query"}}, 400},
		{"create without subject", "set", types.GroupServerJID, []waBinary.Node{{Tag: "create"}}, 400},
		{"create a community", "set", types.GroupServerJID, []waBinary.Node{{Tag: "create", Attrs: waBinary.Attrs{"subject": "x"}, Content: []waBinary.Node{{Tag: "parent"}}}}, 501},
		{"subject not bytes", "set", group, []waBinary.Node{{Tag: "subject", Content: []waBinary.Node{{Tag: "x"}}}}, 400},
		{"description without body", "set", group, []waBinary.Node{{Tag: "description", Attrs: waBinary.Attrs{"id": "A1"}}}, 400},
		{"description without id", "set", group, []waBinary.Node{{Tag: "description", Content: []waBinary.Node{{Tag: "body", Content: []byte("x")}}}}, 400},
		{"leave nothing", "set", types.GroupServerJID, []waBinary.Node{{Tag: "leave"}}, 400},
		{"leave an unknown group", "set", types.GroupServerJID, []waBinary.Node{{Tag: "leave", Content: []waBinary.Node{{Tag: "group", Attrs: waBinary.Attrs{"id": "nonsense"}}}}}, 404},
		{"approval mode", "set", group, []waBinary.Node{{Tag: "membership_approval_mode"}}, 501},
	} {
		_, err := in.SendIQ(ctx10(t), whatsmeow.DangerousInfoQuery{Namespace: "w:g2", Type: c.typ, To: c.to, Content: c.body})
		var iqErr *whatsmeow.IQError
		if !errors.As(err, &iqErr) || iqErr.Code != c.code {
			t.Fatalf("%s: %v, want code %d", c.name, err, c.code)
		}
	}
	// Messages nobody could decrypt are refused (ack error 400).
	for _, n := range []waBinary.Node{
		{Tag: "message", Attrs: waBinary.Attrs{"id": "X1", "to": group, "type": "text"}, Content: []waBinary.Node{{Tag: "enc", Attrs: waBinary.Attrs{"type": "skmsg"}, Content: []waBinary.Node{{Tag: "x"}}}}},
		{Tag: "message", Attrs: waBinary.Attrs{"id": "X2", "to": group, "participant": "nobody"}},
	} {
		if err = in.SendNode(ctx10(t), n); err != nil {
			t.Fatalf("sending <%s>: %v", n.Tag, err)
		}
		for i := 0; !logs.Has("message " + n.Attrs["id"].(string) + " to " + group.String() + ": 400"); i++ {
			if i == 100 {
				t.Fatalf("message %s was not refused", n.Attrs["id"])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, n := range []waBinary.Node{
		{Tag: "receipt", Attrs: waBinary.Attrs{"id": "X3", "to": group, "type": "retry"}},
		{Tag: "receipt", Attrs: waBinary.Attrs{"id": "X4", "to": group, "participant": group}},
		{Tag: "presence", Attrs: waBinary.Attrs{"type": "subscribe", "to": "nobody"}},
		{Tag: "presence", Attrs: waBinary.Attrs{"type": "subscribe", "to": group}},
		{Tag: "presence"},
		{Tag: "chatstate", Attrs: waBinary.Attrs{"to": group}, Content: []waBinary.Node{{Tag: "composing"}, {Tag: "paused"}}},
		{Tag: "chatstate", Attrs: waBinary.Attrs{"to": group}, Content: []byte("typing")},
		{Tag: "chatstate"},
	} {
		if err = in.SendNode(ctx10(t), n); err != nil {
			t.Fatalf("sending <%s>: %v", n.Tag, err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if got, err := alice.tc.cli.GetGroupInfo(ctx10(t), group); err != nil || got.Name != "Sturdy" || !alice.tc.cli.IsConnected() {
		t.Fatalf("after hostile stanzas: %+v, %v", got, err)
	}
	sendText(t, alice.tc, group, "still here")
	waitGroupText(t, bob, group, alice, "still here")
}
