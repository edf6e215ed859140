//go:build !js

package fakewa

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waWa6"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/util/keys"
)

const handshakeTimeout = 20 * time.Second

// conn is one websocket connection from a client, before or after login.
type conn struct {
	id    uint64 // conn#id in logs and in the control API
	s     *Server
	ws    *websocket.Conn
	ctx   context.Context
	stop  context.CancelFunc
	label atomic.Pointer[string] // for logs: "conn#3", then the device JID

	// Reassembly of 3-byte-length frames across websocket messages.
	inbuf []byte

	writeMu  sync.Mutex
	writeKey cipher.AEAD
	writeCtr uint32
	readKey  cipher.AEAD
	readCtr  uint32
	cutAfter int // frames the server may still send before cutting; <0: no limit

	noisePub [32]byte
	payload  *waWa6.ClientPayload
	// What the client announced, for the control API: its app version once
	// the handshake is done.
	announced   atomic.Pointer[string]
	dictVersion atomic.Uint32
	// dict is the token dictionary the client chose in its connection
	// header; set by the handshake, before any node goes either way.
	dict *tokenDict

	// Guarded by s.mu.
	device   *device       // after login
	reg      *registration // before pairing
	refs     []string
	paired   bool // pair-success accepted: no second pairing on this socket
	pending  map[string]chan *waBinary.Node
	closedCh chan struct{}
}

// registration is what an unpaired client announced in its ClientPayload.
type registration struct {
	identity     [32]byte
	regID        uint32
	signedPreKey preKey
	platform     string
	platformType string // DeviceProps.PlatformType, e.g. "CHROME"
	qrClientType int    // the client type in the QR the phone scanned (0: bare form)
}

func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true}) // any Origin: browsers send their page's
	if err != nil {
		s.log.Warnf("Websocket upgrade from %s failed: %v", r.RemoteAddr, err)
		return
	}
	ws.SetReadLimit(socket.FrameMaxSize + 64)
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		s: s, ws: ws, ctx: ctx, stop: cancel, cutAfter: -1,
		pending:  make(map[string]chan *waBinary.Node),
		closedCh: make(chan struct{}),
	}
	c.id = s.connCount.Add(1)
	c.setLabel(fmt.Sprintf("conn#%d", c.id))
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.CloseNow()
		cancel()
		return
	}
	s.conns[c] = struct{}{}
	armed, cutNow := len(s.cutNext) > 0, false
	if armed {
		// Armed before the socket existed (CutNextConnection): a fault test
		// can reach a socket that never pairs or logs in.
		c.cutAfter, cutNow = s.cutNext[0], s.cutNext[0] <= 0
		s.cutNext = s.cutNext[1:]
	}
	s.wg.Add(1)
	s.mu.Unlock()
	s.log.Debugf("%s: websocket opened from %s", c.name(), r.RemoteAddr)
	defer s.wg.Done()
	if cutNow {
		c.cut()
		c.finish()
		return
	}
	c.run()
}

// run does the handshake, then reads nodes until the socket ends.
func (c *conn) run() {
	defer c.finish()
	defer func() {
		// One broken connection must never take the server down.
		if r := recover(); r != nil {
			c.s.log.Errorf("%s: panic while handling connection: %v", c.name(), r)
		}
	}()
	if err := c.handshake(); err != nil {
		c.s.log.Warnf("%s: handshake rejected: %v", c.name(), err)
		_ = c.ws.Close(websocket.StatusProtocolError, "handshake failed")
		return
	}
	c.s.onAuthenticated(c)
	for {
		frame, err := c.readFrame(c.ctx)
		if err != nil {
			if c.ctx.Err() == nil && websocket.CloseStatus(err) == -1 && !errors.Is(err, context.Canceled) {
				c.s.log.Debugf("%s: read ended: %v", c.name(), err)
			}
			return
		}
		plain, err := c.readKey.Open(nil, nonce(c.readCtr), frame, nil)
		c.readCtr++
		if err != nil {
			c.s.log.Warnf("%s: cannot decrypt frame %d: %v", c.name(), c.readCtr-1, err)
			return
		}
		// A client's bytes are inflated within bounds and walked with a
		// bounded depth before waBinary.Unmarshal, whose recursion has no
		// bound: a stack overflow is fatal to the whole server, not to one
		// connection. A frame that fails either ends its connection.
		unpacked, err := unpackFrame(plain)
		if err == nil {
			unpacked, err = transcodeNode(c.dict, dictV3, unpacked)
		}
		var node *waBinary.Node
		if err == nil {
			node, err = waBinary.Unmarshal(unpacked)
		}
		if err != nil {
			c.s.log.Warnf("%s: closing on undecodable frame %d: %v", c.name(), c.readCtr-1, err)
			_ = c.ws.Close(websocket.StatusProtocolError, "malformed frame")
			return
		}
		if c.s.cfg.Verbose {
			c.s.log.Infof("%s <- %s", c.name(), node.XMLString())
		}
		c.s.handleNode(c, node)
	}
}

// unpackFrame is waBinary.Unpack with a bound: a compressed frame (flag
// bit 2) may inflate to FrameMaxSize bytes at most, not to whatever a
// client's zlib stream expands to.
func unpackFrame(plain []byte) ([]byte, error) {
	if len(plain) == 0 {
		return nil, errors.New("empty frame")
	}
	flag, data := plain[0], plain[1:]
	if flag&2 == 0 {
		return data, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, socket.FrameMaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	if len(out) > socket.FrameMaxSize {
		return nil, fmt.Errorf("compressed frame inflates past %d bytes", socket.FrameMaxSize)
	}
	return out, nil
}

func (c *conn) name() string { return *c.label.Load() }

func (c *conn) setLabel(l string) { c.label.Store(&l) }

// readFrame returns the next length-prefixed frame, reading websocket
// messages as needed: messages and frames do not line up one to one.
func (c *conn) readFrame(ctx context.Context) ([]byte, error) {
	for {
		if len(c.inbuf) >= socket.FrameLengthSize {
			n := int(c.inbuf[0])<<16 | int(c.inbuf[1])<<8 | int(c.inbuf[2])
			if n > socket.FrameMaxSize {
				return nil, socket.ErrFrameTooLarge
			}
			if len(c.inbuf) >= socket.FrameLengthSize+n {
				frame := append([]byte(nil), c.inbuf[socket.FrameLengthSize:socket.FrameLengthSize+n]...)
				c.inbuf = c.inbuf[socket.FrameLengthSize+n:]
				return frame, nil
			}
		}
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			return nil, err
		}
		if typ != websocket.MessageBinary {
			return nil, fmt.Errorf("unexpected websocket message type %v", typ)
		}
		c.inbuf = append(c.inbuf, data...)
	}
}

func (c *conn) writeFrame(payload []byte) error {
	if len(payload) > socket.FrameMaxSize {
		return socket.ErrFrameTooLarge
	}
	buf := make([]byte, socket.FrameLengthSize+len(payload))
	buf[0], buf[1], buf[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	copy(buf[socket.FrameLengthSize:], payload)
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageBinary, buf)
}

// handshake runs the responder side of Noise XX and reads the ClientPayload.
func (c *conn) handshake() error {
	ctx, cancel := context.WithTimeout(c.ctx, handshakeTimeout)
	defer cancel()
	// The header comes once, before the first frame.
	for len(c.inbuf) < len(socket.WAConnHeader) {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			return fmt.Errorf("reading header: %w", err)
		}
		if typ != websocket.MessageBinary {
			return fmt.Errorf("text message before handshake")
		}
		c.inbuf = append(c.inbuf, data...)
	}
	header := bytes.Clone(c.inbuf[:len(socket.WAConnHeader)])
	if c.dict = dictForHeader(header); c.dict == nil {
		return fmt.Errorf("bad connection header %x (want WA 6 and dictionary version 2 or 3, e.g. %x)", header, socket.WAConnHeader)
	}
	c.dictVersion.Store(uint32(c.dict.version))
	c.inbuf = c.inbuf[len(socket.WAConnHeader):]

	ns, err := newNoiseState(socket.NoiseStartPattern, header)
	if err != nil {
		return err
	}
	frame, err := c.readFrame(ctx)
	if err != nil {
		return fmt.Errorf("reading client hello: %w", err)
	}
	var hello waWa6.HandshakeMessage
	if err = proto.Unmarshal(frame, &hello); err != nil {
		return fmt.Errorf("decoding client hello: %w", err)
	}
	clientEph := hello.GetClientHello().GetEphemeral()
	if len(clientEph) != 32 {
		return fmt.Errorf("client hello ephemeral has %d bytes, want 32", len(clientEph))
	}
	ns.authenticate(clientEph)
	eph := keys.NewKeyPair()
	ns.authenticate(eph.Pub[:])
	if err = ns.mixDH(eph.Priv[:], clientEph); err != nil {
		return err
	}
	staticCT := ns.encrypt(c.s.static.Pub[:])
	if err = ns.mixDH(c.s.static.Priv[:], clientEph); err != nil {
		return err
	}
	certCT := ns.encrypt(c.s.certChain)
	out, err := proto.Marshal(&waWa6.HandshakeMessage{ServerHello: &waWa6.HandshakeMessage_ServerHello{
		Ephemeral: eph.Pub[:], Static: staticCT, Payload: certCT,
	}})
	if err != nil {
		return err
	}
	if err = c.writeFrame(out); err != nil {
		return fmt.Errorf("sending server hello: %w", err)
	}

	frame, err = c.readFrame(ctx)
	if err != nil {
		return fmt.Errorf("reading client finish: %w", err)
	}
	var finish waWa6.HandshakeMessage
	if err = proto.Unmarshal(frame, &finish); err != nil {
		return fmt.Errorf("decoding client finish: %w", err)
	}
	staticPlain, err := ns.decrypt(finish.GetClientFinish().GetStatic())
	if err != nil {
		return fmt.Errorf("decrypting client static key: %w", err)
	} else if len(staticPlain) != 32 {
		return fmt.Errorf("client static key has %d bytes, want 32", len(staticPlain))
	}
	copy(c.noisePub[:], staticPlain)
	if err = ns.mixDH(eph.Priv[:], staticPlain); err != nil {
		return err
	}
	payloadPlain, err := ns.decrypt(finish.GetClientFinish().GetPayload())
	if err != nil {
		return fmt.Errorf("decrypting client payload: %w", err)
	}
	var payload waWa6.ClientPayload
	if err = proto.Unmarshal(payloadPlain, &payload); err != nil {
		return fmt.Errorf("decoding client payload: %w", err)
	}
	c.payload = &payload
	announced := payloadVersion(&payload).String()
	c.announced.Store(&announced)
	if c.readKey, c.writeKey, err = ns.split(); err != nil {
		return fmt.Errorf("deriving transport keys: %w", err)
	}
	return nil
}

var errCut = errors.New("socket cut by fault injection")

// send encrypts and writes one node. The fault-injection counter counts
// frames the server sends.
func (c *conn) send(node waBinary.Node) error {
	data, err := waBinary.Marshal(node) // a flag byte (0), then the node in dictionary 3
	if err == nil && c.dict != nil && c.dict != dictV3 {
		var body []byte
		if body, err = transcodeNode(dictV3, c.dict, data[1:]); err == nil {
			data = append([]byte{data[0]}, body...)
		}
	}
	if err != nil {
		return fmt.Errorf("marshaling <%s>: %w", node.Tag, err)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.ctx.Err() != nil {
		return fmt.Errorf("sending <%s> to %s: socket closed", node.Tag, c.name())
	}
	if c.cutAfter == 0 {
		c.cutLocked()
		return errCut
	}
	if c.s.cfg.Verbose {
		c.s.log.Infof("%s -> %s", c.name(), node.XMLString())
	}
	ct := c.writeKey.Seal(nil, nonce(c.writeCtr), data, nil)
	c.writeCtr++
	if err = c.writeFrame(ct); err != nil {
		return fmt.Errorf("sending <%s> to %s: %w", node.Tag, c.name(), err)
	}
	if c.cutAfter > 0 {
		c.cutAfter--
		if c.cutAfter == 0 {
			// Give the last frame time to reach the client; meanwhile
			// nothing else goes out (cutAfter == 0 refuses sends).
			time.AfterFunc(50*time.Millisecond, c.cut)
		}
	}
	return nil
}

// setCutAfter cuts the socket now (n <= 0) or just after n more server frames.
func (c *conn) setCutAfter(n int) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if n <= 0 {
		c.cutLocked()
		return
	}
	c.cutAfter = n
}

func (c *conn) cutLocked() {
	if c.ctx.Err() == nil { // not logged twice (a delayed cut after a refused send)
		c.s.log.Infof("%s: cutting socket", c.name())
	}
	c.stop()
	_ = c.ws.CloseNow()
}

// cut drops the TCP connection without a close handshake.
func (c *conn) cut() {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.cutLocked()
}

// closeGracefully sends a websocket close frame.
// failAndClose sends a <failure> and closes the socket a moment later.
// whatsmeow hands frames to a queue that a closed socket cancels: closed at
// once, the client may see only the close (a plain lost connection, which it
// retries) and never the failure's reason. The moment is a guess at the
// service's own timing, which is not known.
func (c *conn) failAndClose(reason string) {
	_ = c.send(waBinary.Node{Tag: "failure", Attrs: waBinary.Attrs{"reason": reason, "location": "fakewa"}})
	time.AfterFunc(failureCloseDelay, c.closeGracefully)
}

const failureCloseDelay = 500 * time.Millisecond

func (c *conn) closeGracefully() {
	go func() {
		_ = c.ws.Close(websocket.StatusNormalClosure, "")
		c.stop()
	}()
}

// request sends a server-initiated iq and waits for the client's answer.
func (c *conn) request(node waBinary.Node) (*waBinary.Node, error) {
	id := c.s.newID()
	node.Attrs["id"] = id
	ch := make(chan *waBinary.Node, 1)
	c.s.mu.Lock()
	c.pending[id] = ch
	c.s.mu.Unlock()
	defer func() {
		c.s.mu.Lock()
		delete(c.pending, id)
		c.s.mu.Unlock()
	}()
	if err := c.send(node); err != nil {
		return nil, err
	}
	timer := time.NewTimer(c.s.cfg.RequestTimeout)
	defer timer.Stop()
	select {
	case resp := <-ch:
		return resp, nil
	case <-c.closedCh:
		return nil, fmt.Errorf("%s closed before answering <%s> %s", c.name(), node.Tag, id)
	case <-timer.C:
		return nil, fmt.Errorf("%s did not answer <%s> %s within %s", c.name(), node.Tag, id, c.s.cfg.RequestTimeout)
	}
}

// takeResponse hands an iq answer to the request waiting for it.
func (c *conn) takeResponse(node *waBinary.Node) bool {
	id, _ := node.Attrs["id"].(string)
	c.s.mu.Lock()
	ch, ok := c.pending[id]
	if ok {
		delete(c.pending, id)
	}
	c.s.mu.Unlock()
	if ok {
		ch <- node
	}
	return ok
}

func (c *conn) finish() {
	c.stop()
	_ = c.ws.CloseNow()
	c.s.onClosed(c)
	close(c.closedCh)
	c.s.log.Debugf("%s: closed", c.name())
}

func uint32From(b []byte) (uint32, error) {
	switch len(b) {
	case 3:
		return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]), nil
	case 4:
		return binary.BigEndian.Uint32(b), nil
	default:
		return 0, fmt.Errorf("%d-byte integer, want 3 or 4", len(b))
	}
}
