//go:build !js

package fakewa_test

import (
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

// A 1:1 edit keeps its edit attribute on the way, as in groups.
func TestEditAttributeOneToOne(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220121", "Alice")
	bob := newMember(t, srv, "15552220122", "Bob")
	id := sendText(t, alice.tc, bob.jid(), "first draft")
	waitText(bob.tc, "first draft")
	if _, err := alice.tc.cli.SendMessage(ctx10(t), bob.jid(), alice.tc.cli.BuildEdit(bob.jid(), id, textMessage("second draft"))); err != nil {
		t.Fatal(err)
	}
	ed := waitEvent[*events.Message](bob.tc, 10*time.Second, func(e *events.Message) bool { return e.IsEdit })
	if ed.Info.Edit != types.EditAttributeMessageEdit {
		t.Fatalf("edit arrived with edit %q", ed.Info.Edit)
	}
}
