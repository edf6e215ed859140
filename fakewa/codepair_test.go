//go:build !js

package fakewa_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

func TestCodePairing(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15557654321", "Carol")
	tc := newTestClient(t, srv, "carol-web", nil)
	tc.connect()
	waitEvent[*events.QR](tc, 10*time.Second, nil)
	ctx := context.Background()
	code, err := tc.cli.PairPhone(ctx, acct.Phone, true, whatsmeow.PairClientChrome, "Chrome (Linux)")
	if err != nil {
		t.Fatalf("PairPhone: %v", err)
	}
	jid, err := srv.EnterPairingCode(ctx, acct.Phone, code)
	if err != nil {
		t.Fatalf("EnterPairingCode(%s): %v", code, err)
	}
	ps := waitEvent[*events.PairSuccess](tc, 10*time.Second, nil)
	if ps.ID != jid || ps.LID.Server != types.HiddenUserServer {
		t.Fatalf("PairSuccess %+v, server paired %s", ps, jid)
	}
	waitEvent[*events.Connected](tc, 15*time.Second, nil)
	if *tc.cli.Store.ID != jid {
		t.Fatalf("client is %s, want %s", tc.cli.Store.ID, jid)
	}
}

func TestCodePairingWrongCodeThenRight(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15557654322", "Dave")
	capture := &errorCapture{Logger: newTestLogger(t, "dave-web", "WARN"), errs: make(chan string, 100)}
	tc := newTestClientLog(t, srv, "dave-web", nil, newContainer(t, "dave-web").NewDevice(), capture)
	tc.connect()
	waitEvent[*events.QR](tc, 10*time.Second, nil)
	ctx := context.Background()

	if _, err := srv.EnterPairingCode(ctx, acct.Phone, "AAAA-BBBB"); err == nil || !strings.Contains(err.Error(), "no companion") {
		t.Fatalf("code with nobody waiting: %v", err)
	}
	if _, err := tc.cli.PairPhone(ctx, "15550000000", true, whatsmeow.PairClientChrome, "Chrome (Linux)"); err == nil {
		t.Fatal("PairPhone for a number with no account succeeded")
	}
	code, err := tc.cli.PairPhone(ctx, acct.Phone, true, whatsmeow.PairClientChrome, "Chrome (Linux)")
	if err != nil {
		t.Fatalf("PairPhone: %v", err)
	}
	wrong := "ZZZZ-ZZZZ"
	if code == wrong {
		wrong = "YYYY-YYYY"
	}
	if _, err = srv.EnterPairingCode(ctx, acct.Phone, wrong); !errors.Is(err, fakewa.ErrWrongCode) {
		t.Fatalf("wrong code: %v, want ErrWrongCode", err)
	}
	// The companion's side sees its companion_finish refused.
	select {
	case line := <-capture.errs:
		if !strings.Contains(line, "code pair") || !strings.Contains(line, "401") {
			t.Fatalf("client error %q does not name the refused code pairing", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client logged no error for the wrong code")
	}
	if tc.cli.Store.ID != nil {
		t.Fatal("client paired with a wrong code")
	}
	// Asking again on the same socket and entering the right code works.
	code, err = tc.cli.PairPhone(ctx, acct.Phone, true, whatsmeow.PairClientChrome, "Chrome (Linux)")
	if err != nil {
		t.Fatalf("second PairPhone: %v", err)
	}
	if _, err = srv.EnterPairingCode(ctx, acct.Phone, strings.ToLower(code)); err != nil {
		t.Fatalf("right code: %v", err)
	}
	waitEvent[*events.Connected](tc, 15*time.Second, nil)
}

func TestClientRejectsPairing(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15557654323", "Erin")
	tc := newTestClient(t, srv, "erin-web", nil)
	tc.cli.PrePairCallback = func(types.JID, string, string) bool { return false }
	tc.connect()
	qr := waitEvent[*events.QR](tc, 10*time.Second, nil)
	_, err := srv.ScanQR(context.Background(), acct.Phone, qr.Codes[0])
	if err == nil || !strings.Contains(err.Error(), "rejected") || !strings.Contains(err.Error(), "500") {
		t.Fatalf("scan of a rejecting client: %v", err)
	}
	pe := waitEvent[*events.PairError](tc, 5*time.Second, nil)
	if !errors.Is(pe.Error, whatsmeow.ErrPairRejectedLocally) {
		t.Fatalf("PairError %v", pe.Error)
	}
	for _, a := range srv.Accounts() {
		if a.Phone == acct.Phone && len(a.Devices) != 1 {
			t.Fatalf("rejected pairing left devices %+v", a.Devices)
		}
	}
}

func TestLogoutWhileOffline(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15557654324", "Fay")
	container := newContainer(t, "fay-web")
	tc := newTestClient(t, srv, "fay-web", container)
	jid := pairQR(t, srv, tc, acct.Phone)
	tc.cli.Disconnect()
	if err := srv.Logout(jid); err != nil {
		t.Fatal(err)
	}
	again := newTestClient(t, srv, "fay-web-2", container)
	again.connect()
	lo := waitEvent[*events.LoggedOut](again, 10*time.Second, nil)
	if !lo.OnConnect || lo.Reason != events.ConnectFailureLoggedOut {
		t.Fatalf("LoggedOut %+v, want on connect with reason 401", lo)
	}
	// whatsmeow dispatches LoggedOut before it deletes the store.
	for i := 0; ; i++ {
		devs, err := container.GetAllDevices(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(devs) == 0 {
			break
		}
		if i == 50 {
			t.Fatal("client kept its credentials after a logout")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCutAfterFrames(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15557654325", "Gus")
	tc := newTestClient(t, srv, "gus-web", nil)
	jid := pairQR(t, srv, tc, acct.Phone)
	if err := srv.CutSocket(jid, 1); err != nil {
		t.Fatal(err)
	}
	// One more frame (the keepalive answer) goes out, then the socket drops.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := tc.cli.DangerousInternals().SendIQ(ctx, whatsmeow.DangerousInfoQuery{Namespace: "w:p", Type: "get", To: types.ServerJID}); err != nil {
		t.Fatalf("the frame before the cut was not delivered: %v", err)
	}
	waitEvent[*events.Disconnected](tc, 5*time.Second, nil)
	waitEvent[*events.Connected](tc, 15*time.Second, nil)
	if err := srv.CutSocket(types.JID{User: "19999999999", Server: types.DefaultUserServer, Device: 3}, 0); err == nil {
		t.Fatal("cut of an unknown device succeeded")
	}
}
