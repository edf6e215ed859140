package relay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"nhooyr.io/websocket"
)

// dialAs dials relayURL as a browser would that reached the relay's address
// under the name host (a DNS rebinding: the name resolves to the relay's IP),
// with Origin origin ("" for none). It returns the HTTP status of the refusal,
// or 101 and the open socket.
func dialAs(t *testing.T, ctx context.Context, relayURL, host, origin string) (int, *websocket.Conn) {
	t.Helper()
	u, err := url.Parse(relayURL)
	if err != nil {
		t.Fatal(err)
	}
	addr := u.Host
	_, port, _ := net.SplitHostPort(addr)
	u.Host = net.JoinHostPort(host, port)
	header := http.Header{}
	if origin != "" {
		header.Set("Origin", origin)
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	c, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPClient: client, HTTPHeader: header})
	if err != nil {
		if resp == nil {
			t.Fatalf("dialing %s as %s: %v", relayURL, host, err)
		}
		return resp.StatusCode, nil
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return http.StatusSwitchingProtocols, c
}

// A page whose name was rebound to the relay's IP sends its own name as both
// Origin and Host: refused, while loopback names, IP literals and configured
// names pass.
func TestDNSRebindingRefused(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) { u.recordAll(ctx, c) })
	r, relayURL := newRelay(t, Config{Upstream: up.wsURL(), AllowedHosts: []string{"relay.example.org"}})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(relayURL, "/ws/chat"), "ws://"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, tc := range []struct {
		host   string
		origin bool // send the Origin of a page of host itself
		status int
	}{
		{"evil.example", true, http.StatusForbidden},
		{"evil.example", false, http.StatusForbidden},
		{"localhost.evil.example", true, http.StatusForbidden},
		{"localhost", true, http.StatusSwitchingProtocols},
		{"app.localhost", true, http.StatusSwitchingProtocols},
		{"127.0.0.1", true, http.StatusSwitchingProtocols},
		{"::1", false, http.StatusSwitchingProtocols},
		{"relay.example.org", true, http.StatusSwitchingProtocols},
		{"RELAY.example.org.", false, http.StatusSwitchingProtocols},
	} {
		origin := ""
		if tc.origin {
			origin = "http://" + net.JoinHostPort(tc.host, port)
		}
		status, c := dialAs(t, ctx, relayURL, tc.host, origin)
		if status != tc.status {
			t.Errorf("Host %s, Origin %q: status %d, want %d", tc.host, origin, status, tc.status)
		}
		if c != nil {
			_ = c.Close(websocket.StatusNormalClosure, "")
		}
	}
	if got := r.Stats().Refused; got != 3 {
		t.Errorf("Stats().Refused = %d, want 3", got)
	}
}

// Sockets beyond the per-origin limit get 429 and beyond the total limit 503,
// before the relay dials the upstream; a closed socket frees its slot.
func TestConnectionLimits(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) { u.recordAll(ctx, c) })
	r, relayURL := newRelay(t, Config{Upstream: up.wsURL(), MaxConnections: 3, MaxConnectionsPerOrigin: 2,
		AllowedOrigins: []string{"*.example"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dial := func(origin string) (int, *websocket.Conn) {
		return dialAs(t, ctx, relayURL, "127.0.0.1", origin)
	}

	var open []*websocket.Conn
	for _, origin := range []string{"https://a.example", "https://a.example"} {
		status, c := dial(origin)
		if status != http.StatusSwitchingProtocols {
			t.Fatalf("socket %d from %s: status %d", len(open)+1, origin, status)
		}
		open = append(open, c)
	}
	if status, _ := dial("https://a.example"); status != http.StatusTooManyRequests {
		t.Errorf("third socket from one origin: status %d, want 429", status)
	}
	status, c := dial("https://b.example")
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("first socket of another origin: status %d", status)
	}
	open = append(open, c)
	if status, _ := dial("https://c.example"); status != http.StatusServiceUnavailable {
		t.Errorf("socket beyond the total: status %d, want 503", status)
	}
	up.mu.Lock()
	dials := len(up.origins)
	up.mu.Unlock()
	if n := dials; n != 3 {
		t.Errorf("upstream dialed %d times, want 3 (refused sockets cost no dial)", n)
	}
	if st := r.Stats(); st.Busy != 2 {
		t.Errorf("Stats().Busy = %d, want 2", st.Busy)
	}

	_ = open[0].Close(websocket.StatusNormalClosure, "")
	waitFor(t, func() bool { return r.Stats().Active == 2 }, "the closed socket to end")
	status, c = dial("https://a.example")
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("socket after one closed: status %d, want 101", status)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
}

// Clients that send no Origin are counted per remote IP.
func TestConnectionLimitWithoutOriginIsPerIP(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) { u.recordAll(ctx, c) })
	_, relayURL := newRelay(t, Config{Upstream: up.wsURL(), MaxConnectionsPerOrigin: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if status, _ := dialAs(t, ctx, relayURL, "127.0.0.1", ""); status != http.StatusSwitchingProtocols {
		t.Fatalf("first socket: status %d", status)
	}
	if status, _ := dialAs(t, ctx, relayURL, "127.0.0.1", ""); status != http.StatusTooManyRequests {
		t.Errorf("second socket from the same IP without Origin: status %d, want 429", status)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A socket with no frame either way for IdleTimeout is closed on both sides
// with 1001; frames in either direction keep it open.
func TestIdleSocketsClosed(t *testing.T) {
	const idle = time.Second
	talk := make(chan struct{})
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) {
		// The upstream speaks every idle/5 until told to stop, then listens.
		for {
			select {
			case <-talk:
				u.recordAll(ctx, c)
				return
			case <-time.After(idle / 5):
				if err := c.Write(ctx, websocket.MessageBinary, []byte("ping")); err != nil {
					u.closeCh <- err
					return
				}
			}
		}
	})
	r, relayURL := newRelay(t, Config{Upstream: up.wsURL(), IdleTimeout: idle})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	browser := dialBrowser(t, ctx, relayURL)

	// Upstream frames alone keep it open for three times the timeout.
	for end := time.Now().Add(3 * idle); time.Now().Before(end); {
		if _, _, err := browser.Read(ctx); err != nil {
			t.Fatalf("socket with upstream traffic closed: %v", err)
		}
	}
	close(talk)
	// Browser frames alone keep it open too.
	for end := time.Now().Add(3 * idle); time.Now().Before(end); time.Sleep(idle / 5) {
		if err := browser.Write(ctx, websocket.MessageBinary, []byte("hi")); err != nil {
			t.Fatalf("socket with browser traffic closed: %v", err)
		}
	}
	// Then silence.
	start := time.Now()
	_, _, err := browser.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || !strings.Contains(ce.Reason, "idle") {
		t.Fatalf("browser read on an idle socket: %v; want close 1001 naming idleness", err)
	}
	if waited := time.Since(start); waited < idle/2 {
		t.Errorf("closed %s after the last frame; the timeout is %s", waited, idle)
	}
	up.expectClose(t, ctx, websocket.StatusGoingAway, "when idle")
	if st := r.Stats(); st.IdleClosed != 1 {
		t.Errorf("Stats().IdleClosed = %d, want 1", st.IdleClosed)
	}
}

// The version endpoint and any other path answer 403 to a rebinding page too.
func TestRequireHost(t *testing.T) {
	h := RequireHost([]string{"ok.example"}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	for host, want := range map[string]int{
		"evil.example:80": http.StatusForbidden, "": http.StatusForbidden,
		"ok.example:8080": http.StatusNoContent, "127.0.0.1:1": http.StatusNoContent, "[::1]:1": http.StatusNoContent,
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %q: status %d, want %d", host, rec.Code, want)
		}
	}
}
