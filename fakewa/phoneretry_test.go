//go:build !js

package fakewa_test

import (
	"testing"

	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/fakewa"
)

// A phone that lost its sessions cannot decrypt a companion's next message:
// it asks for it with a retry receipt, whatsmeow sends it again on a new
// session built from the receipt's keys, and the phone reads it.
func TestPhoneAsksAgainForUndecryptable(t *testing.T) {
	rec := &fakewa.LineCapture{}
	srv := newServer(t, fakewa.Config{Log: rec})
	alice := mustAccount(t, srv, "15551120001", "Alice")
	bob := mustAccount(t, srv, "15551120002", "Bob")
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)

	sendText(t, a1, bobJID, "first")
	waitPhoneText(t, srv, bob.Phone, "first")
	if err := srv.ForgetSessions(bob.Phone); err != nil {
		t.Fatal(err)
	}
	id := sendText(t, a1, bobJID, "after the phone forgot")
	got := waitPhoneText(t, srv, bob.Phone, "after the phone forgot")
	if got.ID != id {
		t.Fatalf("bob's phone got %+v, want id %s", got, id)
	}
	if rec.Count("for message "+id+" again (retry receipt)") != 1 {
		t.Fatal("the phone read the message without asking for it again: the fault did not bite")
	}
}
