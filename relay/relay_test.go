package relay

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"nhooyr.io/websocket"
)

// upstream is a test WebSocket server that records what it receives and the
// Origin header of each connection, and runs script on each connection.
type upstream struct {
	srv *httptest.Server

	mu      sync.Mutex
	origins []string
	got     []message
	closeCh chan error // the error that ended each connection's reading
}

type message struct {
	typ  websocket.MessageType
	data []byte
}

func newUpstream(t *testing.T, script func(ctx context.Context, c *websocket.Conn, u *upstream)) *upstream {
	t.Helper()
	u := &upstream{closeCh: make(chan error, 8)}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.origins = append(u.origins, r.Header.Get("Origin"))
		u.mu.Unlock()
		// The relay sends WhatsApp's Origin, which is not this test host.
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			t.Errorf("upstream accept: %v", err)
			return
		}
		c.SetReadLimit(64 << 20)
		script(r.Context(), c, u)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) wsURL() string { return "ws" + strings.TrimPrefix(u.srv.URL, "http") + "/ws/chat" }

// recordAll reads until the connection ends, recording every message.
func (u *upstream) recordAll(ctx context.Context, c *websocket.Conn) {
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			u.closeCh <- err
			return
		}
		u.mu.Lock()
		u.got = append(u.got, message{typ, data})
		u.mu.Unlock()
	}
}

// expectClose waits for the upstream's connection to end with code.
func (u *upstream) expectClose(t *testing.T, ctx context.Context, code websocket.StatusCode, when string) {
	t.Helper()
	select {
	case err := <-u.closeCh:
		if websocket.CloseStatus(err) != code {
			t.Errorf("%s, upstream saw %v; want close %d", when, err, code)
		}
	case <-ctx.Done():
		t.Fatalf("upstream connection stayed open %s", when)
	}
}

func newRelay(t *testing.T, cfg Config) (*Relay, string) {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		_ = r.Close()
		srv.Close()
	})
	return r, "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat"
}

func dialBrowser(t *testing.T, ctx context.Context, relayURL string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, relayURL, nil)
	if err != nil {
		status := ""
		if resp != nil {
			status = resp.Status
		}
		t.Fatalf("dialing relay: %v %s", err, status)
	}
	c.SetReadLimit(64 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewRejectsBadUpstream(t *testing.T) {
	for _, u := range []string{"", "http://example.com/ws", "wss://", "::"} {
		if _, err := New(Config{Upstream: u}); err == nil {
			t.Errorf("New(%q) accepted a bad upstream", u)
		}
	}
}

// Messages pass unchanged both ways, with their types, in order, including an
// empty one and one far above the library's 32 KiB default read limit; the
// upstream sees WhatsApp's Origin, not the browser's.
func TestBytesPassUnchangedAndOriginIsSet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	down := []message{
		{websocket.MessageBinary, randomBytes(t, 3)},
		{websocket.MessageBinary, randomBytes(t, 5<<20)},
		{websocket.MessageText, []byte("server says hi")},
		{websocket.MessageBinary, []byte{}},
	}
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) {
		for _, m := range down {
			if err := c.Write(ctx, m.typ, m.data); err != nil {
				t.Errorf("upstream write: %v", err)
				return
			}
		}
		u.recordAll(ctx, c)
	})
	r, relayURL := newRelay(t, Config{Upstream: up.wsURL()})

	browser := dialBrowser(t, ctx, relayURL)
	sent := []message{
		{websocket.MessageBinary, append([]byte("WA\x06\x03"), randomBytes(t, 61)...)},
		{websocket.MessageBinary, randomBytes(t, 9<<20)},
		{websocket.MessageText, []byte("héllo")},
		{websocket.MessageBinary, []byte{}},
	}
	for _, m := range sent {
		if err := browser.Write(ctx, m.typ, m.data); err != nil {
			t.Fatalf("browser write: %v", err)
		}
	}
	for i, want := range down {
		typ, data, err := browser.Read(ctx)
		if err != nil {
			t.Fatalf("browser read %d: %v", i, err)
		}
		if typ != want.typ || !bytes.Equal(data, want.data) {
			t.Fatalf("browser message %d: got type %v, %d bytes; want type %v, %d bytes (or contents differ)",
				i, typ, len(data), want.typ, len(want.data))
		}
	}
	if err := browser.Close(websocket.StatusNormalClosure, "done"); err != nil {
		t.Fatalf("browser close: %v", err)
	}
	up.expectClose(t, ctx, websocket.StatusNormalClosure, "after the browser closed normally")

	up.mu.Lock()
	defer up.mu.Unlock()
	if len(up.got) != len(sent) {
		t.Fatalf("upstream got %d messages, want %d", len(up.got), len(sent))
	}
	for i, want := range sent {
		if up.got[i].typ != want.typ || !bytes.Equal(up.got[i].data, want.data) {
			t.Errorf("upstream message %d: got type %v, %d bytes; want type %v, %d bytes (or contents differ)",
				i, up.got[i].typ, len(up.got[i].data), want.typ, len(want.data))
		}
	}
	if len(up.origins) != 1 || up.origins[0] != WhatsAppOrigin {
		t.Errorf("upstream saw Origin %q, want [%q]", up.origins, WhatsAppOrigin)
	}
	st := r.Stats()
	var upBytes, downBytes int64
	for _, m := range sent {
		upBytes += int64(len(m.data))
	}
	for _, m := range down {
		downBytes += int64(len(m.data))
	}
	if st.Connections != 1 || st.BytesUp != upBytes || st.BytesDown != downBytes {
		t.Errorf("stats %+v; want 1 connection, %d bytes up, %d down", st, upBytes, downBytes)
	}
}

func TestUpstreamUnreachableRefusesWith502(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "ws://" + l.Addr().String() + "/ws/chat"
	_ = l.Close()
	_, relayURL := newRelay(t, Config{Upstream: dead, DialTimeout: 5 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, relayURL, nil)
	if err == nil {
		_ = c.CloseNow()
		t.Fatal("dial through a relay with a dead upstream succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("got response %v, err %v; want HTTP 502", resp, err)
	}
}

// An upstream that closes with a code passes that code and reason on.
func TestUpstreamCloseCodeReachesBrowser(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) {
		_ = c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3})
		_ = c.Close(4001, "stream end")
	})
	_, relayURL := newRelay(t, Config{Upstream: up.wsURL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	browser := dialBrowser(t, ctx, relayURL)
	if _, data, err := browser.Read(ctx); err != nil || !bytes.Equal(data, []byte{1, 2, 3}) {
		t.Fatalf("first read: %v %v", data, err)
	}
	_, _, err := browser.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "stream end" {
		t.Fatalf("browser read after upstream close: %v; want close 4001 \"stream end\"", err)
	}
}

// An upstream that vanishes without a close frame closes the browser side
// cleanly with 1014 (bad gateway) instead of leaving it hanging.
func TestUpstreamDropClosesBrowserCleanly(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) {
		_ = c.Write(ctx, websocket.MessageBinary, []byte("last"))
		_ = c.CloseNow() // TCP close, no close frame
	})
	r, relayURL := newRelay(t, Config{Upstream: up.wsURL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	browser := dialBrowser(t, ctx, relayURL)
	if _, data, err := browser.Read(ctx); err != nil || string(data) != "last" {
		t.Fatalf("first read: %q %v", data, err)
	}
	_, _, err := browser.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusBadGateway {
		t.Fatalf("browser read after upstream drop: %v; want close 1014", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.Stats().Active != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a := r.Stats().Active; a != 0 {
		t.Fatalf("%d relayed connections still active after the upstream dropped", a)
	}
}

// A page of another site cannot use the relay unless allowed.
func TestForeignOriginRejected(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) { u.recordAll(ctx, c) })
	_, relayURL := newRelay(t, Config{Upstream: up.wsURL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, relayURL, &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"https://evil.example"}},
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: resp %v err %v; want HTTP 403", resp, err)
	}

	_, allowedURL := newRelay(t, Config{Upstream: up.wsURL(), AllowedOrigins: []string{"evil.example"}})
	c, _, err := websocket.Dial(ctx, allowedURL, &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"https://evil.example"}},
	})
	if err != nil {
		t.Fatalf("allowed origin rejected: %v", err)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
}

// Closing the relay drops live connections and returns.
func TestCloseDropsConnections(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) { u.recordAll(ctx, c) })
	r, relayURL := newRelay(t, Config{Upstream: up.wsURL()})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	browser := dialBrowser(t, ctx, relayURL)
	if err := browser.Write(ctx, websocket.MessageBinary, []byte("x")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { _ = r.Close(); close(closed) }()
	_, _, err := browser.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("browser read after relay Close: %v; want 1001", err)
	}
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("Relay.Close did not return")
	}
}

// rawClient speaks just enough of RFC 6455 over TCP to see every frame the
// relay sends, which a WebSocket library would hide.
type rawClient struct {
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t *testing.T, wsURL string) *rawClient {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	key := base64.StdEncoding.EncodeToString(randomBytes(t, 16))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", u.Path, u.Host, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("raw handshake: %v %v", resp, err)
	}
	return &rawClient{conn, br}
}

// readFrame returns the next frame's opcode and payload (server frames are not masked).
func (c *rawClient) readFrame() (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	_, err := io.ReadFull(c.br, p)
	return h[0] & 0x0f, p, err
}

// writeClose sends a masked close frame with code.
func (c *rawClient) writeClose(code uint16) error {
	payload := binary.BigEndian.AppendUint16(nil, code)
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{0x88, 0x80 | byte(len(payload))}
	frame = append(frame, mask[:]...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	_, err := c.conn.Write(frame)
	return err
}

// When the upstream closes, the browser gets exactly one close frame carrying
// the upstream's code, and after answering it, the end of the connection.
// (A second close frame is what Chrome reports as "Close received after
// close", failing the socket with 1006 instead of the code.)
func TestUpstreamCloseSendsOneCloseFrame(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) {
		_ = c.Write(ctx, websocket.MessageBinary, []byte("hi"))
		_ = c.Close(4001, "bye")
	})
	_, relayURL := newRelay(t, Config{Upstream: up.wsURL()})
	c := dialRaw(t, relayURL)

	op, p, err := c.readFrame()
	if err != nil || op != 0x2 || string(p) != "hi" {
		t.Fatalf("first frame: op %x %q %v; want binary \"hi\"", op, p, err)
	}
	op, p, err = c.readFrame()
	if err != nil || op != 0x8 || len(p) < 2 || binary.BigEndian.Uint16(p) != 4001 || string(p[2:]) != "bye" {
		t.Fatalf("second frame: op %x %q %v; want close 4001 \"bye\"", op, p, err)
	}
	if err := c.writeClose(4001); err != nil {
		t.Fatal(err)
	}
	if op, p, err = c.readFrame(); err == nil {
		t.Fatalf("after the closing handshake the relay sent another frame: op %x %q", op, p)
	} else if !errors.Is(err, io.EOF) {
		t.Fatalf("after the closing handshake: %v; want the connection closed (EOF)", err)
	}
}

// An upstream that dies in the middle of a message must not make the relay
// deliver the part it got as a whole message.
func TestUpstreamDyingMidMessageDeliversNoPartialMessage(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) {
		w, err := c.Writer(ctx, websocket.MessageBinary)
		if err != nil {
			t.Errorf("upstream writer: %v", err)
			return
		}
		_, _ = w.Write(randomBytes(t, 256<<10)) // several frames, no final one
		_ = c.CloseNow()
	})
	_, relayURL := newRelay(t, Config{Upstream: up.wsURL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	browser := dialBrowser(t, ctx, relayURL)
	typ, data, err := browser.Read(ctx)
	if err == nil {
		t.Fatalf("browser got a %v message of %d bytes from an upstream that never finished one", typ, len(data))
	}
	if websocket.CloseStatus(err) != statusBadGateway {
		t.Fatalf("browser read: %v; want close 1014", err)
	}
}

// A browser that goes away without a close frame closes the upstream with
// 1001 (going away).
func TestBrowserDropClosesUpstream(t *testing.T) {
	up := newUpstream(t, func(ctx context.Context, c *websocket.Conn, u *upstream) { u.recordAll(ctx, c) })
	_, relayURL := newRelay(t, Config{Upstream: up.wsURL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	browser := dialBrowser(t, ctx, relayURL)
	if err := browser.Write(ctx, websocket.MessageBinary, []byte("x")); err != nil {
		t.Fatal(err)
	}
	_ = browser.CloseNow()
	up.expectClose(t, ctx, websocket.StatusGoingAway, "after the browser dropped")
}
