package fakewa_test

import (
	"context"
	"strings"
	"testing"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/fakewa"
)

// A message stanza sent again with the same ciphertexts (whatsmeow's
// retryFrame after a socket lost before the ack) is acknowledged again but
// routed once; the same id encrypted anew (an answer to a retry receipt) is
// routed again.
func TestResentStanzaRoutedOnce(t *testing.T) {
	capture := &errorCapture{Logger: newTestLogger(t, "fakewa", "INFO"), errs: make(chan string, 100)}
	srv := newServer(t, fakewa.Config{Log: capture})
	off := true
	if _, err := srv.UpdateSettings(fakewa.SettingsUpdate{NoTCTokenCheck: &off}); err != nil {
		t.Fatal(err)
	}
	alice := mustAccount(t, srv, "15551110041", "Alice")
	bob := mustAccount(t, srv, "15551110042", "Bob")
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	const id = "3EB0RESENT0000000001"
	stanza := func(ciphertext string) waBinary.Node {
		enc := waBinary.Node{Tag: "enc", Attrs: waBinary.Attrs{"v": "2", "type": "msg"}, Content: []byte(ciphertext)}
		to := waBinary.Node{Tag: "to", Attrs: waBinary.Attrs{"jid": bobJID}, Content: []waBinary.Node{enc}}
		return waBinary.Node{Tag: "message", Attrs: waBinary.Attrs{"id": id, "to": bobJID, "type": "text"},
			Content: []waBinary.Node{{Tag: "participants", Content: []waBinary.Node{to}}}}
	}
	// Bob's phone cannot decrypt these bytes: each routing is one error line.
	send := func(ciphertext string) int {
		t.Helper()
		resp := a1.cli.DangerousInternals().WaitResponse(id)
		if err := a1.cli.DangerousInternals().SendNode(context.Background(), stanza(ciphertext)); err != nil {
			t.Fatal(err)
		}
		select {
		case ack := <-resp:
			if ack.Tag != "ack" || ack.AttrGetter().OptionalString("error") != "" {
				t.Fatalf("answer %s", ack.XMLString())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no ack")
		}
		n := 0
		for end := time.After(300 * time.Millisecond); ; {
			select {
			case line := <-capture.errs:
				if strings.Contains(line, "cannot decrypt message "+id) {
					n++
				}
			case <-end:
				return n
			}
		}
	}
	if n := send("first bytes"); n != 1 {
		t.Fatalf("the first send reached Bob's phone %d times", n)
	}
	if n := send("first bytes"); n != 0 {
		t.Fatalf("the same stanza again was routed again (%d)", n)
	}
	if n := send("encrypted anew"); n != 1 {
		t.Fatalf("the same id with new ciphertexts was routed %d times", n)
	}
}
