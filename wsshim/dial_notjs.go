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

// Conn is a nhooyr.io/websocket connection whose Write passes the write barrier.
type Conn struct {
	*websocket.Conn
}

// Write waits for the write barrier, then writes one message.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	if err := waitBarrier(ctx); err != nil {
		return err
	}
	return c.Conn.Write(ctx, typ, p)
}

func wrap(c *websocket.Conn) *Conn {
	if c == nil {
		return nil
	}
	return &Conn{c}
}

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
