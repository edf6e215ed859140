//go:build !js

package sessionconv_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"regexp"
	"slices"
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
	"github.com/wasmeow/wasmeow/idbstore"
)

// A small harness around fakewa (its own test helpers are not exported):
// one server per test, unmodified whatsmeow clients, and a log that counts
// every line about a retry receipt or a failed decryption on either side.

var rootKey = sha256.Sum256([]byte("sessionconv test root key"))

func TestMain(m *testing.M) {
	srv, err := fakewa.New(fakewa.Config{RootKey: &rootKey, Log: waLog.Noop})
	if err != nil {
		panic(err)
	}
	whatsmeow.WACertPubKey = srv.RootPublicKey() // process-wide
	_ = srv.Close()
	fakewa.UseVersion(fakewa.CurrentVersion)
	os.Exit(m.Run())
}

// troubleLog passes WARN and ERROR lines to t.Log and keeps every line, at
// any level, that tells of a retry receipt or a decryption failure.
type troubleLog struct {
	t      testing.TB
	mod    string
	mu     *sync.Mutex
	lines  *[]string
	closed *bool
}

var trouble = regexp.MustCompile(`(?i)retry receipt|failed to decrypt|cannot decrypt|undecryptable`)

func newTroubleLog(t testing.TB, mod string) *troubleLog {
	l := &troubleLog{t: t, mod: mod, mu: &sync.Mutex{}, lines: new([]string), closed: new(bool)}
	t.Cleanup(func() { l.mu.Lock(); *l.closed = true; l.mu.Unlock() })
	return l
}

func (l *troubleLog) log(level, msg string, args ...any) {
	line := fmt.Sprintf(msg, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if trouble.MatchString(line) {
		*l.lines = append(*l.lines, l.mod+": "+line)
	}
	if (level == "WARN" || level == "ERROR" || os.Getenv("SESSIONCONV_DEBUG") != "") && !*l.closed {
		l.t.Logf("[%s %s] %s", l.mod, level, line)
	}
}

func (l *troubleLog) Debugf(m string, a ...any) { l.log("DEBUG", m, a...) }
func (l *troubleLog) Infof(m string, a ...any)  { l.log("INFO", m, a...) }
func (l *troubleLog) Warnf(m string, a ...any)  { l.log("WARN", m, a...) }
func (l *troubleLog) Errorf(m string, a ...any) { l.log("ERROR", m, a...) }
func (l *troubleLog) Sub(mod string) waLog.Logger {
	c := *l
	c.mod = l.mod + "/" + mod
	return &c
}

// Trouble returns the lines kept so far.
func (l *troubleLog) Trouble() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(*l.lines)
}

func startServer(t *testing.T, log waLog.Logger) *fakewa.Server {
	t.Helper()
	srv, err := fakewa.New(fakewa.Config{RootKey: &rootKey, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func openSQLStore(t *testing.T, path string) *sqlstore.Container {
	t.Helper()
	c, err := sqlstore.New(context.Background(), "sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=5000&_journal_mode=WAL", waLog.Noop)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// client is an unmodified whatsmeow client and its events.
type client struct {
	t      *testing.T
	name   string
	cli    *whatsmeow.Client
	events chan any
}

func newClient(t *testing.T, srv *fakewa.Server, name string, dev *store.Device, log waLog.Logger) *client {
	t.Helper()
	cli := whatsmeow.NewClient(dev, log)
	// The page runs whatsmeow with the decrypted-event buffer; sqlstore users
	// mostly do not (on sqlite its decryption transaction can meet "database
	// is locked" from the client's other writers).
	_, cli.EnableDecryptedEventBuffer = dev.Container.(*idbstore.Container)
	cli.SetPreLoginHTTPClient(srv.HTTPClient())
	cli.SetWebsocketHTTPClient(srv.HTTPClient())
	media := srv.HTTPClient()
	cli.SetMediaHTTPClient(media)
	t.Cleanup(media.CloseIdleConnections)
	c := &client{t: t, name: name, cli: cli, events: make(chan any, 1000)}
	cli.AddEventHandler(func(evt any) {
		select {
		case c.events <- evt:
		default:
			t.Errorf("%s: event buffer full, dropped %T", name, evt)
		}
	})
	t.Cleanup(cli.Disconnect)
	return c
}

// next returns the first event of type T that match accepts, failing the
// test on fail (an event that must not happen) or at the timeout.
func next[T any](c *client, timeout time.Duration, match func(T) bool, fail func(any) string) T {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case evt := <-c.events:
			if fail != nil {
				if why := fail(evt); why != "" {
					c.t.Fatalf("%s: %s", c.name, why)
				}
			}
			if e, ok := evt.(T); ok && (match == nil || match(e)) {
				return e
			}
		case <-deadline:
			var zero T
			c.t.Fatalf("%s: no %T within %s", c.name, zero, timeout)
			return zero
		}
	}
}

// noNewLink fails on what a device that kept its link never sees.
func noNewLink(evt any) string {
	switch e := evt.(type) {
	case *events.QR:
		return "asked for a QR: the link was lost"
	case *events.PairSuccess:
		return "paired again"
	case *events.LoggedOut:
		return fmt.Sprintf("logged out (%v)", e.Reason)
	case *events.UndecryptableMessage:
		return fmt.Sprintf("could not decrypt %s from %s", e.Info.ID, e.Info.Sender)
	}
	return ""
}

// pair connects an unpaired client and has phone scan its QR.
func pair(t *testing.T, srv *fakewa.Server, c *client, phone string) types.JID {
	t.Helper()
	if err := c.cli.Connect(); err != nil {
		t.Fatal(err)
	}
	qr := next[*events.QR](c, 10*time.Second, nil, nil)
	jid, err := srv.ScanQR(context.Background(), phone, qr.Codes[0])
	if err != nil {
		t.Fatal(err)
	}
	next[*events.PairSuccess](c, 10*time.Second, nil, nil)
	next[*events.Connected](c, 15*time.Second, nil, nil)
	settle(t, srv, jid)
	return jid
}

// reconnect connects a paired client: it must log in with no QR.
func reconnect(t *testing.T, srv *fakewa.Server, c *client) {
	t.Helper()
	if err := c.cli.Connect(); err != nil {
		t.Fatal(err)
	}
	next[*events.Connected](c, 15*time.Second, nil, noNewLink)
	settle(t, srv, c.cli.Store.GetJID())
}

// settle waits until the server holds nothing unacknowledged for jid.
func settle(t *testing.T, srv *fakewa.Server, jid types.JID) {
	t.Helper()
	for i := 0; srv.Queued(jid) != 0; i++ {
		if i == 1000 {
			t.Fatalf("%d stanzas still queued for %s", srv.Queued(jid), jid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// talk exchanges texts both ways between c and peer's phone: the phone
// sends first (so a lost session shows: the phone goes on with the one it
// has, the client's copy of it must decrypt), c receives and decrypts; c
// sends, the phone receives and decrypts.
func talk(t *testing.T, srv *fakewa.Server, c *client, peerPhone, round string) {
	t.Helper()
	peer := types.NewJID(peerPhone, types.DefaultUserServer)
	for i := range 2 {
		text := fmt.Sprintf("%s: to %s, %d", round, c.name, i)
		id, err := srv.SendText(peerPhone, c.cli.Store.GetJID().User, text)
		if err != nil {
			t.Fatal(err)
		}
		next(c, 10*time.Second, func(m *events.Message) bool {
			return m.Info.ID == id && m.Message.GetConversation() == text
		}, noNewLink)

		reply := fmt.Sprintf("%s: from %s, %d", round, c.name, i)
		resp, err := c.cli.SendMessage(context.Background(), peer, &waE2E.Message{Conversation: proto.String(reply)})
		if err != nil {
			t.Fatalf("%s: send: %v", c.name, err)
		}
		waitPhoneGot(t, srv, peerPhone, resp.ID, reply)
	}
	settle(t, srv, c.cli.Store.GetJID()) // every receipt sent: nothing to redeliver
}

func waitPhoneGot(t *testing.T, srv *fakewa.Server, phone, id, text string) {
	t.Helper()
	for i := 0; ; i++ {
		msgs, err := srv.Messages(phone)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(msgs, func(m fakewa.ReceivedMessage) bool { return m.ID == id }) {
			for _, m := range msgs {
				if m.ID == id && m.Text != text {
					t.Fatalf("phone %s got %q for %s, want %q", phone, m.Text, id, text)
				}
			}
			return
		}
		if i == 500 {
			t.Fatalf("phone %s never got %s (%q)", phone, id, text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// companions lists the JIDs of the account's linked devices on the server.
func companions(srv *fakewa.Server, phone string) []string {
	var out []string
	for _, a := range srv.Accounts() {
		if a.Phone != phone {
			continue
		}
		for _, d := range a.Devices {
			if j, err := types.ParseJID(d.JID); err == nil && j.Device != 0 {
				out = append(out, d.JID)
			}
		}
	}
	return out
}
