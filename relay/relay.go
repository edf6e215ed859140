// Package relay forwards browser WebSocket connections to an upstream
// WebSocket server (WhatsApp's wss://web.whatsapp.com/ws/chat) with the Origin
// header the upstream expects, which a browser page cannot set itself, and
// (MediaHandler) the page's HTTP requests to WhatsApp's media hosts.
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
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// gorilla/websocket, not the module's github.com/coder/websocket: that name
	// is replaced by the project's shim (nhooyr.io/websocket v1.8.17 with a
	// process-wide URL rewrite and write barrier meant for whatsmeow), and that
	// version answers a close frame even after sending its own, which Chrome
	// reports as "Close received after close" and turns into code 1006.
	"github.com/gorilla/websocket"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// WhatsAppOrigin is the Origin WhatsApp's web client sends (whatsmeow's
// socket.Origin).
const WhatsAppOrigin = "https://web.whatsapp.com"

// closeWait bounds each closing handshake.
const closeWait = 5 * time.Second

// Config configures a Relay. Upstream is required.
type Config struct {
	// Upstream is the ws:// or wss:// URL every browser connection is relayed to.
	Upstream string
	// Origin is sent to the upstream; default WhatsAppOrigin.
	Origin string
	// AllowedOrigins are host patterns (path.Match syntax, e.g.
	// "localhost:*") of pages other than the relay's own host that may connect.
	// By default only same-host pages (and clients that send no Origin) may,
	// so no other web site the user visits can use a local relay.
	AllowedOrigins []string
	// AllowedHosts are names (path.Match syntax, without port) the relay
	// answers to besides IP literals and localhost (see HostAllowed): the
	// names it is reached by, e.g. behind a reverse proxy. Any other Host is
	// refused with 403, which stops DNS rebinding.
	AllowedHosts []string
	// MaxConnections bounds the relayed connections open at once (default
	// 256; negative: no limit). Beyond it a browser gets HTTP 503.
	MaxConnections int
	// MaxConnectionsPerOrigin bounds those of one page origin (or, for
	// clients that send no Origin, of one remote IP); default 32, negative: no
	// limit. Beyond it a browser gets HTTP 429.
	MaxConnectionsPerOrigin int
	// IdleTimeout closes a relayed connection (1001 both ways) after this long
	// without a frame in either direction; default 3 minutes, negative: never.
	// whatsmeow sends a keepalive every 20-30 s, throttled to about once a
	// minute in a hidden tab.
	IdleTimeout time.Duration
	// DialTimeout bounds the upstream's TCP, TLS and WebSocket handshakes;
	// default 20 s. HTTPS_PROXY and friends from the environment apply.
	DialTimeout time.Duration
	// MaxMessageSize is the largest message copied in either direction;
	// default 32 MiB (whatsmeow's frames are at most 16 MiB).
	MaxMessageSize int64
	// Log receives connection-level logs; nil means no logs.
	Log waLog.Logger

	// MediaHosts are the hosts (path.Match syntax on the name,
	// case-insensitive) MediaHandler forwards to; default DefaultMediaHosts.
	MediaHosts []string
	// MediaTransport makes the media proxy's upstream requests; default an
	// http.Transport with DialTimeout, a minute for the answer's headers
	// and HTTPS_PROXY and friends from the environment. Tests give one that
	// dials fakewa for every host.
	MediaTransport http.RoundTripper
	// MaxMediaSize is the largest body the media proxy passes either way
	// (HTTP 413 beyond); default DefaultMaxMediaSize, negative: no limit.
	MaxMediaSize int64
	// MediaTimeout bounds one proxied request from its start to its last
	// byte; default DefaultMediaTimeout.
	MediaTimeout time.Duration

	VersionConfig
}

// Defaults of Config.
const (
	DefaultMaxConnections          = 256
	DefaultMaxConnectionsPerOrigin = 32
	DefaultIdleTimeout             = 3 * time.Minute
)

// Stats counts what a Relay has copied.
type Stats struct {
	Connections int64 // browser connections relayed so far
	Active      int64 // relayed connections still open
	BytesUp     int64 // browser -> upstream payload bytes
	BytesDown   int64 // upstream -> browser payload bytes
	Refused     int64 // requests refused for their Host or Origin
	Busy        int64 // sockets refused by MaxConnections or MaxConnectionsPerOrigin
	IdleClosed  int64 // connections closed by IdleTimeout

	MediaRequests  int64 // HTTP requests forwarded to a media host
	MediaBytesUp   int64 // upload bytes forwarded to media hosts
	MediaBytesDown int64 // response bytes forwarded from media hosts
}

// Relay is an http.Handler that relays each WebSocket request to Upstream.
type Relay struct {
	cfg Config
	log waLog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	connections, active, bytesUp, bytesDown atomic.Int64
	refused, busy, idleClosed               atomic.Int64

	mediaRequests, mediaBytesUp, mediaBytesDown atomic.Int64

	slotsMu  sync.Mutex
	total    int
	byOrigin map[string]int

	version versionCache
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
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.MaxConnectionsPerOrigin == 0 {
		cfg.MaxConnectionsPerOrigin = DefaultMaxConnectionsPerOrigin
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	cfg.mediaDefaults()
	if err := cfg.VersionConfig.check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Relay{cfg: cfg, log: cfg.Log, ctx: ctx, cancel: cancel, byOrigin: map[string]int{}}, nil
}

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	return Stats{
		Connections: r.connections.Load(),
		Active:      r.active.Load(),
		BytesUp:     r.bytesUp.Load(),
		BytesDown:   r.bytesDown.Load(),
		Refused:     r.refused.Load(),
		Busy:        r.busy.Load(),
		IdleClosed:  r.idleClosed.Load(),

		MediaRequests:  r.mediaRequests.Load(),
		MediaBytesUp:   r.mediaBytesUp.Load(),
		MediaBytesDown: r.mediaBytesDown.Load(),
	}
}

// Close drops every relayed connection and waits for their goroutines.
func (r *Relay) Close() error {
	r.cancel()
	r.wg.Wait()
	if t, ok := r.cfg.MediaTransport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
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
	if !r.allowed(w, req) {
		return
	}
	if !websocket.IsWebSocketUpgrade(req) {
		http.Error(w, "relay: expecting a WebSocket upgrade request", http.StatusBadRequest)
		return
	}
	// Take a slot before dialing, so that a flood of sockets costs no upstream dials.
	release := r.slotOrRefuse(w, req, "socket")
	if release == nil {
		return
	}
	defer release()

	header := http.Header{"Origin": {r.cfg.Origin}}
	if ua := req.Header.Get("User-Agent"); ua != "" {
		header.Set("User-Agent", ua)
	}
	dialer := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: r.cfg.DialTimeout}
	dialCtx, cancelDial := context.WithTimeout(r.ctx, r.cfg.DialTimeout)
	up, resp, err := dialer.DialContext(dialCtx, r.cfg.Upstream, header)
	cancelDial()
	if err != nil {
		status := "no response"
		if resp != nil {
			status = resp.Status
			_ = resp.Body.Close()
		}
		r.log.Warnf("Dialing upstream %s for %s failed (%s): %v", r.cfg.Upstream, req.RemoteAddr, status, err)
		http.Error(w, fmt.Sprintf("relay: upstream %s unreachable: %v (%s)", r.cfg.Upstream, err, status), http.StatusBadGateway)
		return
	}

	// The Origin was checked above.
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	browser, err := upgrader.Upgrade(w, req, nil)
	if err != nil {
		// Upgrade has already answered the request with an HTTP error.
		r.log.Warnf("Accepting browser socket from %s failed: %v", req.RemoteAddr, err)
		_ = up.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "browser side failed"), time.Now().Add(closeWait))
		_ = up.Close()
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

// allowed answers 403 and reports false unless the request's Host passes
// HostAllowed and its Origin passes OriginAllowed.
func (r *Relay) allowed(w http.ResponseWriter, req *http.Request) bool {
	var why string
	switch origin := req.Header.Get("Origin"); {
	case !HostAllowed(req.Host, r.cfg.AllowedHosts):
		why = hostRefusal(req.Host)
	case !OriginAllowed(req, r.cfg.AllowedOrigins):
		why = fmt.Sprintf("relay: Origin %q is not allowed; allow its host with -allow-origin", origin)
	default:
		return true
	}
	r.refused.Add(1)
	r.log.Warnf("Refused %s %s from %s: %s", req.Method, req.URL.Path, req.RemoteAddr, why)
	http.Error(w, why, http.StatusForbidden)
	return false
}

// slotOrRefuse takes a slot (takeSlot) and joins the relay's wait group; if
// none is free it answers 503 or 429 and returns nil. what names the request
// in the log.
func (r *Relay) slotOrRefuse(w http.ResponseWriter, req *http.Request, what string) func() {
	giveBack, status, why := r.takeSlot(req)
	if giveBack == nil {
		r.busy.Add(1)
		r.log.Warnf("Refused a browser %s from %s (Origin %q): %s", what, req.RemoteAddr, req.Header.Get("Origin"), why)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "relay: "+why, status)
		return nil
	}
	r.wg.Add(1)
	return func() {
		r.wg.Done()
		giveBack()
	}
}

// takeSlot counts a connection against MaxConnections and
// MaxConnectionsPerOrigin. It returns the function that gives the slot back,
// or nil with the HTTP status and reason of the refusal.
func (r *Relay) takeSlot(req *http.Request) (release func(), status int, why string) {
	key := strings.ToLower(req.Header.Get("Origin"))
	if key == "" {
		host, _, err := net.SplitHostPort(req.RemoteAddr)
		if err != nil {
			host = req.RemoteAddr
		}
		key = "ip " + host
	}
	r.slotsMu.Lock()
	defer r.slotsMu.Unlock()
	if limit := r.cfg.MaxConnections; limit > 0 && r.total >= limit {
		return nil, http.StatusServiceUnavailable, fmt.Sprintf("%d connections open, the most this relay allows (-max-conns)", limit)
	}
	if limit := r.cfg.MaxConnectionsPerOrigin; limit > 0 && r.byOrigin[key] >= limit {
		return nil, http.StatusTooManyRequests, fmt.Sprintf("%d connections open from %s, the most this relay allows per origin (-max-conns-per-origin)", limit, key)
	}
	r.total++
	r.byOrigin[key]++
	return func() {
		r.slotsMu.Lock()
		defer r.slotsMu.Unlock()
		r.total--
		if r.byOrigin[key]--; r.byOrigin[key] == 0 {
			delete(r.byOrigin, key)
		}
	}, 0, ""
}

type direction struct {
	name     string
	src, dst *websocket.Conn
	counter  *atomic.Int64
	act      *activity
}

type result struct {
	d   direction
	err error
}

// pipe copies both ways; when one side ends, it closes the other with the
// same close code where the code may travel on the wire.
func (r *Relay) pipe(browser, up *websocket.Conn) {
	act := newActivity(browser, up)
	idle, stopIdle := act.watch(r.cfg.IdleTimeout)
	defer stopIdle()
	done := make(chan result, 2)
	dirs := []direction{
		{name: "browser->upstream", src: browser, dst: up, counter: &r.bytesUp, act: act},
		{name: "upstream->browser", src: up, dst: browser, counter: &r.bytesDown, act: act},
	}
	for _, d := range dirs {
		go func() { done <- result{d, copyMessages(d)} }()
	}

	select {
	case first := <-done:
		// The side that ended is the one read from, unless writing failed.
		ended, other := first.d.src, first.d.dst
		var we *writeError
		if errors.As(first.err, &we) {
			ended, other = other, ended
		}
		code, reason := closeFor(first.err, ended == up)
		r.log.Infof("Relay %s ended (%v); closing the other side with %d %q", first.d.name, first.err, code, reason)
		// The ended side has already answered its peer's close frame, if
		// any (gorilla's default close handler): drop its TCP connection.
		_ = ended.Close()
		closeGracefully(other, code, reason, done)
	case <-r.ctx.Done():
		r.log.Infof("Relay closing; dropping a relayed connection")
		closeBoth(browser, up, "relay: shutting down", done)
	case <-idle:
		r.idleClosed.Add(1)
		r.log.Infof("Closing a relayed connection idle for %s", r.cfg.IdleTimeout)
		closeBoth(browser, up, fmt.Sprintf("relay: idle for %s", r.cfg.IdleTimeout), done)
	}
}

// closeBoth sends both sides a 1001 (going away) close frame, waits (bounded)
// for both copiers to see the answers, then drops both connections.
func closeBoth(browser, up *websocket.Conn, reason string, done <-chan result) {
	for _, c := range []*websocket.Conn{browser, up} {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, reason), time.Now().Add(closeWait))
	}
	timeout := time.After(closeWait)
	for range 2 {
		select {
		case <-done:
		case <-timeout:
			_ = browser.Close()
			_ = up.Close()
			<-done
		}
	}
	_ = browser.Close()
	_ = up.Close()
}

// activity is the time of the last frame seen in either direction.
type activity struct{ last atomic.Int64 }

// newActivity counts control frames too: gorilla answers pings inside
// NextReader, so only its handlers see them.
func newActivity(conns ...*websocket.Conn) *activity {
	a := &activity{}
	a.touch()
	for _, c := range conns {
		ping, pong := c.PingHandler(), c.PongHandler()
		c.SetPingHandler(func(s string) error { a.touch(); return ping(s) })
		c.SetPongHandler(func(s string) error { a.touch(); return pong(s) })
	}
	return a
}

func (a *activity) touch() { a.last.Store(time.Now().UnixNano()) }

// watch returns a channel closed once nothing has been seen for timeout
// (never, if timeout is negative), and the function that stops watching.
func (a *activity) watch(timeout time.Duration) (<-chan struct{}, func()) {
	idle := make(chan struct{})
	if timeout < 0 {
		return idle, func() {}
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				// Sleep again for what is left since the last frame.
				left := timeout - time.Since(time.Unix(0, a.last.Load()))
				if left <= 0 {
					close(idle)
					return
				}
				t.Reset(left)
			}
		}
	}()
	return idle, func() { close(stop) }
}

// closeGracefully sends c a close frame, waits (bounded) for the copier that
// reads c to see the peer's answering close frame, then drops the connection.
func closeGracefully(c *websocket.Conn, code int, reason string, done <-chan result) {
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(closeWait))
	select {
	case other := <-done:
		// That copier may have stopped on a failed write to the side that
		// ended; then read c here until the peer's close frame arrives.
		if !isCloseFrame(other.err) {
			_ = c.SetReadDeadline(time.Now().Add(closeWait))
			for {
				if _, _, err := c.NextReader(); err != nil {
					break
				}
			}
		}
		_ = c.Close()
	case <-time.After(closeWait):
		_ = c.Close()
		<-done
	}
}

func isCloseFrame(err error) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce)
}

// writeError marks a copy that ended because the destination failed.
type writeError struct{ err error }

func (e *writeError) Error() string { return "writing: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// copyMessages streams each message from d.src to d.dst with its type,
// without buffering whole messages.
func copyMessages(d direction) error {
	for {
		typ, rd, err := d.src.NextReader()
		if err != nil {
			return err
		}
		d.act.touch()
		wr, err := d.dst.NextWriter(typ)
		if err != nil {
			return &writeError{err}
		}
		tr := &readTracker{r: rd, act: d.act}
		n, err := io.Copy(wr, tr)
		d.counter.Add(n)
		if err != nil {
			// Leave the message unfinished: closing the writer would send
			// the part copied so far as if it were whole.
			if tr.err != nil {
				return fmt.Errorf("reading a message: %w", tr.err)
			}
			return &writeError{err}
		}
		if err := wr.Close(); err != nil {
			return &writeError{err}
		}
	}
}

// readTracker remembers a read error, telling it apart from a write error in
// io.Copy's result.
type readTracker struct {
	r   io.Reader
	err error
	act *activity // a long message arriving slowly is not idleness
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.act.touch()
	}
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// closeFor picks the close code for the side that is still open: the code the
// ended side sent, if one may be sent on the wire, else 1014 (bad gateway)
// when the upstream vanished or 1001 (going away) when the browser did.
func closeFor(err error, fromUpstream bool) (int, string) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && validWireCode(ce.Code) {
		return ce.Code, truncateReason(ce.Text)
	}
	if fromUpstream {
		return statusBadGateway, "relay: upstream connection lost"
	}
	return websocket.CloseGoingAway, "relay: browser connection lost"
}

// statusBadGateway is RFC 6455's 1014, which gorilla/websocket does not name.
const statusBadGateway = 1014

// validWireCode reports whether a close code may be sent in a close frame
// (RFC 6455 section 7.4): 1005, 1006 and 1015 only describe what happened.
func validWireCode(c int) bool {
	switch c {
	case 1004, websocket.CloseNoStatusReceived, websocket.CloseAbnormalClosure, websocket.CloseTLSHandshake:
		return false
	}
	return (c >= websocket.CloseNormalClosure && c <= statusBadGateway) || (c >= 3000 && c <= 4999)
}

// truncateReason keeps a close reason within the 123 bytes a close frame holds.
func truncateReason(s string) string {
	if len(s) <= 123 {
		return s
	}
	return strings.ToValidUTF8(s[:123], "")
}
