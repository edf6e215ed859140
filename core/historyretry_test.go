//go:build !js

package core

import (
	"strings"
	"testing"
	"time"
)

// lostHistoryBlobs counts the history blobs the media host answers 404 for.
func lostHistoryBlobs() int {
	n := 0
	for _, b := range srv.Blobs() {
		if b.MMSType == "md-msg-hist" && b.Fail == "404" {
			n++
		}
	}
	return n
}

// TestLostHistoryChunkAskedAgain: the recent chunk's blob is gone from the
// media host; the client asks the phone for it again
// (HISTORY_SYNC_CHUNK_RETRY), the phone sends a new one and it arrives as
// history_sync, with no error event (not parallel: the fault is
// server-wide).
func TestLostHistoryChunkAskedAgain(t *testing.T) {
	me, peer := newAccount(t, "Ada"), newAccount(t, "Bo")
	if _, err := srv.SendText(peer, me, "before the pairing"); err != nil {
		t.Fatal(err)
	}
	lostBefore := lostHistoryBlobs()
	if err := srv.LoseNextHistoryBlob("recent"); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	waitFor(t, c.rec, 0, 20*time.Second, func(h HistorySync) bool { return h.SyncType == "recent" })
	if lostHistoryBlobs() != lostBefore+1 {
		t.Fatal("the recent chunk's first blob was not lost: the test tested nothing")
	}
	time.Sleep(200 * time.Millisecond)
	for _, e := range c.rec.snapshot() {
		if ev, ok := e.(ErrorEvent); ok {
			t.Errorf("error event though the phone sent the chunk again: %v", ev.Err)
		}
	}
}

// TestHistoryChunkLostTwiceGivesSyncFailed: when the phone's new copy is
// lost too, the page hears it (not parallel, as above).
func TestHistoryChunkLostTwiceGivesSyncFailed(t *testing.T) {
	me := newAccount(t, "Cy")
	for range 2 {
		if err := srv.LoseNextHistoryBlob("non_blocking_data"); err != nil {
			t.Fatal(err)
		}
	}
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	ev := waitFor(t, c.rec, 0, 20*time.Second, func(e ErrorEvent) bool { return CodeOf(e.Err) == CodeSyncFailed })
	if msg := ev.Err.Error(); !strings.Contains(msg, "history sync non_blocking_data") || !strings.Contains(msg, "lost again after the phone sent it again") {
		t.Fatalf("sync_failed says %q", msg)
	}
}
