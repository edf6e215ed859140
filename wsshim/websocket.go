// Package websocket re-exports nhooyr.io/websocket (the same library as
// github.com/coder/websocket under its older name) so that whatsmeow compiles
// unmodified for both native and js/wasm targets. It adds two process-wide
// hooks whatsmeow has no room for:
//   - a URL rewrite: whatsmeow dials a constant URL, and a browser client must
//     be able to reach a relay or a test server instead;
//   - a write barrier: every outgoing message waits for it, so a receipt or an
//     ack never leaves before the store state it depends on is committed.
package websocket

import (
	"context"
	"sync"

	"nhooyr.io/websocket"
)

type (
	MessageType = websocket.MessageType
	StatusCode  = websocket.StatusCode
	CloseError  = websocket.CloseError
)

const (
	MessageText   = websocket.MessageText
	MessageBinary = websocket.MessageBinary

	StatusNormalClosure   = websocket.StatusNormalClosure
	StatusGoingAway       = websocket.StatusGoingAway
	StatusProtocolError   = websocket.StatusProtocolError
	StatusPolicyViolation = websocket.StatusPolicyViolation
	StatusMessageTooBig   = websocket.StatusMessageTooBig
	StatusInternalError   = websocket.StatusInternalError
)

// CloseStatus returns the close code of a CloseError in err's chain, or -1.
func CloseStatus(err error) StatusCode { return websocket.CloseStatus(err) }

var (
	hooksMu sync.RWMutex
	rewrite func(string) string
	barrier func(context.Context) error
)

// SetURLRewrite installs fn to map every URL passed to Dial to the URL actually
// dialed (nil restores the identity).
func SetURLRewrite(fn func(url string) string) {
	hooksMu.Lock()
	rewrite = fn
	hooksMu.Unlock()
}

// RewriteURL returns the URL Dial would actually dial for u.
func RewriteURL(u string) string {
	hooksMu.RLock()
	fn := rewrite
	hooksMu.RUnlock()
	if fn == nil {
		return u
	}
	return fn(u)
}

// SetWriteBarrier installs fn, called before every Conn.Write; the write fails
// with fn's error instead of being sent. nil removes the barrier.
func SetWriteBarrier(fn func(ctx context.Context) error) {
	hooksMu.Lock()
	barrier = fn
	hooksMu.Unlock()
}

func waitBarrier(ctx context.Context) error {
	hooksMu.RLock()
	fn := barrier
	hooksMu.RUnlock()
	if fn == nil {
		return nil
	}
	return fn(ctx)
}
