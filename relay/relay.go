// Package relay forwards browser WebSocket connections to an upstream
// WebSocket server (WhatsApp's wss://web.whatsapp.com/ws/chat) with the Origin
// header the upstream expects, which a browser page cannot set itself.
//
// The relay copies message bytes and message types only. WhatsApp's Noise
// session is end to end between the browser and the upstream, so the relay
// never sees plaintext or keys, and it never parses what it copies.
package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// The shim that replaces github.com/coder/websocket in this module applies
	// a process-wide URL rewrite and write barrier meant for whatsmeow's own
	// socket; the relay must not be subject to them, so it uses the library
	// underneath directly.
	"nhooyr.io/websocket"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// WhatsAppOrigin is the Origin WhatsApp's web client sends (whatsmeow's
// socket.Origin).
const WhatsAppOrigin = "https://web.whatsapp.com"

// Config configures a Relay. Upstream is required.
type Config struct {
	// Upstream is the ws:// or wss:// URL every browser connection is relayed to.
	Upstream string
	// Origin is sent to the upstream; default WhatsAppOrigin.
	Origin string
	// AllowedOrigins are host patterns (path.Match syntax, e.g.
	// "localhost:*") of pages other than the relay's own host that may connect.
	// By default only same-host pages may, so no other web site the user visits
	// can use a local relay.
	AllowedOrigins []string
	// HTTPClient dials the upstream; nil means http.DefaultClient.
	HTTPClient *http.Client
	// DialTimeout bounds the upstream dial; default 20 s.
	DialTimeout time.Duration
	// MaxMessageSize is the largest message copied in either direction;
	// default 32 MiB (whatsmeow's frames are at most 16 MiB).
	MaxMessageSize int64
	// Log receives connection-level logs; nil means no logs.
	Log waLog.Logger
}

// Stats counts what a Relay has copied.
type Stats struct {
	Connections int64 // browser connections relayed so far
	Active      int64 // relayed connections still open
	BytesUp     int64 // browser -> upstream payload bytes
	BytesDown   int64 // upstream -> browser payload bytes
}

// Relay is an http.Handler that relays each WebSocket request to Upstream.
type Relay struct {
	cfg Config
	log waLog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	connections, active, bytesUp, bytesDown atomic.Int64
}

// New checks cfg and returns a Relay.
func New(cfg Config) (*Relay, error) {
	u, err := url.Parse(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("relay: upstream URL %q: %w", cfg.Upstream, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("relay: upstream URL %q must start with ws:// or wss://", cfg.Upstream)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("relay: upstream URL %q has no host", cfg.Upstream)
	}
	if cfg.Origin == "" {
		cfg.Origin = WhatsAppOrigin
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 20 * time.Second
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = 32 << 20
	}
	if cfg.Log == nil {
		cfg.Log = waLog.Noop
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Relay{cfg: cfg, log: cfg.Log, ctx: ctx, cancel: cancel}, nil
}

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	return Stats{
		Connections: r.connections.Load(),
		Active:      r.active.Load(),
		BytesUp:     r.bytesUp.Load(),
		BytesDown:   r.bytesDown.Load(),
	}
}

// Close drops every relayed connection and waits for their goroutines.
func (r *Relay) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}

// ServeHTTP dials the upstream first, so that a browser whose upstream cannot
// be reached gets an HTTP 502 instead of a socket that opens and dies, then
// accepts the browser's WebSocket and copies messages both ways until either
// side closes.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.ctx.Err() != nil {
		http.Error(w, "relay: closed", http.StatusServiceUnavailable)
		return
	}
	r.wg.Add(1)
	defer r.wg.Done()

	header := http.Header{"Origin": {r.cfg.Origin}}
	if ua := req.Header.Get("User-Agent"); ua != "" {
		header.Set("User-Agent", ua)
	}
	dialCtx, cancelDial := context.WithTimeout(r.ctx, r.cfg.DialTimeout)
	up, resp, err := websocket.Dial(dialCtx, r.cfg.Upstream, &websocket.DialOptions{
		HTTPClient: r.cfg.HTTPClient,
		HTTPHeader: header,
	})
	cancelDial()
	if err != nil {
		status := "no response"
		if resp != nil {
			status = resp.Status
		}
		r.log.Warnf("Dialing upstream %s for %s failed (%s): %v", r.cfg.Upstream, req.RemoteAddr, status, err)
		http.Error(w, fmt.Sprintf("relay: upstream %s unreachable: %v", r.cfg.Upstream, err), http.StatusBadGateway)
		return
	}

	browser, err := websocket.Accept(w, req, &websocket.AcceptOptions{OriginPatterns: r.cfg.AllowedOrigins})
	if err != nil {
		// Accept has already written the HTTP error (e.g. 403 for a foreign Origin).
		r.log.Warnf("Accepting browser socket from %s (Origin %q) failed: %v", req.RemoteAddr, req.Header.Get("Origin"), err)
		_ = up.Close(websocket.StatusGoingAway, "browser side failed")
		return
	}
	up.SetReadLimit(r.cfg.MaxMessageSize)
	browser.SetReadLimit(r.cfg.MaxMessageSize)

	r.connections.Add(1)
	r.active.Add(1)
	defer r.active.Add(-1)
	r.log.Infof("Relaying %s to %s", req.RemoteAddr, r.cfg.Upstream)
	r.pipe(browser, up)
}

type direction struct {
	name     string
	src, dst *websocket.Conn
	counter  *atomic.Int64
}

// pipe copies both ways; when one side ends, it closes the other with the
// same close code where the code may travel on the wire.
func (r *Relay) pipe(browser, up *websocket.Conn) {
	// Not derived from r.ctx: the library drops a connection without a close
	// frame when a read's context ends, and a shutting-down relay should
	// close both sides properly first.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		d   direction
		err error
	}
	done := make(chan result, 2)
	dirs := []direction{
		{name: "browser->upstream", src: browser, dst: up, counter: &r.bytesUp},
		{name: "upstream->browser", src: up, dst: browser, counter: &r.bytesDown},
	}
	for _, d := range dirs {
		go func() { done <- result{d, copyMessages(ctx, d.dst, d.src, d.counter)} }()
	}

	var first result
	select {
	case first = <-done:
	case <-r.ctx.Done():
		r.log.Infof("Relay closing; dropping a relayed connection")
		_ = browser.Close(websocket.StatusGoingAway, "relay: shutting down")
		_ = up.Close(websocket.StatusGoingAway, "relay: shutting down")
		cancel()
		<-done
		<-done
		return
	}
	code, reason := closeFor(first.err, first.d.src == up)
	r.log.Infof("Relay %s ended (%v); closing the other side with %d %q", first.d.name, first.err, code, reason)
	// Close runs the closing handshake with the other side (bounded by the
	// library at 5 s); the other copier then ends on the close frame.
	_ = first.d.dst.Close(code, reason)
	_ = first.d.src.CloseNow()
	cancel()
	<-done
}

// copyMessages streams each message from src to dst with its type, without
// buffering whole messages.
func copyMessages(ctx context.Context, dst, src *websocket.Conn, counter *atomic.Int64) error {
	for {
		typ, rd, err := src.Reader(ctx)
		if err != nil {
			return err
		}
		wr, err := dst.Writer(ctx, typ)
		if err != nil {
			return fmt.Errorf("opening write: %w", err)
		}
		n, err := io.Copy(wr, rd)
		counter.Add(n)
		if err != nil {
			_ = wr.Close()
			return fmt.Errorf("copying message: %w", err)
		}
		if err := wr.Close(); err != nil {
			return fmt.Errorf("finishing message: %w", err)
		}
	}
}

// closeFor picks the close code for the side that is still open: the code the
// ended side sent, if one may be sent on the wire, else 1014 (bad gateway)
// when the upstream vanished or 1001 (going away) when the browser did.
func closeFor(err error, fromUpstream bool) (websocket.StatusCode, string) {
	var ce websocket.CloseError
	if errors.As(err, &ce) && validWireCode(ce.Code) {
		return ce.Code, truncateReason(ce.Reason)
	}
	if fromUpstream {
		return websocket.StatusBadGateway, "relay: upstream connection lost"
	}
	return websocket.StatusGoingAway, "relay: browser connection lost"
}

func validWireCode(c websocket.StatusCode) bool {
	switch c {
	case 1004, websocket.StatusNoStatusRcvd, websocket.StatusAbnormalClosure, websocket.StatusTLSHandshake:
		return false
	}
	return (c >= websocket.StatusNormalClosure && c <= websocket.StatusBadGateway) || (c >= 3000 && c <= 4999)
}

// truncateReason keeps a close reason within the 123 bytes a close frame holds.
func truncateReason(s string) string {
	if len(s) <= 123 {
		return s
	}
	return strings.ToValidUTF8(s[:123], "")
}
