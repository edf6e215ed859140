//go:build !js

package core

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/fakewa"
)

// One fakewa for the test binary: the socket URL and the root key are
// page-wide (process-wide here), as in a browser page.
var srv *fakewa.Server

func TestMain(m *testing.M) {
	root := sha256.Sum256([]byte("core test root key"))
	var err error
	var log waLog.Logger = waLog.Noop
	if os.Getenv("CORE_DEBUG") != "" {
		log = waLog.Stdout("fakewa", "DEBUG", false)
	}
	srv, err = fakewa.New(fakewa.Config{RootKey: &root, Log: log, RedeliverAfter: 3 * time.Second})
	if err != nil {
		panic(err)
	}
	if _, err := srv.Listen("127.0.0.1:0"); err != nil {
		panic(err)
	}
	pub := srv.RootPublicKey()
	if err := SetPage(Page{SocketURL: srv.WebsocketURL(), TrustRootKey: pub[:]}); err != nil {
		panic(err)
	}
	// fakewa's own sockets are the shim's too: they must not wait for (or
	// fail with) the clients' stores, which the barrier does for a write
	// of no client's socket.
	websocket.SetWriteBarrier(func(ctx context.Context) error {
		if _, ours := ctx.Value(socketOwnerKey{}).(func() *session); !ours {
			return nil
		}
		return WriteBarrier(ctx)
	})
	code := m.Run()
	_ = srv.Close()
	os.Exit(code)
}

var phoneSeq atomic.Int64

// newAccount makes an account with a phone number no other test uses.
func newAccount(t *testing.T, name string) string {
	t.Helper()
	phone := fmt.Sprintf("1555%07d", 3000000+phoneSeq.Add(1))
	if _, err := srv.CreateAccount(phone, name); err != nil {
		t.Fatal(err)
	}
	return phone
}

// recorder keeps every event a client emitted, in order.
type recorder struct {
	mu     sync.Mutex
	events []Event
	added  chan struct{}
}

func newRecorder() *recorder { return &recorder{added: make(chan struct{}, 1)} }

func (r *recorder) emit(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.added <- struct{}{}:
	default:
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) snapshot() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) names(from int) []string {
	var out []string
	for _, e := range r.snapshot()[from:] {
		out = append(out, e.EventName())
	}
	return out
}

// waitFor returns the first event of type T at index from or later for
// which match (nil: any) holds.
func waitFor[T Event](t *testing.T, r *recorder, from int, timeout time.Duration, match func(T) bool) T {
	t.Helper()
	deadline := time.After(timeout)
	for {
		for _, e := range r.snapshot()[from:] {
			if v, ok := e.(T); ok && (match == nil || match(v)) {
				return v
			}
		}
		select {
		case <-r.added:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			var zero T
			t.Fatalf("no %s event within %s; events: %v", zero.EventName(), timeout, r.names(0))
			return zero
		}
	}
}

// testClient is a core client with its recorder.
type testClient struct {
	*Client
	rec *recorder
}

// newClient makes a client of strategy none unless opts says otherwise; it
// is destroyed when the test ends.
func newClient(t *testing.T, opts Options, storage Storage, remote RemoteStore) *testClient {
	t.Helper()
	rec := newRecorder()
	if opts.Strategy == "" {
		opts = DefaultOptions()
		opts.Strategy = StrategyNone
	}
	c, err := New(context.Background(), Config{Options: opts, Storage: storage, Remote: remote, Emit: rec.emit, Log: testLog(t)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Destroy(context.Background()) })
	return &testClient{Client: c, rec: rec}
}

// testLog shows warnings and errors with the test's output, until it ends.
func testLog(t *testing.T) waLog.Logger {
	if os.Getenv("CORE_DEBUG") == "" {
		return waLog.Noop
	}
	return waLog.Stdout(t.Name(), "DEBUG", false)
}

// pairQR connects c and has phone scan its first QR code; it returns the
// device's JID once c is ready and the phone's first stanzas were handled.
// (Tests take the JID from here rather than from Creds: whatsmeow writes
// the device's fields from its app-state sync without a lock.)
func pairQR(t *testing.T, c *testClient, phone string) types.JID {
	t.Helper()
	from := c.rec.count()
	if err := c.Connect(context.Background()); err != nil {
		t.Fatalf("connect: %v", err)
	}
	qr := waitFor[QR](t, c.rec, from, 10*time.Second, nil)
	jid, err := srv.ScanQR(context.Background(), phone, qr.Code)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	waitFor[Ready](t, c.rec, from, 20*time.Second, nil)
	settled(t, jid)
	return jid
}

// settled waits until the service holds nothing more for the device (the
// phone's app-state key share after pairing was acknowledged).
func settled(t *testing.T, jid types.JID) {
	t.Helper()
	for i := 0; srv.Queued(jid) != 0; i++ {
		if i == 500 {
			t.Fatalf("%d stanzas still queued for %s", srv.Queued(jid), jid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// memRemote is a RemoteStore in memory, counting its calls.
type memRemote struct {
	mu    sync.Mutex
	blobs map[string][]byte
	saves int
}

func newMemRemote() *memRemote { return &memRemote{blobs: map[string][]byte{}} }

func (m *memRemote) SessionExists(_ context.Context, s string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.blobs[s]
	return ok, nil
}

func (m *memRemote) Extract(_ context.Context, s string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.blobs[s], nil
}

func (m *memRemote) Save(_ context.Context, s string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blobs[s] = data
	m.saves++
	return nil
}

func (m *memRemote) Delete(_ context.Context, s string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, s)
	return nil
}
