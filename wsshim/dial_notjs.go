//go:build !js

package websocket

import (
	"context"
	"net/http"

	"nhooyr.io/websocket"
)

type (
	DialOptions   = websocket.DialOptions
	AcceptOptions = websocket.AcceptOptions
)

// Dial dials RewriteURL(u); see nhooyr.io/websocket.Dial.
func Dial(ctx context.Context, u string, opts *DialOptions) (*Conn, *http.Response, error) {
	c, resp, err := websocket.Dial(ctx, RewriteURL(u), opts)
	return wrap(c), resp, err
}

// Accept upgrades an HTTP request; see nhooyr.io/websocket.Accept.
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	c, err := websocket.Accept(w, r, opts)
	return wrap(c), err
}
