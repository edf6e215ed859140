//go:build !js

package fakewa

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/binary/token"
	"go.mau.fi/whatsmeow/socket"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// hostileNodes are node bodies (after the flag byte) nested far deeper than
// any stanza: each once overflowed the stack of the whole server, which no
// recover catches. The tokens 3 and 4 (a tag and an attribute key) are
// tokens in both dictionaries.
func hostileNodes(levels int) map[string][]byte {
	head := []byte{token.List8, 3, 3, 4} // <tag key=...
	return map[string][]byte{
		"JID pairs": append(head, bytes.Repeat([]byte{token.JIDPair}, levels)...),
		"AD JIDs":   append(head, bytes.Repeat([]byte{token.ADJID, 0, 0}, levels)...),
		"FB JIDs":   append(head, bytes.Repeat([]byte{token.FBJID}, levels)...),
		"interop":   append(head, bytes.Repeat([]byte{token.InteropJID}, levels)...),
		// <tag><tag><tag>...: each node's content a list of one node.
		"nodes": bytes.Repeat([]byte{token.List8, 2, 3, token.List8, 1}, levels),
		// A node whose tag is a list: whatsmeow recurses into it.
		"list tags": bytes.Repeat([]byte{token.List8, 1}, levels),
	}
}

func deflate(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ping sends <iq id=... xmlns=w:p type=get/> in c's dictionary, compressed
// or not, and waits for its result.
func (c *v2Client) ping(ctx context.Context, t *testing.T, d *tokenDict, id string, compress bool) {
	t.Helper()
	v3, err := waBinary.Marshal(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{"id": id, "xmlns": "w:p", "type": "get"}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := transcodeNode(dictV3, d, v3[1:])
	if err != nil {
		t.Fatal(err)
	}
	if compress {
		c.write(ctx, t, append([]byte{2}, deflate(t, body)...))
	} else {
		c.write(ctx, t, append([]byte{0}, body...))
	}
	for {
		frame := c.read(ctx, t)
		back, err := transcodeNode(d, dictV3, frame[1:])
		if err != nil {
			t.Fatal(err)
		}
		reply, err := waBinary.Unmarshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if reply.Tag == "iq" && reply.Attrs["id"] == id {
			if reply.Attrs["type"] != "result" {
				t.Fatalf("ping %s answered %s", id, reply.XMLString())
			}
			return
		}
	}
}

// LineCapture is a test logger that keeps every line. It is exported, from
// a test file, for the external test package too.
type LineCapture struct {
	mu    sync.Mutex
	lines []string
}

func (l *LineCapture) add(m string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(m, a...))
	l.mu.Unlock()
}
func (l *LineCapture) Warnf(m string, a ...any)  { l.add(m, a...) }
func (l *LineCapture) Errorf(m string, a ...any) { l.add(m, a...) }
func (l *LineCapture) Infof(m string, a ...any)  { l.add(m, a...) }
func (l *LineCapture) Debugf(m string, a ...any) { l.add(m, a...) }
func (l *LineCapture) Sub(string) waLog.Logger   { return l }

// Count is how many lines contain sub.
func (l *LineCapture) Count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, sub) {
			n++
		}
	}
	return n
}

// Has reports whether a line contains sub.
func (l *LineCapture) Has(sub string) bool { return l.Count(sub) > 0 }

// Deeply nested frames, plain or compressed, from clients of either
// dictionary, and a compressed frame that inflates past the frame limit,
// each end their own connection with a protocol-error close and a log
// line; the server goes on answering a client connected before them and
// one connected after.
func TestHostileFramesCloseOnlyTheirConnection(t *testing.T) {
	// A stack overflow is fatal whatever its limit; a lower limit only makes
	// a regression fail in less time and memory than the default 1 GB.
	defer debug.SetMaxStack(debug.SetMaxStack(64 << 20))
	logs := &LineCapture{}
	srv := Listening(t, Config{Log: logs})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	bystander := dialDict(ctx, t, srv, dictV3.version)
	defer bystander.ws.CloseNow()
	bystander.ping(ctx, t, dictV3, "before", false)

	type attack struct {
		name string
		dict *tokenDict
		body []byte // flag byte and node
	}
	var attacks []attack
	for _, d := range []*tokenDict{dictV2, dictV3} {
		for name, node := range hostileNodes(2_100_000) {
			attacks = append(attacks,
				attack{fmt.Sprintf("v%d %s", d.version, name), d, append([]byte{0}, node...)},
				attack{fmt.Sprintf("v%d %s compressed", d.version, name), d, append([]byte{2}, deflate(t, node)...)})
		}
		// A well-formed node, <tag>[FrameMaxSize zero bytes]</tag>, that only
		// the inflation limit refuses.
		n := socket.FrameMaxSize
		bomb := append([]byte{token.List8, 2, 3, token.Binary32, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, make([]byte, n)...)
		attacks = append(attacks, attack{fmt.Sprintf("v%d zlib bomb", d.version), d, append([]byte{2}, deflate(t, bomb)...)})
	}
	for _, a := range attacks {
		c := dialDict(ctx, t, srv, a.dict.version)
		// A compressed ping first: the bounded inflate still inflates.
		c.ping(ctx, t, a.dict, "first", true)
		c.write(ctx, t, a.body)
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		var err error
		for err == nil {
			_, _, err = c.ws.Read(rctx)
		}
		rcancel()
		if got := websocket.CloseStatus(err); got != websocket.StatusProtocolError {
			t.Errorf("%s: server answered %v (close status %v), want a protocol-error close", a.name, err, got)
		}
		_ = c.ws.CloseNow()
	}
	if n := logs.Count("closing on undecodable frame"); n != len(attacks) {
		t.Errorf("%d undecodable-frame log lines for %d attacks", n, len(attacks))
	}
	if logs.Has("panic") {
		t.Error("a connection panicked (recovered)")
	}

	bystander.ping(ctx, t, dictV3, "after", false)
	late := dialDict(ctx, t, srv, dictV2.version)
	defer late.ws.CloseNow()
	late.ping(ctx, t, dictV2, "late", true)
}

// The walk refuses what whatsmeow's decoder would recurse into without
// bound or panic on, in either dictionary, and leaves version 3 bytes as
// they are.
func TestTranscodeRefusesNestedJIDs(t *testing.T) {
	ok, _ := waBinary.Marshal(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{"to": "s.whatsapp.net", "id": "x"}})
	if got, err := transcodeNode(dictV3, dictV3, ok[1:]); err != nil || !bytes.Equal(got, ok[1:]) {
		t.Fatalf("version 3 walk: % x, %v", got, err)
	}
	head := []byte{token.List8, 3, 3, 4}
	bad := map[string][]byte{
		"pair in pair":     append(head, token.JIDPair, token.JIDPair, 0, 3, 3),
		"AD JID user list": append(head, token.ADJID, 0, 0, token.List8, 0),
		"FB JID no user":   append(head, token.FBJID, token.ListEmpty, 0, 0, 3),
		"pair no server":   append(head, token.JIDPair, 3, token.ListEmpty),
		"list tag":         {token.List8, 1, token.List8, 1, token.List8, 1, 3},
		"no tag":           {token.ListEmpty},
	}
	for name, levels := range map[string]int{"65 nodes": 65, "64 nodes": 64} {
		nested := bytes.Repeat([]byte{token.List8, 2, 3, token.List8, 1}, levels)
		nested = append(nested, token.List8, 1, 3)
		if levels > maxNodeDepth {
			bad[name] = nested
		} else if _, err := transcodeNode(dictV3, dictV3, nested); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, b := range bad {
		for _, d := range []*tokenDict{dictV2, dictV3} {
			if _, err := transcodeNode(d, dictV3, b); err == nil {
				t.Errorf("%s (version %d): accepted", name, d.version)
			}
		}
	}
}

// unpackFrame inflates a compressed frame up to the frame limit and no
// further.
func TestUnpackFrameBounded(t *testing.T) {
	ok := bytes.Repeat([]byte{7}, socket.FrameMaxSize)
	if got, err := unpackFrame(append([]byte{2}, deflate(t, ok)...)); err != nil || !bytes.Equal(got, ok) {
		t.Fatalf("inflating to the limit: %d bytes, %v", len(got), err)
	}
	if _, err := unpackFrame(append([]byte{2}, deflate(t, append(ok, 7))...)); err == nil {
		t.Fatal("a frame inflating one byte past the limit was accepted")
	}
	if got, err := unpackFrame([]byte{0, 1, 2}); err != nil || !bytes.Equal(got, []byte{1, 2}) {
		t.Fatalf("plain frame: % x, %v", got, err)
	}
	for _, b := range [][]byte{nil, {2}, {2, 1, 2, 3}} {
		if _, err := unpackFrame(b); err == nil {
			t.Errorf("% x unpacked", b)
		}
	}
}
