//go:build !js

package fakewa_test

import (
	"context"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

func TestQRPairingThenReconnectWithoutQR(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15551234567", "Alice")
	container := newContainer(t, "alice-web")
	tc := newTestClient(t, srv, "alice-web", container)
	jid := pairQR(t, srv, tc, acct.Phone)

	if jid.User != acct.Phone || jid.Device == 0 {
		t.Fatalf("paired as %s, want a companion of %s", jid, acct.Phone)
	}
	st := tc.cli.Store
	if st.ID == nil || *st.ID != jid {
		t.Fatalf("store ID %v, want %s", st.ID, jid)
	}
	if st.LID.User != acct.LID[:len(acct.LID)-len("@lid")] || st.LID.Device != jid.Device {
		t.Fatalf("store LID %s, account LID %s device %d", st.LID, acct.LID, jid.Device)
	}
	if d, ok := findDevice(srv, jid); !ok || !d.Online {
		t.Fatalf("device %s listed=%v online=%v", jid, ok, d.Online)
	}
	// The prekey upload happened before Connected.
	count, err := tc.cli.Store.PreKeys.UploadedPreKeyCount(context.Background())
	if err != nil || count < 50 {
		t.Fatalf("uploaded prekeys %d (%v), want the initial batch", count, err)
	}

	tc.cli.Disconnect()
	time.Sleep(100 * time.Millisecond)
	if d, _ := findDevice(srv, jid); d.Online {
		t.Fatalf("%s still online after disconnect", jid)
	}

	// A new client over the same database logs in with no QR.
	again := newTestClient(t, srv, "alice-web-2", container)
	again.connect()
	deadline := time.After(15 * time.Second)
	for connected := false; !connected; {
		select {
		case evt := <-again.events:
			switch evt.(type) {
			case *events.QR:
				t.Fatal("reconnect asked for a QR code")
			case *events.Connected:
				connected = true
			}
		case <-deadline:
			t.Fatal("no Connected after reconnect")
		}
	}
	if *again.cli.Store.ID != jid {
		t.Fatalf("reconnected as %s, want %s", again.cli.Store.ID, jid)
	}
}

func TestQRScanErrors(t *testing.T) {
	srv := newServer(t, fakewa.Config{QRRefs: 2, QRTimeout: 1500 * time.Millisecond})
	acct := mustAccount(t, srv, "15550000001", "Bob")
	tc := newTestClient(t, srv, "bob-web", nil)
	tc.connect()
	qr := waitEvent[*events.QR](tc, 10*time.Second, nil)
	if len(qr.Codes) != 2 {
		t.Fatalf("got %d codes, want the 2 refs configured", len(qr.Codes))
	}
	ctx := context.Background()
	if _, err := srv.ScanQR(ctx, "15559999999", qr.Codes[0]); !errContains(err, "no account") {
		t.Fatalf("scan by unknown account: %v", err)
	}
	if _, err := srv.ScanQR(ctx, acct.Phone, "garbage"); !errContains(err, "4") {
		t.Fatalf("scan of garbage: %v", err)
	}
	// Once the refs run out the server drops the socket; the old codes are dead.
	waitEvent[*events.Disconnected](tc, 10*time.Second, nil)
	if _, err := srv.ScanQR(ctx, acct.Phone, qr.Codes[1]); !errContains(err, "unknown or expired") {
		t.Fatalf("scan of an expired ref: %v", err)
	}
	// An unpaired whatsmeow client does not reconnect by itself: connect
	// again and get fresh refs, which work.
	tc.connect()
	qr2 := waitEvent[*events.QR](tc, 10*time.Second, nil)
	if qr2.Codes[0] == qr.Codes[0] {
		t.Fatal("new pair-device reused an old ref")
	}
	if _, err := srv.ScanQR(ctx, acct.Phone, qr2.Codes[1]); err != nil {
		t.Fatalf("scan of a fresh second code: %v", err)
	}
	waitEvent[*events.Connected](tc, 15*time.Second, nil)
}

// A second login of the same device replaces the first socket.
func TestSecondLoginReplacesFirst(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15551234999", "Rita")
	container := newContainer(t, "rita-web")
	first := newTestClient(t, srv, "rita-web", container)
	jid := pairQR(t, srv, first, acct.Phone)
	second := newTestClient(t, srv, "rita-web-2", container)
	second.connect()
	waitEvent[*events.Connected](second, 15*time.Second, nil)
	waitEvent[*events.StreamReplaced](first, 10*time.Second, nil)
	if d, ok := findDevice(srv, jid); !ok || !d.Online {
		t.Fatalf("%s should stay online on the new socket", jid)
	}
}

// whatsmeow's Client.Logout asks the server to remove the device.
func TestClientLogsItselfOut(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15551234777", "Lou")
	container := newContainer(t, "lou-web")
	tc := newTestClient(t, srv, "lou-web", container)
	jid := pairQR(t, srv, tc, acct.Phone)
	if err := tc.cli.Logout(context.Background()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, ok := findDevice(srv, jid); ok {
		t.Fatalf("%s still registered after logging out", jid)
	}
	again := newTestClient(t, srv, "lou-web-2", container)
	again.connect()
	waitEvent[*events.QR](again, 10*time.Second, nil) // a fresh device: pairing again
}

// After pairing, the phone shares its app state key and the companion learns
// its push name from critical_block, so it can send presence.
func TestPushNameFromAppState(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15551234888", "Pat")
	tc := newTestClient(t, srv, "pat-web", nil)
	pairQR(t, srv, tc, acct.Phone)
	waitEvent[*events.AppStateSyncComplete](tc, 10*time.Second, func(e *events.AppStateSyncComplete) bool {
		return e.Name == appstate.WAPatchCriticalBlock
	})
	if got := tc.cli.Store.PushName; got != "Pat" {
		t.Fatalf("push name %q, want Pat", got)
	}
	if err := tc.cli.SendPresence(context.Background(), types.PresenceAvailable); err != nil {
		t.Fatalf("SendPresence: %v", err)
	}
}

// A pair confirmation lost on the way (fault injection): the companion
// stored a device the server never registered, and its next login is
// refused as logged out, which is how a crash right after a scan looks.
func TestLostPairConfirmation(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15550000091", "Lou")
	container := newContainer(t, "lou-web")
	tc := newTestClient(t, srv, "lou-web", container)
	tc.connect()
	qr := waitEvent[*events.QR](tc, 10*time.Second, nil)
	srv.LoseNextPairConfirmation()
	if _, err := srv.ScanQR(context.Background(), acct.Phone, qr.Codes[0]); !errContains(err, "lost") {
		t.Fatalf("scan with a lost confirmation: %v", err)
	}
	ok := waitEvent[*events.PairSuccess](tc, 10*time.Second, nil)
	if _, registered := findDevice(srv, ok.ID); registered {
		t.Fatalf("%s was registered although its confirmation was lost", ok.ID)
	}
	tc.cli.Disconnect()

	again := newTestClient(t, srv, "lou-web-2", container)
	if again.cli.Store.ID == nil {
		t.Fatal("the companion did not store the device")
	}
	again.connect()
	out := waitEvent[*events.LoggedOut](again, 10*time.Second, nil)
	if !out.OnConnect || !out.Reason.IsLoggedOut() {
		t.Fatalf("login of the unconfirmed device: %+v, want a logged-out connect failure", out)
	}
	// One fault per arming: the next pairing is confirmed.
	fresh := newTestClient(t, srv, "lou-web-3", newContainer(t, "lou-web-3"))
	if jid := pairQR(t, srv, fresh, acct.Phone); jid.User != acct.Phone {
		t.Fatalf("paired as %s", jid)
	}
}
