//go:build !js

package core

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/fakewa"
)

// manyContacts are enough contacts for one patch whose mutations fakewa
// serves as an external blob (over 1 KiB).
func manyContacts(n int) []fakewa.Contact {
	out := make([]fakewa.Contact, n)
	for i := range out {
		out[i] = fakewa.Contact{Phone: fmt.Sprintf("1555077%04d", i), FirstName: "Later", FullName: fmt.Sprintf("Later Contact %d", i)}
	}
	return out
}

// pairedWithAppState pairs a client and waits for its first full app-state
// sync (the address book), so later faults hit only notification syncs.
func pairedWithAppState(t *testing.T, name string) (string, *testClient) {
	me := newAccount(t, name)
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	waitFor(t, c.rec, 0, 30*time.Second, func(u ContactsUpdate) bool { return len(u.Contacts) > 0 && u.Contacts[0].FullName != nil })
	return me, c
}

// TestNotificationSyncRetried: a sync after a server_sync notification whose
// blob fails (whatsmeow only logs it) is tried again; once the host serves
// the blob the new contacts arrive, and no error event (not parallel: blob
// faults are server-wide).
func TestNotificationSyncRetried(t *testing.T) {
	saved := syncBackoff
	syncBackoff = []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, time.Second, 2 * time.Second}
	t.Cleanup(func() { syncBackoff = saved })
	me, c := pairedWithAppState(t, "Rea")
	from := c.rec.count()
	failBlobs(t, "md-app-state", fakewa.BlobCorrupt)
	if err := srv.AddContacts(me, manyContacts(30)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // whatsmeow's sync and a first retry fail meanwhile
	isNew := func(u ContactsUpdate) bool {
		return len(u.Contacts) > 0 && u.Contacts[0].FullName != nil && strings.HasPrefix(*u.Contacts[0].FullName, "Later Contact")
	}
	for _, e := range c.rec.snapshot()[from:] {
		if u, ok := e.(ContactsUpdate); ok && isNew(u) {
			t.Fatal("the new contacts arrived while their blob was corrupt")
		}
	}
	if err := srv.FailBlob("", "md-app-state", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c.rec, from, 20*time.Second, isNew)
	for _, e := range c.rec.snapshot()[from:] {
		if ev, ok := e.(ErrorEvent); ok {
			t.Errorf("error event for a failure a retry healed: %v", ev.Err)
		}
	}
}

// TestNotificationSyncLostGivesSyncFailed: one that fails every attempt is
// sync_failed naming the collection and why (not parallel, as above).
func TestNotificationSyncLostGivesSyncFailed(t *testing.T) {
	saved := syncBackoff
	syncBackoff = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
	t.Cleanup(func() { syncBackoff = saved })
	me, c := pairedWithAppState(t, "Sol")
	from := c.rec.count()
	failBlobs(t, "md-app-state", fakewa.BlobCorrupt)
	if err := srv.AddContacts(me, manyContacts(30)); err != nil {
		t.Fatal(err)
	}
	ev := waitFor(t, c.rec, from, 30*time.Second, func(e ErrorEvent) bool { return CodeOf(e.Err) == CodeSyncFailed })
	msg := ev.Err.Error()
	if !strings.Contains(msg, "a change to app state critical_unblock_low (contact names) made on another device") || !strings.Contains(msg, "gave up after 3 attempts") ||
		!strings.Contains(msg, "hash of media ciphertext") {
		t.Fatalf("sync_failed says %q; want the collection, why and that it gave up", msg)
	}
}
