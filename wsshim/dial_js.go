//go:build js

package websocket

import (
	"context"
	"net/http"

	"nhooyr.io/websocket"
)

// DialOptions mirrors the native options that callers set. A browser's
// WebSocket cannot choose its HTTP client or set request headers (the Origin is
// the page's own), so HTTPClient and HTTPHeader are accepted and ignored.
type DialOptions struct {
	HTTPClient   *http.Client
	HTTPHeader   http.Header
	Subprotocols []string
}

// Dial opens a browser WebSocket to RewriteURL(u).
func Dial(ctx context.Context, u string, opts *DialOptions) (*Conn, *http.Response, error) {
	var jsOpts websocket.DialOptions
	if opts != nil {
		jsOpts.Subprotocols = opts.Subprotocols
	}
	c, resp, err := websocket.Dial(ctx, RewriteURL(u), &jsOpts)
	return wrap(c), resp, err
}
