//go:build !js

package fakewa_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/fakewa"
)

// whatsmeow.WACertPubKey is process-wide: every server in this test binary
// uses the same root key.
var testRootKey = sha256.Sum256([]byte("fakewa test root key"))

func TestMain(m *testing.M) {
	srv, err := fakewa.New(fakewa.Config{RootKey: &testRootKey, Log: waLog.Noop})
	if err != nil {
		panic(err)
	}
	whatsmeow.WACertPubKey = srv.RootPublicKey()
	// The pinned whatsmeow's own version is refused by today's service and
	// by the double's default minimum.
	fakewa.UseVersion(fakewa.CurrentVersion)
	os.Exit(m.Run())
}

// testLogger sends logs to t.Log until the test ends; the lock makes sure no
// goroutine logs after that (which would panic).
type testLogger struct {
	t      testing.TB
	mod    string
	min    int
	mu     *sync.Mutex
	closed *bool
}

var levels = map[string]int{"DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3}

func newTestLogger(t testing.TB, mod, min string) waLog.Logger {
	mu, closed := &sync.Mutex{}, new(bool)
	t.Cleanup(func() { mu.Lock(); *closed = true; mu.Unlock() })
	if os.Getenv("FAKEWA_DEBUG") != "" {
		min = "DEBUG"
	}
	return &testLogger{t: t, mod: mod, min: levels[min], mu: mu, closed: closed}
}

func (l *testLogger) log(level, msg string, args ...any) {
	if levels[level] < l.min {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !*l.closed {
		l.t.Logf("%s [%s %s] %s", time.Now().Format("15:04:05.000"), l.mod, level, fmt.Sprintf(msg, args...))
	}
}
func (l *testLogger) Warnf(m string, a ...any)  { l.log("WARN", m, a...) }
func (l *testLogger) Errorf(m string, a ...any) { l.log("ERROR", m, a...) }
func (l *testLogger) Infof(m string, a ...any)  { l.log("INFO", m, a...) }
func (l *testLogger) Debugf(m string, a ...any) { l.log("DEBUG", m, a...) }
func (l *testLogger) Sub(mod string) waLog.Logger {
	return &testLogger{t: l.t, mod: l.mod + "/" + mod, min: l.min, mu: l.mu, closed: l.closed}
}

func newServer(t testing.TB, cfg fakewa.Config) *fakewa.Server {
	t.Helper()
	cfg.RootKey = &testRootKey
	if cfg.Log == nil {
		cfg.Log = newTestLogger(t, "fakewa", "INFO")
	}
	return fakewa.Listening(t, cfg)
}

// testClient is an unmodified whatsmeow client on sqlstore (sqlite in a temp dir).
type testClient struct {
	t         testing.TB
	name      string
	srv       *fakewa.Server
	container *sqlstore.Container
	cli       *whatsmeow.Client
	events    chan any
}

func newContainer(t testing.TB, name string) *sqlstore.Container {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".db")
	c, err := sqlstore.New(context.Background(), "sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=5000&_journal_mode=WAL&_synchronous=OFF", waLog.Noop)
	if err != nil {
		t.Fatalf("sqlstore for %s: %v", name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newTestClient makes a client on the container's first device (a new one if empty).
func newTestClient(t testing.TB, srv *fakewa.Server, name string, container *sqlstore.Container) *testClient {
	t.Helper()
	if container == nil {
		container = newContainer(t, name)
	}
	dev, err := container.GetFirstDevice(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return newTestClientOn(t, srv, name, container, dev)
}

func newTestClientOn(t testing.TB, srv *fakewa.Server, name string, container *sqlstore.Container, dev *store.Device) *testClient {
	t.Helper()
	return newTestClientLog(t, srv, name, container, dev, newTestLogger(t, name, "WARN"))
}

func newTestClientLog(t testing.TB, srv *fakewa.Server, name string, container *sqlstore.Container, dev *store.Device, log waLog.Logger) *testClient {
	t.Helper()
	cli := whatsmeow.NewClient(dev, log)
	cli.SetPreLoginHTTPClient(srv.HTTPClient())
	cli.SetWebsocketHTTPClient(srv.HTTPClient())
	// Blobs (history sync, app state, media) from the double too. A spare
	// connection the transport dialed but never used would hold up the
	// server's Close (Shutdown waits for new connections).
	media := srv.HTTPClient()
	cli.SetMediaHTTPClient(media)
	t.Cleanup(media.CloseIdleConnections)
	tc := &testClient{t: t, name: name, srv: srv, container: container, cli: cli, events: make(chan any, 1000)}
	cli.AddEventHandler(func(evt any) {
		select {
		case tc.events <- evt:
		default:
			t.Errorf("%s: event buffer full, dropped %T", name, evt)
		}
	})
	t.Cleanup(cli.Disconnect)
	return tc
}

// waitEvent returns the first event for which match returns true.
func waitEvent[T any](tc *testClient, timeout time.Duration, match func(T) bool) T {
	tc.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case evt := <-tc.events:
			if e, ok := evt.(T); ok && (match == nil || match(e)) {
				return e
			}
		case <-deadline:
			var zero T
			tc.t.Fatalf("%s: no %T within %s", tc.name, zero, timeout)
			return zero
		}
	}
}

func (tc *testClient) connect() {
	tc.t.Helper()
	if err := tc.cli.Connect(); err != nil {
		tc.t.Fatalf("%s: connect: %v", tc.name, err)
	}
}

// pairQR connects an unpaired client and has the account's phone scan its
// first QR code; it returns once the client is connected as the new device.
func pairQR(t testing.TB, srv *fakewa.Server, tc *testClient, phone string) types.JID {
	t.Helper()
	tc.connect()
	qr := waitEvent[*events.QR](tc, 10*time.Second, nil)
	if len(qr.Codes) == 0 {
		t.Fatalf("%s: QR event without codes", tc.name)
	}
	jid, err := srv.ScanQR(context.Background(), phone, qr.Codes[0])
	if err != nil {
		t.Fatalf("scan QR of %s: %v", tc.name, err)
	}
	ps := waitEvent[*events.PairSuccess](tc, 10*time.Second, nil)
	if ps.ID != jid {
		t.Fatalf("%s: PairSuccess for %s, server says %s", tc.name, ps.ID, jid)
	}
	waitEvent[*events.Connected](tc, 15*time.Second, nil)
	// The phone's app state key share is acknowledged: nothing left queued.
	for i := 0; srv.Queued(jid) != 0; i++ {
		if i == 500 {
			t.Fatalf("%s: %d stanzas still queued after pairing", tc.name, srv.Queued(jid))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return jid
}

func mustAccount(t testing.TB, srv *fakewa.Server, phone, name string) fakewa.AccountInfo {
	t.Helper()
	info, err := srv.CreateAccount(phone, name)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func findDevice(srv *fakewa.Server, jid types.JID) (fakewa.DeviceInfo, bool) {
	for _, a := range srv.Accounts() {
		for _, d := range a.Devices {
			if d.JID == jid.String() {
				return d, true
			}
		}
	}
	return fakewa.DeviceInfo{}, false
}

func errContains(err error, sub string) bool {
	return err != nil && strings.Contains(err.Error(), sub)
}

// errorCapture passes logs on and copies error lines to a channel.
type errorCapture struct {
	waLog.Logger
	errs chan string
}

func (e *errorCapture) Errorf(msg string, args ...any) {
	line := fmt.Sprintf(msg, args...)
	select {
	case e.errs <- line:
	default:
	}
	e.Logger.Errorf("%s", line)
}

func (e *errorCapture) Sub(mod string) waLog.Logger {
	return &errorCapture{Logger: e.Logger.Sub(mod), errs: e.errs}
}

func textMessage(text string) *waE2E.Message {
	return &waE2E.Message{Conversation: proto.String(text)}
}

// waitQR returns the first QR code, without failing the test from a goroutine.
func waitQR(tc *testClient, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case evt := <-tc.events:
			if qr, ok := evt.(*events.QR); ok && len(qr.Codes) > 0 {
				return qr.Codes[0], nil
			}
		case <-deadline:
			return "", fmt.Errorf("%s: no QR within %s", tc.name, timeout)
		}
	}
}

func waitConnected(tc *testClient, timeout time.Duration) {
	tc.t.Helper()
	waitEvent[*events.Connected](tc, timeout, nil)
}
