//go:build !js

package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/fakewa"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sentTo waits until peer's phone received text, and returns its id.
func sentTo(t *testing.T, peer, text string) string {
	t.Helper()
	return phoneReceived(t, peer, fmt.Sprintf("%q", text), func(m fakewa.ReceivedMessage) bool { return m.Text == text }).ID
}

// exchange: peer writes to the client (which gives the client the peer's
// privacy token), the client answers.
func exchange(t *testing.T, c *testClient, me, peer, round string) {
	t.Helper()
	from := c.rec.count()
	text := "hello, round " + round
	id, err := srv.SendText(peer, me, text)
	if err != nil {
		t.Fatal(err)
	}
	msg := waitFor(t, c.rec, from, 20*time.Second, func(m Message) bool { return m.Text == text })
	if msg.ID != id || msg.FromMe || !strings.HasPrefix(msg.Sender, peer) || !strings.HasPrefix(msg.Chat, peer) || msg.IsGroup {
		t.Fatalf("message %+v, want id %s from %s", msg, id, peer)
	}
	if d := time.Since(time.UnixMilli(msg.Time)); d < -time.Minute || d > time.Minute {
		t.Fatalf("message time %d is not a unix ms timestamp of now", msg.Time)
	}
	reply := "hi, round " + round
	sent, err := c.SendText(ctxT(t), peer+"@s.whatsapp.net", reply)
	if err != nil {
		t.Fatalf("sendText: %v", err)
	}
	if got := sentTo(t, peer, reply); got != sent {
		t.Fatalf("the peer got id %s, sendText said %s", got, sent)
	}
	// The exchange ends with the peer's delivery receipt, so no event of it
	// is still on its way when the caller goes on.
	waitFor(t, c.rec, from, 20*time.Second, func(r Receipt) bool {
		return r.Type == ReceiptDelivered && slices.Contains(r.IDs, sent)
	})
}

func TestPairByQRTextBothWaysAndReload(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Frank"), newAccount(t, "Gina")
	storage := newKeptStorage()
	opts := DefaultOptions()
	c := newClient(t, opts, storage, nil)
	if c.State() != StateIdle || c.Creds().Registered {
		t.Fatalf("a new client is %s with creds %+v", c.State(), c.Creds())
	}
	pairQR(t, c, me)
	auth := waitFor[Authenticated](t, c.rec, 0, time.Second, nil)
	if auth.Method != "pairing" || auth.Me == nil || !strings.HasPrefix(*auth.Me, me) {
		t.Fatalf("authenticated %+v", auth)
	}
	if c.State() != StateReady || !c.IsConnected() || !c.IsLoggedIn() || !c.Creds().Registered {
		t.Fatalf("after ready: state %s, connected %v, logged in %v, creds %+v", c.State(), c.IsConnected(), c.IsLoggedIn(), c.Creds())
	}
	up := waitFor(t, c.rec, 0, time.Second, func(u CredsUpdate) bool { return u.Creds.Registered })
	if !strings.Contains(strings.Join(up.Changed, ","), "me") {
		t.Fatalf("creds.update %+v does not name me", up)
	}
	exchange(t, c, me, peer, "1")
	// By phone number too.
	if _, err := c.SendText(ctxT(t), peer, "by number"); err != nil {
		t.Fatal(err)
	}
	sentTo(t, peer, "by number")

	// A reload: the client goes, a new one on the same storage logs in.
	if err := c.Destroy(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	c2 := newClient(t, opts, storage, nil)
	if err := c2.Connect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	auth2 := waitFor[Authenticated](t, c2.rec, 0, 15*time.Second, nil)
	waitFor[Ready](t, c2.rec, 0, 15*time.Second, nil)
	if auth2.Method != "stored" || *auth2.Me != *auth.Me {
		t.Fatalf("after the reload: authenticated %+v, before %+v", auth2, auth)
	}
	exchange(t, c2, me, peer, "2")
}

func TestPairByCode(t *testing.T) {
	t.Parallel()
	me := newAccount(t, "Hana")
	c := newClient(t, Options{}, nil, nil)
	if _, err := c.RequestPairingCode(ctxT(t), "0123"); CodeOf(err) != CodeInvalidPhone {
		t.Fatalf("a bad phone: %v (code %q)", err, CodeOf(err))
	}
	code, err := c.RequestPairingCode(ctxT(t), "+"+me)
	if err != nil {
		t.Fatalf("requestPairingCode: %v", err)
	}
	ev := waitFor[PairingCode](t, c.rec, 0, time.Second, nil)
	if ev.Code != code || ev.Phone != me || len(strings.ReplaceAll(code, "-", "")) != 8 {
		t.Fatalf("pairing_code %+v, returned %q", ev, code)
	}
	if _, err := srv.EnterPairingCode(ctxT(t), me, code); err != nil {
		t.Fatalf("the phone entering %s: %v", code, err)
	}
	waitFor[Ready](t, c.rec, 0, 20*time.Second, nil)
	if _, err := c.RequestPairingCode(ctxT(t), me); CodeOf(err) != CodeAlreadyPaired {
		t.Fatalf("a paired client asking again: %v", err)
	}
}

func TestReconnectAfterACutAndDisconnectStopsIt(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Ivo"), newAccount(t, "Jana")
	c := newClient(t, Options{}, nil, nil)
	jid := pairQR(t, c, me)
	exchange(t, c, me, peer, "before the cut")
	from := c.rec.count()
	if err := srv.CutSocket(jid, 0); err != nil {
		t.Fatal(err)
	}
	lost := waitFor[Disconnected](t, c.rec, from, 10*time.Second, nil)
	if lost.Reason != DisconnectConnectionLost {
		t.Fatalf("disconnected %+v", lost)
	}
	re := waitFor[Reconnecting](t, c.rec, from, 5*time.Second, nil)
	if re.Attempt != 1 || re.DelayMs != 0 {
		t.Fatalf("reconnecting %+v, want attempt 1 at once", re)
	}
	waitFor[Ready](t, c.rec, from, 20*time.Second, nil)
	exchange(t, c, me, peer, "after the cut")

	from = c.rec.count()
	if err := c.Disconnect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if d := waitFor[Disconnected](t, c.rec, from, time.Second, nil); d.Reason != DisconnectClient {
		t.Fatalf("disconnect(): %+v", d)
	}
	time.Sleep(1500 * time.Millisecond)
	if names := c.rec.names(from); len(names) != 1 || c.State() != StateDisconnected || c.IsConnected() {
		t.Fatalf("after disconnect(): events %v, state %s", names, c.State())
	}
	if _, err := c.SendText(ctxT(t), peer, "x"); CodeOf(err) != CodeNotConnected {
		t.Fatalf("sendText while disconnected: %v", err)
	}
}

func TestLogoutWipesAndStartsOver(t *testing.T) {
	t.Parallel()
	me := newAccount(t, "Karl")
	storage := newKeptStorage()
	c := newClient(t, DefaultOptions(), storage, nil)
	myJID := pairQR(t, c, me).String()
	from := c.rec.count()
	if err := c.Logout(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	out := waitFor[LoggedOut](t, c.rec, from, time.Second, nil)
	up := waitFor[CredsUpdate](t, c.rec, from, time.Second, nil)
	if out.Reason != LoggedOutLogout || up.Creds != (Creds{}) || !strings.Contains(strings.Join(up.Changed, ","), "registered") {
		t.Fatalf("logged_out %+v, creds.update %+v", out, up)
	}
	if c.State() != StateLoggedOut || c.Creds().Registered || !storage.empty() {
		t.Fatalf("after logout: state %s, creds %+v, storage empty %v", c.State(), c.Creds(), storage.empty())
	}
	for _, a := range srv.Accounts() {
		for _, d := range a.Devices {
			if d.JID == myJID {
				t.Fatalf("the service still lists %s", myJID)
			}
		}
	}
	if err := c.Logout(ctxT(t)); CodeOf(err) != CodeNotLoggedIn {
		t.Fatalf("a second logout: %v", err)
	}
	// The next connect is a fresh device: a QR again, and pairing works.
	if again := pairQR(t, c, me); again.String() == myJID {
		t.Fatalf("paired again as the old device %s", myJID)
	}
}

func TestServerSideLogout(t *testing.T) {
	t.Parallel()
	me := newAccount(t, "Lena")
	c := newClient(t, Options{}, nil, nil)
	jid := pairQR(t, c, me)
	from := c.rec.count()
	if err := srv.Logout(jid); err != nil {
		t.Fatal(err)
	}
	out := waitFor[LoggedOut](t, c.rec, from, 10*time.Second, nil)
	if !strings.HasPrefix(out.Reason, LoggedOutServer) {
		t.Fatalf("logged_out %+v", out)
	}
	for deadline := time.Now().Add(5 * time.Second); c.State() != StateLoggedOut; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("state %s after a server logout", c.State())
		}
	}
}

func TestQRCodesRunOut(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	opts.Strategy, opts.QRTimeout, opts.QRMaxRetries = StrategyNone, 300*time.Millisecond, 1
	c := newClient(t, opts, nil, nil)
	if err := c.Connect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	fail := waitFor[AuthFailure](t, c.rec, 0, 10*time.Second, nil)
	gone := waitFor[Disconnected](t, c.rec, 0, time.Second, nil)
	var qrs []QR
	for _, e := range c.rec.snapshot() {
		if q, ok := e.(QR); ok {
			qrs = append(qrs, q)
		}
	}
	if len(qrs) != 2 || qrs[0].TimeoutMs != 300 || qrs[0].Code == qrs[1].Code || !strings.HasPrefix(qrs[0].Code, "https://wa.me/settings/linked_devices#") {
		t.Fatalf("qr events %+v: want 2 different wa.me codes of 300 ms", qrs)
	}
	if fail.Reason != AuthQRTimeout || gone.Reason != DisconnectQRTimeout || c.State() != StateDisconnected || c.IsConnected() {
		t.Fatalf("auth_failure %+v, disconnected %+v, state %s", fail, gone, c.State())
	}
}

func TestRemoteSessionSavedRestoredAndDeleted(t *testing.T) {
	t.Parallel()
	me := newAccount(t, "Mira")
	remote := newMemRemote()
	opts := DefaultOptions()
	opts.Strategy, opts.ClientID, opts.BackupInterval = StrategyRemote, "mira", time.Hour
	c := newClient(t, opts, newKeptStorage(), remote)
	pairQR(t, c, me)
	saved := waitFor[RemoteSessionSaved](t, c.rec, 0, 10*time.Second, nil)
	if saved.Session != "mira" || saved.Bytes == 0 || saved.Records == 0 || saved.Format != "wasmeow-session" || saved.Version != 1 {
		t.Fatalf("remote_session_saved %+v", saved)
	}
	if ok, _ := remote.SessionExists(ctxT(t), "mira"); !ok {
		t.Fatal("nothing saved")
	}
	// Another browser: empty local storage, the session comes from the store.
	if err := c.Destroy(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	other := newClient(t, opts, newKeptStorage(), remote)
	if !other.Creds().Registered {
		t.Fatal("the restored client has no device")
	}
	if err := other.Connect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if a := waitFor[Authenticated](t, other.rec, 0, 15*time.Second, nil); a.Method != "stored" {
		t.Fatalf("authenticated %+v", a)
	}
	waitFor[Ready](t, other.rec, 0, 15*time.Second, nil)
	if err := other.Logout(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := remote.SessionExists(ctxT(t), "mira"); ok {
		t.Fatal("a confirmed logout left the remote copy")
	}
	// A store holding garbage is a restore_failed error, not a crash.
	remote.blobs["mira"] = []byte("not a snapshot")
	if _, err := New(ctxT(t), Config{Options: opts, Storage: newKeptStorage(), Remote: remote}); CodeOf(err) != CodeRestoreFailed {
		t.Fatalf("restoring garbage: %v", err)
	}
}

func TestStorageFailureClosesTheConnection(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Nils"), newAccount(t, "Olga")
	storage := newKeptStorage()
	c := newClient(t, DefaultOptions(), storage, nil)
	pairQR(t, c, me)
	exchange(t, c, me, peer, "1")
	storage.failCommits.Store(true)
	from := c.rec.count()
	if _, err := srv.SendText(peer, me, "not storable"); err != nil {
		t.Fatal(err)
	}
	e := waitFor(t, c.rec, from, 15*time.Second, func(e ErrorEvent) bool { return CodeOf(e.Err) == CodeStoreFailed })
	if !strings.Contains(e.Err.Error(), "QuotaExceededError") {
		t.Fatalf("error %v does not say why", e.Err)
	}
	d := waitFor[Disconnected](t, c.rec, from, 5*time.Second, nil)
	if d.Reason != DisconnectStoreFailed {
		t.Fatalf("disconnected %+v", d)
	}
	for _, ev := range c.rec.snapshot()[from:] {
		if m, ok := ev.(Message); ok {
			t.Fatalf("a message whose decryption was not stored reached the page: %+v", m)
		}
	}
	// The session stays unusable (its unstored state is lost) until it is
	// opened again: a reload with the storage back gets the message the
	// ack never left for.
	if _, err := c.SendText(ctxT(t), peer, "x"); CodeOf(err) != CodeNotConnected {
		t.Fatalf("sendText after the failure: %v", err)
	}
	_ = c.Destroy(ctxT(t))
	storage.failCommits.Store(false)
	c2 := newClient(t, DefaultOptions(), storage, nil)
	if err := c2.Connect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c2.rec, 0, 20*time.Second, func(m Message) bool { return m.Text == "not storable" })
}
