//go:build !js

package fakewa_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

// A companion paired to a phone that already chatted gets the phone's
// history: INITIAL_BOOTSTRAP (the chat and its newest messages), PUSH_NAME,
// NON_BLOCKING_DATA (PN-LID mappings, privacy tokens) and RECENT (older
// messages), each downloaded by whatsmeow from the media host.
func TestHistorySyncAfterPairing(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15553330001", "Alice")
	bob := mustAccount(t, srv, "15553330002", "Bob")
	var texts []string
	for i := 0; i < 12; i++ {
		from, to := alice.Phone, bob.Phone
		if i%2 == 1 {
			from, to = to, from
		}
		text := fmt.Sprintf("text %d from %s", i, from)
		texts = append(texts, text)
		if _, err := srv.SendText(from, to, text); err != nil {
			t.Fatal(err)
		}
		// One at a time: two phones that start sessions with each other at
		// the same moment fail to decrypt ("no valid sessions").
		waitPhoneText(t, srv, to, text)
	}
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)

	byType := map[waHistorySync.HistorySync_HistorySyncType]*waHistorySync.HistorySync{}
	var order []waHistorySync.HistorySync_HistorySyncType
	for len(byType) < 4 {
		hs := waitEvent[*events.HistorySync](a1, 10*time.Second, nil).Data
		byType[hs.GetSyncType()] = hs
		order = append(order, hs.GetSyncType())
	}
	want := []waHistorySync.HistorySync_HistorySyncType{waHistorySync.HistorySync_INITIAL_BOOTSTRAP, waHistorySync.HistorySync_PUSH_NAME,
		waHistorySync.HistorySync_NON_BLOCKING_DATA, waHistorySync.HistorySync_RECENT}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("history sync order %v, want %v", order, want)
	}
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	// The chat's texts, newest 10 in the bootstrap, the 2 older in RECENT,
	// with the right direction.
	got := map[string]bool{}
	for _, typ := range []waHistorySync.HistorySync_HistorySyncType{waHistorySync.HistorySync_INITIAL_BOOTSTRAP, waHistorySync.HistorySync_RECENT} {
		convs := byType[typ].GetConversations()
		if len(convs) != 1 || convs[0].GetID() != bobJID.String() {
			t.Fatalf("%s conversations: %v", typ, convs)
		}
		for _, m := range convs[0].GetMessages() {
			evt, err := a1.cli.ParseWebMessage(bobJID, m.GetMessage())
			if err != nil {
				t.Fatalf("%s: ParseWebMessage: %v", typ, err)
			}
			text := evt.Message.GetConversation()
			if evt.Info.IsFromMe != (text[len(text)-len(alice.Phone):] == alice.Phone) {
				t.Errorf("%q: IsFromMe %v", text, evt.Info.IsFromMe)
			}
			got[text] = true
		}
		if n, wantN := len(convs[0].GetMessages()), map[bool]int{true: 10, false: 2}[typ == waHistorySync.HistorySync_INITIAL_BOOTSTRAP]; n != wantN {
			t.Errorf("%s has %d messages, want %d", typ, n, wantN)
		}
	}
	for _, text := range texts {
		if !got[text] {
			t.Errorf("history lacks %q", text)
		}
	}
	// What whatsmeow stores from the blobs: Bob's push name (he never wrote
	// to this companion), his LID, the privacy token he issued Alice.
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for {
		contact, err := a1.cli.Store.Contacts.GetContact(ctx, bobJID)
		if err == nil && contact.PushName == "Bob" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Bob's push name not stored: %+v %v", contact, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if lid, err := a1.cli.Store.LIDs.GetLIDForPN(ctx, bobJID); err != nil || lid.String() != bob.LID {
		t.Errorf("LID for Bob: %s %v, want %s", lid, err, bob.LID)
	}
	var tokenConv *waHistorySync.Conversation
	for _, c := range byType[waHistorySync.HistorySync_NON_BLOCKING_DATA].GetConversations() {
		if c.GetID() == bobJID.String() {
			tokenConv = c
		}
	}
	if tokenConv == nil || len(tokenConv.GetTcToken()) == 0 {
		t.Errorf("NON_BLOCKING_DATA carries no privacy token from Bob")
	}
}

// pairWithFailingBlobs pairs a client (its error logs captured) to a new
// account after making every blob of mmsType fail with mode.
func pairWithFailingBlobs(t *testing.T, cfg fakewa.Config, mmsType, mode string) (*testClient, *errorCapture) {
	t.Helper()
	srv := newServer(t, cfg)
	alice := mustAccount(t, srv, "15553330003", "Alice")
	if err := srv.FailBlob("", mmsType, mode); err != nil {
		t.Fatal(err)
	}
	capture := &errorCapture{Logger: newTestLogger(t, "alice-web", "WARN"), errs: make(chan string, 100)}
	a1 := newTestClientLog(t, srv, "alice-web", nil, newContainer(t, "alice-web").NewDevice(), capture)
	pairQR(t, srv, a1, alice.Phone)
	return a1, capture
}

// History blobs made to fail (404) are lost to whatsmeow: it only logs the
// failed download, and no events.HistorySync arrives.
func TestFailedHistoryBlob(t *testing.T) {
	a1, capture := pairWithFailingBlobs(t, fakewa.Config{}, "md-msg-hist", "404")
	deadline := time.After(10 * time.Second)
	for failed := 0; failed < 4; {
		select {
		case line := <-capture.errs:
			if strings.Contains(line, "Failed to download history sync") && strings.Contains(line, "404") {
				failed++
			}
		case evt := <-a1.events:
			if _, ok := evt.(*events.HistorySync); ok {
				t.Fatal("a HistorySync event arrived although every history blob fails")
			}
		case <-deadline:
			t.Fatalf("only %d of 4 history downloads failed within 10 s", failed)
		}
	}
}
