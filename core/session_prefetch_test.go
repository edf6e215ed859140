//go:build !js

package core

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/idbstore"
)

// A restored session's Signal records (sessions, identities, sender keys)
// are loaded in the background once the client is ready, not while it loads
// its device and logs in: for a big account that load would compete with
// the login for the page's only thread (issue 16).
func TestSignalRecordsArePrefetchedOnceReady(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Hana"), newAccount(t, "Ivo")
	storage := newKeptStorage()
	opts := DefaultOptions()
	c := newClient(t, opts, storage, nil)
	pairQR(t, c, me)
	exchange(t, c, me, peer, "1") // a session with the peer is stored
	if err := c.Destroy(ctxT(t)); err != nil {
		t.Fatal(err)
	}

	c2 := newClient(t, opts, storage, nil)
	var watched atomic.Pointer[testClient] // the hook runs on the store's goroutines
	watched.Store(c2)
	signal := []string{idbstore.TableSession, idbstore.TableIdentity, idbstore.TableSenderKey}
	var mu sync.Mutex
	scanned := map[string][]string{} // Signal table -> the client's state at each scan
	hook := func(table string) {
		if slices.Contains(signal, table) {
			st := watched.Load().State()
			mu.Lock()
			scanned[table] = append(scanned[table], st)
			mu.Unlock()
		}
	}
	storage.onScan.Store(&hook)
	if err := c2.Connect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	waitFor[Ready](t, c2.rec, 0, 15*time.Second, nil)
	sess := c2.currentSession()
	if sess == nil {
		t.Fatal("no session after ready")
	}
	sess.container.Prefetched()
	mu.Lock()
	defer mu.Unlock()
	for _, table := range signal {
		states := scanned[table]
		if len(states) != 1 || states[0] != StateReady {
			t.Errorf("table %s: scanned in states %v, want once, when ready", table, states)
		}
	}
}
