//go:build !js

package fakewa_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

func appStateBlobs(srv *fakewa.Server) int {
	n := 0
	for _, b := range srv.Blobs() {
		if b.MMSType == "md-app-state" {
			n++
		}
	}
	return n
}

// After pairing, whatsmeow's full sync of all five collections comes from
// snapshot blobs: the address book, the push name, the link preview setting,
// and the mute, pin and archive the phone set before. Later changes arrive
// as patches after server_sync, a large one as an external mutations blob.
func TestAppStateSnapshotsAndPatches(t *testing.T) {
	const contacts = 40
	srv := newServer(t, fakewa.Config{Contacts: contacts})
	alice := mustAccount(t, srv, "15554440001", "Alice")
	bob := mustAccount(t, srv, "15554440002", "Bob")
	carol := mustAccount(t, srv, "15554440003", "Carol")
	yes := proto.Bool(true)
	if err := srv.SetChatState(alice.Phone, bob.Phone, fakewa.ChatState{Muted: yes, Archived: yes}); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetChatState(alice.Phone, carol.Phone, fakewa.ChatState{Pinned: yes}); err != nil {
		t.Fatal(err)
	}
	versions, err := srv.AppStateVersions(alice.Phone)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range appstate.AllPatchNames {
		if versions[string(name)] == 0 {
			t.Errorf("collection %s is empty: %v", name, versions)
		}
	}
	before := appStateBlobs(srv)

	a1 := newTestClient(t, srv, "alice-web", nil)
	a1.cli.EmitAppStateEventsOnFullSync = true
	pairQR(t, srv, a1, alice.Phone)
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	carolJID := types.NewJID(carol.Phone, types.DefaultUserServer)
	complete := map[appstate.WAPatchName]bool{}
	var gotContacts int
	var pushName string
	var muted, archived, pinned bool
	for len(complete) < len(appstate.AllPatchNames) {
		switch e := waitEvent[any](a1, 10*time.Second, nil).(type) {
		case *events.AppStateSyncComplete:
			complete[e.Name] = true
		case *events.Contact:
			if e.FromFullSync && e.Action.GetFullName() != "" && e.Action.GetFirstName() != "" {
				gotContacts++
			}
		case *events.PushNameSetting:
			pushName = e.Action.GetName()
		case *events.Mute:
			muted = e.JID == bobJID && e.Action.GetMuted()
		case *events.Archive:
			archived = e.JID == bobJID && e.Action.GetArchived()
		case *events.Pin:
			if e.JID == carolJID {
				pinned = e.Action.GetPinned()
			}
		}
	}
	if gotContacts != contacts || pushName != "Alice" || !muted || !archived || !pinned {
		t.Errorf("full sync: %d contacts, push name %q, muted %v, archived %v, pinned %v", gotContacts, pushName, muted, archived, pinned)
	}
	if n := appStateBlobs(srv) - before; n != len(appstate.AllPatchNames) {
		t.Errorf("%d snapshot blobs uploaded for the full sync, want one per collection", n)
	}
	ctx := context.Background()
	all, err := a1.cli.Store.Contacts.GetAllContacts(ctx)
	if err != nil || len(all) < contacts {
		t.Errorf("store has %d contacts (%v), want at least %d", len(all), err, contacts)
	}
	if a1.cli.Store.PushName != "Alice" {
		t.Errorf("store push name %q", a1.cli.Store.PushName)
	}
	if cs, err := a1.cli.Store.ChatSettings.GetChatSettings(ctx, bobJID); err != nil || !cs.Archived || cs.MutedUntil.IsZero() {
		t.Errorf("bob's chat settings %+v (%v)", cs, err)
	}

	// Incremental: an unpin inline, ten new contacts as external mutations.
	blobs := appStateBlobs(srv)
	if err = srv.SetChatState(alice.Phone, carol.Phone, fakewa.ChatState{Pinned: proto.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.Pin](a1, 10*time.Second, func(e *events.Pin) bool {
		return e.JID == carolJID && !e.Action.GetPinned() && !e.FromFullSync
	})
	var book []fakewa.Contact
	for i := 0; i < 10; i++ {
		book = append(book, fakewa.Contact{Phone: fmt.Sprintf("1555444%04d", 100+i), FirstName: "New", FullName: fmt.Sprintf("New Contact %d", i)})
	}
	if err = srv.AddContacts(alice.Phone, book); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for len(seen) < len(book) {
		e := waitEvent[*events.Contact](a1, 10*time.Second, func(e *events.Contact) bool { return !e.FromFullSync })
		if strings.HasPrefix(e.Action.GetFullName(), "New Contact ") {
			seen[e.Action.GetFullName()] = true
		}
	}
	if n := appStateBlobs(srv) - blobs; n != 1 {
		t.Errorf("%d app state blobs for the unpin and the contacts, want 1 (the contacts' external mutations)", n)
	}
}

// A failing snapshot blob leaves whatsmeow without that collection: it logs
// the failure and the push name never arrives.
func TestFailedAppStateBlob(t *testing.T) {
	a1, capture := pairWithFailingBlobs(t, fakewa.Config{Contacts: -1}, "md-app-state", "corrupt")
	deadline := time.After(10 * time.Second)
	for {
		select {
		case line := <-capture.errs:
			if strings.Contains(line, "critical_block") && strings.Contains(line, "download") {
				if a1.cli.Store.PushName != "" {
					t.Errorf("push name %q learnt although the snapshot failed", a1.cli.Store.PushName)
				}
				return
			}
		case <-deadline:
			t.Fatal("no failed critical_block download logged within 10 s")
		}
	}
}

// A companion's own change (whatsmeow SendAppState) becomes the next
// version: the other companion hears of it, and the phone's later writes
// build on it.
func TestAppStateUploadFromCompanion(t *testing.T) {
	srv := newServer(t, fakewa.Config{Contacts: -1})
	alice := mustAccount(t, srv, "15554440005", "Alice")
	bob := mustAccount(t, srv, "15554440006", "Bob")
	// Not empty: whatsmeow takes a fetch from version 0 for a full sync,
	// which emits no events.
	if err := srv.SetChatState(alice.Phone, bob.Phone, fakewa.ChatState{Muted: proto.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)
	a2 := newTestClient(t, srv, "alice-web-2", nil)
	pairQR(t, srv, a2, alice.Phone)
	for _, tc := range []*testClient{a1, a2} {
		waitEvent[*events.AppStateSyncComplete](tc, 10*time.Second, func(e *events.AppStateSyncComplete) bool {
			return e.Name == appstate.WAPatchRegularHigh
		})
	}
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a1.cli.SendAppState(ctx, appstate.BuildMute(bobJID, true, time.Hour)); err != nil {
		t.Fatalf("SendAppState: %v", err)
	}
	waitEvent[*events.Mute](a2, 10*time.Second, func(e *events.Mute) bool { return e.JID == bobJID && e.Action.GetMuted() })
	// The phone unmutes on top of the companion's patch: both companions
	// verify the new version's MACs.
	if err := srv.SetChatState(alice.Phone, bob.Phone, fakewa.ChatState{Muted: proto.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []*testClient{a1, a2} {
		waitEvent[*events.Mute](tc, 10*time.Second, func(e *events.Mute) bool { return e.JID == bobJID && !e.Action.GetMuted() })
	}
	if v, _ := srv.AppStateVersions(alice.Phone); v["regular_high"] != 3 {
		t.Errorf("regular_high at version %d, want 3", v["regular_high"])
	}
}
