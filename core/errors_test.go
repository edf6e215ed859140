//go:build !js

package core

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMethodErrorsCarryTheirCodes(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Pia"), newAccount(t, "Quin")
	c := newClient(t, Options{}, nil, nil)
	ctx := ctxT(t)
	if _, err := c.SendText(ctx, peer, "x"); CodeOf(err) != CodeNotLoggedIn {
		t.Fatalf("sendText unpaired: %v", err)
	}
	if err := c.Logout(ctx); CodeOf(err) != CodeNotLoggedIn {
		t.Fatalf("logout unpaired: %v", err)
	}
	if _, err := c.ExportSession(ctx); CodeOf(err) != CodeNotLoggedIn {
		t.Fatalf("exportSession unpaired: %v", err)
	}
	pairQR(t, c, me)
	for _, bad := range []string{"not a jid!", "123", "x@example.com"} {
		if _, err := c.SendText(ctx, bad, "x"); CodeOf(err) != CodeInvalidJID {
			t.Fatalf("sendText to %q: %v", bad, err)
		}
	}
	if _, err := c.SendText(ctx, peer, ""); CodeOf(err) != CodeInvalidOption {
		t.Fatalf("an empty text: %v", err)
	}
	if _, err := c.SendText(ctx, peer, strings.Repeat("x", maxTextRunes+1)); CodeOf(err) != CodeTooLarge {
		t.Fatalf("a text too large: %v", err)
	}
	if !c.IsConnected() {
		t.Fatal("a refused send closed the socket")
	}
	blob, err := c.ExportSession(ctx)
	if err != nil || len(blob) == 0 {
		t.Fatalf("exportSession: %d bytes, %v", len(blob), err)
	}
	if _, err := DecodeSnapshot(blob); err != nil {
		t.Fatalf("the export does not decode: %v", err)
	}
	if err := c.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(ctx); err != nil {
		t.Fatalf("a second destroy: %v", err)
	}
	if c.State() != StateDestroyed || c.IsConnected() {
		t.Fatalf("destroyed client: state %s", c.State())
	}
	for name, call := range map[string]func() error{
		"connect":            func() error { return c.Connect(ctx) },
		"disconnect":         func() error { return c.Disconnect(ctx) },
		"logout":             func() error { return c.Logout(ctx) },
		"sendText":           func() error { _, err := c.SendText(ctx, peer, "x"); return err },
		"requestPairingCode": func() error { _, err := c.RequestPairingCode(ctx, "bad"); return err },
		"exportSession":      func() error { _, err := c.ExportSession(ctx); return err },
	} {
		if err := call(); CodeOf(err) != CodeDestroyed {
			t.Errorf("%s after destroy: %v", name, err)
		}
	}
}

// The page may call anything at any time: connect, disconnect, sends and
// reads race each other and a cut, then destroy races a connect. Run with
// -race; every call returns (no deadlock) and the client ends destroyed.
func TestConcurrentCallsAndCuts(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Rosa"), newAccount(t, "Sven")
	c := newClient(t, Options{}, nil, nil)
	jid := pairQR(t, c, me)
	if _, err := srv.SendText(peer, me, "token"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c.rec, 0, 20*time.Second, func(m Message) bool { return m.Text == "token" })
	ctx := ctxT(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(4)
		go func() { defer wg.Done(); _ = c.Connect(ctx) }()
		go func() { defer wg.Done(); _ = c.Disconnect(ctx) }()
		go func() { defer wg.Done(); _, _ = c.SendText(ctx, peer, "race") }()
		go func() {
			defer wg.Done()
			_, _, _ = c.State(), c.IsConnected(), c.IsLoggedIn()
			if i == 1 {
				_ = srv.CutSocket(jid, 0)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("calls still running after 30 s: a deadlock")
	}
	// The client still works: connect and text.
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !c.IsLoggedIn(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no login after the storm: state %s, events %v", c.State(), c.rec.names(0))
		}
	}
	if _, err := c.SendText(ctx, peer, "after the storm"); err != nil {
		t.Fatal(err)
	}
	sentTo(t, peer, "after the storm")
	var dwg sync.WaitGroup
	dwg.Add(2)
	go func() { defer dwg.Done(); _ = c.Connect(ctx) }()
	go func() { defer dwg.Done(); _ = c.Destroy(ctx) }()
	dwg.Wait()
	_ = c.Destroy(ctx)
	if c.State() != StateDestroyed || c.IsConnected() {
		t.Fatalf("after destroy: state %s, connected %v", c.State(), c.IsConnected())
	}
}
