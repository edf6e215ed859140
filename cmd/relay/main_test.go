package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"nhooyr.io/websocket"

	"github.com/wasmeow/wasmeow/relay"
)

func startRelay(t *testing.T, args ...string) *httptest.Server {
	t.Helper()
	s, err := newServer(append([]string{"-log", "ERROR"}, args...), io.Discard)
	if err != nil {
		t.Fatalf("newServer(%q): %v", args, err)
	}
	srv := httptest.NewServer(s.handler)
	t.Cleanup(func() { _ = s.relay.Close(); srv.Close() })
	return srv
}

// The flags reach the relay: the fallback version is served when the
// version page is down, the connection limit holds, and a rebinding Host is
// refused on every path.
func TestFlagsConfigureTheRelay(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		_, _, _ = c.Read(r.Context()) // until the client goes
	}))
	t.Cleanup(upstream.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(down.Close)

	srv := startRelay(t, "-upstream", "ws"+strings.TrimPrefix(upstream.URL, "http")+"/ws/chat",
		"-wa-version", "2.3000.1031080782", "-wa-version-url", down.URL, "-max-conns", "1", "-allow-origin", "app.example")

	req, _ := http.NewRequest("GET", srv.URL+"/version", nil)
	req.Header.Set("Origin", "https://app.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info relay.VersionInfo
	_ = json.NewDecoder(resp.Body).Decode(&info)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || info.Version != "2.3000.1031080782" || info.Source != "flag" {
		t.Errorf("GET /version: %d %+v; want the -wa-version fallback", resp.StatusCode, info)
	}
	if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "https://app.example" {
		t.Errorf("GET /version from an -allow-origin page: Access-Control-Allow-Origin %q", acao)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat"
	c, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatalf("first socket: %v", err)
	}
	defer c.CloseNow()
	if _, resp, err := websocket.Dial(ctx, wsURL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second socket with -max-conns 1: %v %v; want 503", resp, err)
	}

	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	for _, path := range []string{"/version", "/ws/chat", "/"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Host = "evil.example:" + port
		req.Header.Set("Origin", "http://evil.example:"+port)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s with a rebinding Host: %d; want 403", path, resp.StatusCode)
		}
	}
}

// The media proxy is mounted at /media/ and its flags reach it: -media-dial
// sends every host to one address, -media-host replaces the allowed hosts,
// -media-max-size limits bodies.
func TestMediaFlags(t *testing.T) {
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Host+" "+r.Header.Get("Origin")+" "+strings.Repeat("x", 50))
	}))
	t.Cleanup(media.Close)
	srv := startRelay(t, "-media-dial", strings.TrimPrefix(media.URL, "http://"), "-media-host", "media.example,*.cdn.example",
		"-media-max-size", "100")
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/media/a.cdn.example/v/x"); code != 200 || !strings.HasPrefix(body, "a.cdn.example https://web.whatsapp.com x") {
		t.Errorf("GET /media/a.cdn.example/v/x: %d %q; want it forwarded with WhatsApp's Origin", code, body)
	}
	if code, body := get("/media/mmg.whatsapp.net/v/x"); code != 403 {
		t.Errorf("a default host after -media-host replaced them: %d %q; want 403", code, body)
	}
	resp, err := http.Post(srv.URL+"/media/media.example/mms/image/t", "application/octet-stream", strings.NewReader(strings.Repeat("y", 101)))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("upload of 101 bytes with -media-max-size 100: %d; want 413", resp.StatusCode)
	}
}

func TestBadFlagsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"-upstream", "http://example.com"},
		{"-wa-version", "2.3000"},
		{"-idle-timeout", "soon"},
		{"-media-max-size", "big"},
		{"stray"},
	} {
		if _, err := newServer(args, io.Discard); err == nil {
			t.Errorf("newServer(%q) accepted bad flags", args)
		}
	}
}
