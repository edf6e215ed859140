//go:build js

package websocket_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A refused connection fires the browser's "error" then "close" events. Dial
// must return an error and the program must live on (nhooyr's js Conn blocked
// inside the error handler here, which kills a Go wasm program).
func TestDialRefusedReturnsError(t *testing.T) {
	for i := 0; i < 3; i++ {
		_, _, err := websocket.Dial(context.Background(), "ws://127.0.0.1:9/ws/chat", nil)
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1:9") {
			t.Fatalf("dial of a closed port: %v", err)
		}
	}
	// Still alive: timers and goroutines keep working.
	done := make(chan struct{})
	go func() { time.Sleep(10 * time.Millisecond); close(done) }()
	<-done
}

func TestDialBadURLIsAnErrorNotAPanic(t *testing.T) {
	_, _, err := websocket.Dial(context.Background(), "not a url", nil)
	if err == nil {
		t.Fatal("dial of a malformed URL succeeded")
	}
}

func TestDialFollowsRewriteAndContext(t *testing.T) {
	var seen string
	websocket.SetURLRewrite(func(u string) string { seen = u; return "ws://127.0.0.1:9/never" })
	defer websocket.SetURLRewrite(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := websocket.Dial(ctx, "wss://web.whatsapp.com/ws/chat", nil)
	if seen != "wss://web.whatsapp.com/ws/chat" {
		t.Fatalf("rewrite saw %q", seen)
	}
	if err == nil {
		t.Fatal("dial succeeded")
	}
}
