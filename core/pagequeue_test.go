package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// gatedBackend holds every commit until the test lets one through, or fails it.
type gatedBackend struct {
	kv.Backend
	gate    chan error // one value per commit: nil lets it through
	entered chan struct{}
}

func (b *gatedBackend) Commit(ctx context.Context, ops []kv.Op) error {
	b.entered <- struct{}{}
	if err := <-b.gate; err != nil {
		return err
	}
	return b.Backend.Commit(ctx, ops)
}

// pageQueueRig is a page queue on a container whose commits the test gates,
// recording what reaches the page and the failures reported.
type pageQueueRig struct {
	b        *gatedBackend
	c        *idbstore.Container
	q        *pageQueue
	mu       sync.Mutex
	got      []string
	failures []error
	n        int
}

func newPageQueueRig(t *testing.T) *pageQueueRig {
	r := &pageQueueRig{b: &gatedBackend{Backend: memkv.New(), gate: make(chan error, 8), entered: make(chan struct{}, 8)}}
	var err error
	if r.c, err = idbstore.New(context.Background(), r.b, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.b.gate <- nil; r.b.gate <- nil; _ = r.c.Close() })
	r.q = newPageQueue(r.c, func(err error) { r.mu.Lock(); r.failures = append(r.failures, err); r.mu.Unlock() })
	r.q.setEmit(func(e Event) { r.mu.Lock(); r.got = append(r.got, e.(ErrorEvent).Err.Error()); r.mu.Unlock() })
	return r
}

// write queues one store write (a unit of the group commit): a device.
func (r *pageQueueRig) write(t *testing.T) {
	t.Helper()
	r.n++
	dev := r.c.NewDevice()
	dev.ID = &types.JID{User: fmt.Sprintf("1555000%d", r.n), Server: types.DefaultUserServer}
	dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64),
		AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := r.c.PutDevice(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
}

func (r *pageQueueRig) shown() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func ev(s string) Event { return ErrorEvent{errors.New(s)} }

func TestPageQueueGivesMessagesInOrderOnceStoredAndClearsAfterThem(t *testing.T) {
	r := newPageQueueRig(t)
	// Idle: an event leaves at once, a clear runs at once.
	r.q.event(ev("idle"))
	cleared := 0
	if err := r.q.clearAfter(func() error { cleared++; return nil }); err != nil || cleared != 1 {
		t.Fatalf("idle clear: %v, ran %d times", err, cleared)
	}

	r.write(t) // its commit starts and is held
	<-r.b.entered
	r.q.durableEvent(ev("m1"))
	r.q.event(ev("receipt"))
	r.write(t) // queued behind the held commit
	r.q.durableEvent(ev("m2"))
	if err := r.q.clearAfter(func() error { cleared++; return nil }); err != nil {
		t.Fatal(err)
	}
	drained := make(chan error, 1)
	go func() { drained <- r.q.drain(context.Background()) }()
	time.Sleep(30 * time.Millisecond)
	if got := r.shown(); !slices.Equal(got, []string{"idle"}) || cleared != 1 {
		t.Fatalf("before the commit: shown %q, cleared %d times", got, cleared)
	}
	select {
	case <-drained:
		t.Fatal("drain returned before the queue was handled")
	default:
	}

	r.b.gate <- nil // m1's commit: m1 and the receipt leave, m2 waits for the next
	<-r.b.entered
	time.Sleep(30 * time.Millisecond)
	if got := r.shown(); !slices.Equal(got, []string{"idle", "m1", "receipt"}) || cleared != 1 {
		t.Fatalf("after the first commit: shown %q, cleared %d times", got, cleared)
	}
	r.b.gate <- nil
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	if got := r.shown(); !slices.Equal(got, []string{"idle", "m1", "receipt", "m2"}) || cleared != 2 {
		t.Fatalf("after the second commit: shown %q, cleared %d times", got, cleared)
	}
}

func TestPageQueueHoldsBackWhatCouldNotBeStored(t *testing.T) {
	r := newPageQueueRig(t)
	r.write(t)
	<-r.b.entered
	r.q.durableEvent(ev("m1"))
	cleared := false
	_ = r.q.clearAfter(func() error { cleared = true; return nil })
	r.q.event(ev("disconnected"))
	disk := errors.New("disk full")
	r.b.gate <- disk
	if err := r.q.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Equal(r.got, []string{"disconnected"}) || cleared || len(r.failures) != 1 || !errors.Is(r.failures[0], disk) {
		t.Fatalf("shown %q, cleared %v, failures %v", r.got, cleared, r.failures)
	}
}

// A session that closes while a message waits for a commit that never ends
// (a store that does not answer) drops the message and still gives the page
// the events after it.
func TestPageQueueStopDropsWhatWaitsForAStuckCommit(t *testing.T) {
	r := newPageQueueRig(t)
	r.write(t)
	<-r.b.entered // held, and never released before stop
	r.q.durableEvent(ev("m1"))
	r.q.event(ev("disconnected"))
	r.q.stop()
	if err := r.q.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Equal(r.got, []string{"disconnected"}) || len(r.failures) != 0 {
		t.Fatalf("shown %q, failures %v", r.got, r.failures)
	}
}

// A session closing while a message's commit is under way (destroy() right
// after a message arrived) stores it, and the page is given it before the
// listeners go: else the next session would show it as redelivered.
func TestSessionCloseGivesWhatItsFlushStored(t *testing.T) {
	r := newPageQueueRig(t)
	r.write(t)
	<-r.b.entered // the commit is under way
	r.q.durableEvent(ev("m1"))
	s := &session{container: r.c, pages: r.q, storage: nopStorage{}}
	closed := make(chan error, 1)
	go func() { closed <- s.close(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	r.b.gate <- nil // the commit ends
	go func() {
		for range r.b.entered { // any later commit (the close's own flush)
			r.b.gate <- nil
		}
	}()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if got := r.shown(); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("shown %q, want the message stored during the close", got)
	}
}

type nopStorage struct{}

func (nopStorage) Open(context.Context) (kv.Backend, error) { return nil, errors.New("unused") }
func (nopStorage) Clear(context.Context) error              { return nil }
func (nopStorage) Remove(context.Context) error             { return nil }
func (nopStorage) Release()                                 {}
