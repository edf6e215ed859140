package relay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket" // the project's wsshim: whatsmeow's own socket library
	_ "github.com/mattn/go-sqlite3"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/fakewa"
)

// originRecorder is the upstream: fakewa behind a handler that records the
// Origin header of every websocket request it gets.
type originRecorder struct {
	next    http.Handler
	mu      sync.Mutex
	origins []string
}

func (o *originRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ws/chat" {
		o.mu.Lock()
		o.origins = append(o.origins, r.Header.Get("Origin"))
		o.mu.Unlock()
	}
	o.next.ServeHTTP(w, r)
}

// An unmodified whatsmeow client on sqlstore, dialing the relay through the
// shim's URL rewrite (as the browser build does), pairs by QR and logs in
// with fakewa as the upstream; every socket reaches fakewa with WhatsApp's
// Origin, and the Noise session works through the relay's byte copying.
func TestWhatsmeowPairsAndLogsInThroughRelay(t *testing.T) {
	fw, err := fakewa.New(fakewa.Config{Log: waLog.Noop})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fw.Close() })
	rec := &originRecorder{next: fw}
	upstreamSrv := httptest.NewServer(rec)
	t.Cleanup(upstreamSrv.Close)

	const phone = "15550109999"
	if _, err := fw.CreateAccount(phone, "Relay Test"); err != nil {
		t.Fatal(err)
	}

	// whatsmeow sends WhatsApp's Origin to whatever it dials, so the relay must
	// accept that Origin here; a browser page sends its own.
	rl, relayURL := newRelay(t, Config{
		Upstream:       "ws" + strings.TrimPrefix(upstreamSrv.URL, "http") + "/ws/chat",
		AllowedOrigins: []string{"web.whatsapp.com"},
	})

	// Announce a version fakewa (like today's service) accepts: the pin's own
	// is refused with 405. Process-wide, and no other test here connects.
	fakewa.UseVersion(fakewa.CurrentVersion)
	oldKey := whatsmeow.WACertPubKey
	whatsmeow.WACertPubKey = fw.RootPublicKey()
	websocket.SetURLRewrite(func(string) string { return relayURL })
	t.Cleanup(func() {
		websocket.SetURLRewrite(nil)
		whatsmeow.WACertPubKey = oldKey
	})

	ctx := context.Background()
	container, err := sqlstore.New(ctx, "sqlite3",
		"file:"+filepath.Join(t.TempDir(), "relay.db")+"?_foreign_keys=on&_busy_timeout=5000", waLog.Noop)
	if err != nil {
		t.Fatalf("sqlstore: %v", err)
	}
	t.Cleanup(func() { _ = container.Close() })
	dev, err := container.GetFirstDevice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cli := whatsmeow.NewClient(dev, waLog.Noop)
	evts := make(chan any, 1000)
	cli.AddEventHandler(func(evt any) {
		select {
		case evts <- evt:
		default:
		}
	})
	t.Cleanup(cli.Disconnect)

	wait := func(what string, timeout time.Duration, match func(any) bool) any {
		t.Helper()
		deadline := time.After(timeout)
		for {
			select {
			case e := <-evts:
				if match(e) {
					return e
				}
			case <-deadline:
				t.Fatalf("no %s within %s", what, timeout)
				return nil
			}
		}
	}

	if err := cli.Connect(); err != nil {
		t.Fatalf("connect through relay: %v", err)
	}
	qr := wait("QR event", 15*time.Second, func(e any) bool { _, ok := e.(*events.QR); return ok }).(*events.QR)
	if len(qr.Codes) == 0 {
		t.Fatal("QR event without codes")
	}
	jid, err := fw.ScanQR(ctx, phone, qr.Codes[0])
	if err != nil {
		t.Fatalf("scanning the QR: %v", err)
	}
	ps := wait("PairSuccess", 15*time.Second, func(e any) bool { _, ok := e.(*events.PairSuccess); return ok }).(*events.PairSuccess)
	if ps.ID != jid {
		t.Fatalf("PairSuccess for %s, fakewa linked %s", ps.ID, jid)
	}
	// After pairing the server ends the socket (515) and the client logs in
	// on a new one: both through the relay.
	wait("Connected", 20*time.Second, func(e any) bool { _, ok := e.(*events.Connected); return ok })
	if !cli.IsLoggedIn() {
		t.Fatal("client not logged in after Connected")
	}

	// A reconnect with stored credentials also goes through the relay.
	cli.Disconnect()
	if err := cli.Connect(); err != nil {
		t.Fatalf("reconnect through relay: %v", err)
	}
	wait("Connected after reconnect", 20*time.Second, func(e any) bool { _, ok := e.(*events.Connected); return ok })

	st := rl.Stats()
	if st.Connections < 3 {
		t.Errorf("relay saw %d connections, want at least 3 (pairing, login, reconnect)", st.Connections)
	}
	if st.BytesUp == 0 || st.BytesDown == 0 {
		t.Errorf("relay copied %d bytes up and %d down; want both non-zero", st.BytesUp, st.BytesDown)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if int64(len(rec.origins)) != st.Connections {
		t.Errorf("fakewa saw %d websocket requests, relay made %d", len(rec.origins), st.Connections)
	}
	for i, o := range rec.origins {
		if o != WhatsAppOrigin {
			t.Errorf("upstream request %d had Origin %q, want %q", i, o, WhatsAppOrigin)
		}
	}
	t.Logf("relay: %d connections, %d bytes up, %d bytes down", st.Connections, st.BytesUp, st.BytesDown)
}
