//go:build !js

package websocket_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestDialFollowsURLRewrite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, msg, err := c.Read(r.Context())
		if err == nil {
			_ = c.Write(r.Context(), websocket.MessageBinary, append([]byte("echo:"), msg...))
		}
	}))
	defer srv.Close()

	const unreachable = "wss://web.whatsapp.invalid/ws/chat"
	websocket.SetURLRewrite(func(u string) string {
		if u != unreachable {
			t.Errorf("rewrite got %q", u)
		}
		return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat"
	})
	defer websocket.SetURLRewrite(nil)

	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, unreachable, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://web.whatsapp.com"}}})
	if err != nil {
		t.Fatalf("dial through rewrite: %v", err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageBinary, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.Read(ctx)
	if err != nil || string(got) != "echo:hi" {
		t.Fatalf("read %q, %v", got, err)
	}
}

func TestRewriteURLIdentityByDefault(t *testing.T) {
	if got := websocket.RewriteURL("wss://x/y"); got != "wss://x/y" {
		t.Fatalf("got %q", got)
	}
}

func TestWriteWaitsForBarrier(t *testing.T) {
	got := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		if _, msg, err := c.Read(r.Context()); err == nil {
			got <- msg
		}
	}))
	defer srv.Close()

	release := make(chan struct{})
	refuse := errors.New("store commit failed")
	var calls atomic.Int32
	websocket.SetWriteBarrier(func(ctx context.Context) error {
		if calls.Add(1) == 1 {
			return refuse
		}
		<-release
		return nil
	})
	defer websocket.SetWriteBarrier(nil)

	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageBinary, []byte("lost")); !errors.Is(err, refuse) {
		t.Fatalf("write past a failing barrier: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Write(ctx, websocket.MessageBinary, []byte("after")) }()
	select {
	case msg := <-got:
		t.Fatalf("%q sent before the barrier released", msg)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if msg := <-got; string(msg) != "after" {
		t.Fatalf("server read %q", msg)
	}
}
