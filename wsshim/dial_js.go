//go:build js

package websocket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"syscall/js"
	"time"
	"unsafe"

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

// CloseTimeout bounds how long Close waits for the browser's close event.
var CloseTimeout = 5 * time.Second

// Conn is a browser WebSocket. It does not use nhooyr.io/websocket's js
// implementation: that one closes the socket from inside its "error" event
// handler and waits there for the "close" event, which the browser cannot
// deliver while a Go callback blocks, so the Go program dies with "all
// goroutines are asleep". Here the event handlers never block; every wait
// happens on the caller's goroutine.
type Conn struct {
	ws       js.Value
	handlers []handler

	mu        sync.Mutex
	queue     []message
	readLimit int64
	errText   string // the last "error" event's message, for the close error
	closeErr  error
	closing   bool

	arrived   chan struct{} // signalled (never blocking) when queue grows
	opened    chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

type handler struct {
	event    string
	fn       js.Func
	listener js.Value // fn, or the helper's wrapper around it
}

type message struct {
	typ  MessageType
	data []byte
}

// Dial opens a browser WebSocket to RewriteURL(u) and waits until it is open.
func Dial(ctx context.Context, u string, opts *DialOptions) (c *Conn, resp *http.Response, err error) {
	u = RewriteURL(u)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("failed to WebSocket dial %q: %v", u, r)
			if c != nil {
				c.release()
			}
			c = nil
		}
	}()
	c = &Conn{
		readLimit: 32768,
		arrived:   make(chan struct{}, 1),
		opened:    make(chan struct{}),
		closed:    make(chan struct{}),
	}
	var protocols []any
	if opts != nil {
		for _, p := range opts.Subprotocols {
			protocols = append(protocols, p)
		}
	}
	c.ws = js.Global().Get("WebSocket").New(u, protocols) // throws SyntaxError on a bad URL
	c.ws.Set("binaryType", "arraybuffer")
	c.listen("open", func(js.Value) { close(c.opened) })
	if wrap := fastCalls().onMessage; !wrap.IsUndefined() {
		c.listenWrapped(wrap)
	} else {
		c.listen("message", c.onMessage)
	}
	c.listen("error", func(e js.Value) {
		c.mu.Lock()
		c.errText = jsString(e.Get("message"))
		c.mu.Unlock()
	})
	c.listen("close", func(e js.Value) {
		c.markClosed(websocket.CloseError{
			Code:   StatusCode(e.Get("code").Int()),
			Reason: e.Get("reason").String(),
		}, e.Get("wasClean").Bool())
	})

	select {
	case <-c.opened:
		return c, nil, nil
	case <-c.closed:
		return nil, nil, fmt.Errorf("failed to WebSocket dial %q: %w", u, c.err())
	case <-ctx.Done():
		c.abort()
		return nil, nil, fmt.Errorf("failed to WebSocket dial %q: %w", u, ctx.Err())
	}
}

func (c *Conn) listen(event string, fn func(js.Value)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		fn(args[0])
		return nil
	})
	c.handlers = append(c.handlers, handler{event, f, f.Value})
	c.ws.Call("addEventListener", event, f)
}

// listenWrapped listens to messages through the helper's wsOnMessage, whose
// listener calls back with the data already as a string or a Uint8Array and
// its length: one crossing and the copy per frame instead of four calls.
func (c *Conn) listenWrapped(wrap js.Value) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		// A panic here would end the whole program: end the connection.
		defer func() {
			if r := recover(); r != nil {
				c.markClosed(fmt.Errorf("receiving a message: %v", r), false)
				c.abort()
			}
		}()
		if len(args) < 2 || args[1].Type() != js.TypeNumber {
			return nil
		}
		n := args[1].Int()
		if n < 0 {
			c.received(message{typ: MessageText, data: []byte(args[0].String())})
			return nil
		}
		if c.refusedOverLimit(n) { // before its bytes are copied in
			return nil
		}
		m := message{typ: MessageBinary, data: make([]byte, n)}
		js.CopyBytesToGo(m.data, args[0])
		c.enqueue(m)
		return nil
	})
	l := wrap.Invoke(f)
	c.handlers = append(c.handlers, handler{"message", f, l})
	c.ws.Call("addEventListener", "message", l)
}

func (c *Conn) onMessage(e js.Value) {
	data := e.Get("data")
	var m message
	if data.Type() == js.TypeString {
		m = message{typ: MessageText, data: []byte(data.String())}
	} else {
		arr := uint8Array.New(data)
		m = message{typ: MessageBinary, data: make([]byte, arr.Length())}
		js.CopyBytesToGo(m.data, arr)
	}
	c.received(m)
}

// received queues a message, or ends the connection if it is over the
// read limit.
func (c *Conn) received(m message) {
	if !c.refusedOverLimit(len(m.data)) {
		c.enqueue(m)
	}
}

// refusedOverLimit ends the connection if a message of n bytes is over the
// read limit, and reports whether it did.
func (c *Conn) refusedOverLimit(n int) bool {
	c.mu.Lock()
	limit := c.readLimit
	c.mu.Unlock()
	if limit <= 0 || int64(n) <= limit {
		return false
	}
	c.markClosed(fmt.Errorf("read limited at %d bytes, message has %d", limit, n), false)
	c.abort()
	return true
}

// enqueue queues a message within the read limit for Read.
func (c *Conn) enqueue(m message) {
	c.mu.Lock()
	c.queue = append(c.queue, m)
	c.mu.Unlock()
	select {
	case c.arrived <- struct{}{}:
	default:
	}
}

// markClosed records why the connection ended; only the first call counts.
func (c *Conn) markClosed(err error, clean bool) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		if !clean {
			if c.errText != "" {
				err = fmt.Errorf("unclean connection close (%s): %w", c.errText, err)
			} else {
				err = fmt.Errorf("unclean connection close: %w", err)
			}
		}
		c.closeErr = err
		c.mu.Unlock()
		close(c.closed)
		c.release()
	})
}

func (c *Conn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// abort closes the browser socket without waiting; safe in any state.
func (c *Conn) abort() {
	defer func() { _ = recover() }()
	c.ws.Call("close")
}

// release removes the event handlers once nothing more can arrive. It may
// run inside the close handler: releasing a running js.Func is allowed.
func (c *Conn) release() {
	defer func() { _ = recover() }()
	for _, h := range c.handlers {
		c.ws.Call("removeEventListener", h.event, h.listener)
		h.fn.Release()
	}
	c.handlers = nil
}

// Read returns the next message. Messages that arrived before the
// connection closed are still returned; then the close error.
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = message{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return m.typ, m.data, nil
		}
		c.mu.Unlock()
		select {
		case <-c.arrived:
		case <-c.closed:
			c.mu.Lock()
			pending := len(c.queue) > 0
			c.mu.Unlock()
			if !pending {
				return 0, nil, fmt.Errorf("failed to read: %w", c.err())
			}
		case <-ctx.Done():
			return 0, nil, fmt.Errorf("failed to read: %w", ctx.Err())
		}
	}
}

// Write waits for the write barrier, then sends one message.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) (err error) {
	if err := waitBarrier(ctx); err != nil {
		return err
	}
	select {
	case <-c.closed:
		return fmt.Errorf("failed to write: %w", c.err())
	default:
	}
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return errors.New("failed to write: the connection is closing")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("failed to write: %v", r)
		}
	}()
	if typ == MessageText {
		c.ws.Call("send", string(p))
		return nil
	}
	if send := fastCalls().send; !send.IsUndefined() {
		// One call, no copy on the Go side: the helper sends a view of p in
		// the wasm memory (a pointer is an offset there), which send copies
		// before it returns; Go's collector does not move p, and nothing in
		// Go runs (or grows the memory) during the call.
		// p must be on the heap (Go never moves heap objects; a goroutine
		// stack moves when it grows, as it can during Invoke): escape makes
		// every caller's p escape, whatever its size.
		escape(p)
		send.Invoke(c.ws, uintptr(unsafe.Pointer(unsafe.SliceData(p))), len(p))
		runtime.KeepAlive(p)
		return nil
	}
	arr := uint8Array.New(len(p))
	js.CopyBytesToJS(arr, p)
	c.ws.Call("send", arr)
	return nil
}

// escape is a function the compiler cannot see through: a slice passed to
// it escapes to the heap (see Write).
var escape = func([]byte) {}

// uint8Array is the Uint8Array constructor, looked up once rather than per
// frame.
var uint8Array = js.Global().Get("Uint8Array")

// The socket calls of wasmeow.js's fastCalls helper, when installed.
type helper struct {
	send      js.Value // wsSend(ws, ptr, len)
	onMessage js.Value // wsOnMessage(fn): a message listener calling fn(data, length or -1 for text)
}

var (
	helperMu sync.RWMutex
	helperOf = helper{js.Undefined(), js.Undefined()}
)

// UseFastCalls installs the socket calls of wasmeow.js's helper object h
// (wsSend and wsOnMessage, see fastCalls there) for the sockets dialled
// from then on; null or undefined uninstalls them. Without them a frame is
// copied into a new Uint8Array and sent, and a received one is read from its
// event with a few calls.
func UseFastCalls(h js.Value) error {
	next := helper{js.Undefined(), js.Undefined()}
	if !h.IsUndefined() && !h.IsNull() {
		next = helper{h.Get("wsSend"), h.Get("wsOnMessage")}
		if next.send.Type() != js.TypeFunction || next.onMessage.Type() != js.TypeFunction {
			return errors.New("websocket: the fast-call helper lacks wsSend or wsOnMessage")
		}
	}
	helperMu.Lock()
	defer helperMu.Unlock()
	helperOf = next
	return nil
}

func fastCalls() helper {
	helperMu.RLock()
	defer helperMu.RUnlock()
	return helperOf
}

// Close starts the close handshake with code and reason and waits (at most
// CloseTimeout) for it to finish. Browsers only let a page send 1000 or
// 3000-4999; any other code is sent as 1000.
func (c *Conn) Close(code StatusCode, reason string) error {
	if code != StatusNormalClosure && (code < 3000 || code > 4999) {
		code = StatusNormalClosure
	}
	return c.close(func() { c.ws.Call("close", int(code), reason) })
}

// CloseNow closes without a status code. A browser always performs the
// handshake, so this too waits at most CloseTimeout.
func (c *Conn) CloseNow() error {
	return c.close(func() { c.ws.Call("close") })
}

func (c *Conn) close(start func()) (err error) {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	select {
	case <-c.closed:
		if !already {
			return nil // the peer closed first: nothing left to do
		}
		return fmt.Errorf("failed to close WebSocket: %w", net.ErrClosed)
	default:
	}
	if !already {
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("failed to close WebSocket: %v", r)
				}
			}()
			start()
		}()
		if err != nil {
			c.markClosed(err, false)
			return err
		}
	}
	select {
	case <-c.closed:
		return nil
	case <-time.After(CloseTimeout):
		c.markClosed(errors.New("close handshake timed out"), false)
		return errors.New("failed to close WebSocket: close handshake timed out")
	}
}

// SetReadLimit sets the largest message Read accepts; a larger one closes
// the connection.
func (c *Conn) SetReadLimit(n int64) {
	c.mu.Lock()
	c.readLimit = n
	c.mu.Unlock()
}

// Subprotocol returns the negotiated subprotocol ("" for none).
func (c *Conn) Subprotocol() string { return jsString(c.ws.Get("protocol")) }

func jsString(v js.Value) string {
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}
