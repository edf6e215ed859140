package sessiond

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLeaseOneHolderFencingAndTakeover(t *testing.T) {
	s := openService(t)
	_, token := newTenant(t, s, ModeNative)
	a := serveAPI(t, s, token)
	const sess = "alice"
	k := func(v string) map[string]map[string][]byte {
		return map[string]map[string][]byte{"session": {"x": []byte(v)}}
	}

	// No lease yet: writes are refused, the fence header is required.
	a.set(sess, 1, k("v0")).want(t, 409, CodeLeaseRequired)
	a.set(sess, 0, k("v0")).want(t, 400, CodeInvalidRequest)

	la := a.acquire(sess, "machine-a/tab-1", 300)
	if la.Fence != 1 || la.Holder != "machine-a/tab-1" || !la.Held {
		t.Fatalf("first lease: %+v", la)
	}
	// Another holder is told who holds it, and until when.
	r := a.lease(sess, "machine-b/tab-1", 300, false).want(t, 409, CodeSessionLocked)
	if r.err.Holder != "machine-a/tab-1" || r.err.ExpiresAt != la.ExpiresAt || !strings.Contains(r.err.Message, "machine-a/tab-1") {
		t.Fatalf("session_locked must name the holder: %+v", r.err)
	}
	// The holder asking again keeps its fence.
	if again := a.acquire(sess, "machine-a/tab-1", 300); again.Fence != la.Fence {
		t.Fatalf("re-acquire changed the fence: %+v", again)
	}
	a.set(sess, la.Fence, k("from-a")).want(t, 204, "")
	a.do("POST", "/v1/sessions/"+sess+"/lease/renew", 0, map[string]any{"holder": "machine-a/tab-1", "fence": la.Fence, "ttlMs": 300}).want(t, 200, "")

	// A stops renewing (paused, cut off): after the TTL B gets a new fence.
	time.Sleep(350 * time.Millisecond)
	lb := a.acquire(sess, "machine-b/tab-1", 300)
	if lb.Fence != la.Fence+1 {
		t.Fatalf("after expiry: %+v", lb)
	}
	// A wakes up: its writes and renewals are refused, naming the new holder.
	r = a.set(sess, la.Fence, k("stale")).want(t, 409, CodeLeaseLost)
	if r.err.Holder != "machine-b/tab-1" || r.err.Fence != lb.Fence {
		t.Fatalf("lease_lost: %+v", r.err)
	}
	a.do("POST", "/v1/sessions/"+sess+"/lease/renew", 0, map[string]any{"holder": "machine-a/tab-1", "fence": la.Fence, "ttlMs": 300}).want(t, 409, CodeLeaseLost)
	a.do("POST", "/v1/sessions/"+sess+"/keys/clear", la.Fence, nil).want(t, 409, CodeLeaseLost)
	a.do("PUT", "/v1/sessions/"+sess+"/creds", la.Fence, []byte("creds")).want(t, 409, CodeLeaseLost)
	a.do("PUT", "/v1/sessions/"+sess+"/snapshot", la.Fence, []byte("snap")).want(t, 409, CodeLeaseLost)
	a.do("DELETE", "/v1/sessions/"+sess, la.Fence, nil).want(t, 409, CodeLeaseLost)
	if got := a.get(sess, "session", "x"); string(got["x"]) != "from-a" {
		t.Fatalf("a stale write landed: %q", got["x"])
	}

	// Explicit takeover of a live lease.
	lc := a.lease(sess, "machine-c/tab-9", 5000, true).want(t, 200, "")
	if !strings.Contains(string(lc.body), fmt.Sprintf(`"fence":%d`, lb.Fence+1)) {
		t.Fatalf("takeover: %s", lc.body)
	}
	a.set(sess, lb.Fence, k("b")).want(t, 409, CodeLeaseLost)
	a.set(sess, lb.Fence+1, k("c")).want(t, 204, "")

	// Release frees it at once (no waiting for the TTL); the releaser's
	// fence no longer writes.
	a.do("POST", "/v1/sessions/"+sess+"/lease/release", 0, map[string]any{"holder": "machine-c/tab-9", "fence": lb.Fence + 1}).want(t, 204, "")
	a.set(sess, lb.Fence+1, k("late")).want(t, 409, CodeLeaseLost)
	if ld := a.acquire(sess, "machine-d", 300); ld.Fence != lb.Fence+2 {
		t.Fatalf("after release: %+v", ld)
	}
	// Leases are per tenant: another tenant's session of the same name is free.
	_, token2 := newTenant(t, s, ModeNative)
	if l := serveAPI(t, s, token2).acquire(sess, "other", 300); l.Fence != 1 {
		t.Fatalf("other tenant: %+v", l)
	}
}

// An expired lease nobody took is renewed: nobody else can have written.
func TestExpiredLeaseNobodyTookIsRenewed(t *testing.T) {
	s := openService(t)
	_, token := newTenant(t, s, ModeNative)
	a := serveAPI(t, s, token)
	l := a.acquire("s1", "h", 60)
	time.Sleep(100 * time.Millisecond)
	a.do("POST", "/v1/sessions/s1/lease/renew", 0, map[string]any{"holder": "h", "fence": l.Fence, "ttlMs": 60}).want(t, 200, "")
}

// Writes racing a takeover: once the takeover has answered, no write under
// the old fence lands (the lease row is share-locked by writes in flight and
// the takeover waits for them).
func TestNoStaleWriteLandsAfterTakeover(t *testing.T) {
	s := openService(t)
	tenant, token := newTenant(t, s, ModeNative)
	a := serveAPI(t, s, token)
	ctx := context.Background()
	la := a.acquire("race", "a", 10000)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_ = s.SetKeys(ctx, tenant, "race", la.Fence, map[string]map[string][]byte{"k": {fmt.Sprint(w): []byte(fmt.Sprint(i))}})
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	lb, err := s.Acquire(ctx, tenant, "race", "b", time.Minute, true)
	if err != nil {
		t.Fatal(err)
	}
	after, err := s.GetKeys(ctx, tenant, "race", "k", []string{"0", "1", "2", "3"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	final, err := s.GetKeys(ctx, tenant, "race", "k", []string{"0", "1", "2", "3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) == 0 {
		t.Fatal("no write landed before the takeover: the race was not exercised")
	}
	for id, v := range final {
		if string(after[id]) != string(v) {
			t.Fatalf("key %s changed after the takeover (fence %d): %q -> %q", id, lb.Fence, after[id], v)
		}
	}
}
