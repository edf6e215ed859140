//go:build !js

package fakewa

import (
	"bytes"
	"context"
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.mau.fi/libsignal/ecc"
	"google.golang.org/protobuf/proto"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/binary/token"
	"go.mau.fi/whatsmeow/proto/waWa6"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// v2Single is the version 2 single-byte token for s, read off the table
// itself (not the transcoder's index).
func v2Single(t *testing.T, s string) byte {
	t.Helper()
	for i, tok := range dictV2Single {
		if i > 0 && tok == s {
			return byte(i)
		}
	}
	t.Fatalf("%q is no version 2 single-byte token", s)
	return 0
}

// A client announcing dictionary version 2 ('W','A',6,2, as Baileys 6
// does) completes the handshake, gets its pair-device iq in version 2
// tokens, and a keepalive iq hand-assembled from the version 2 table is
// understood and answered in version 2. A version the double does not know
// is refused.
func TestDictionaryVersion2Client(t *testing.T) {
	srv := Listening(t, Config{Log: waLog.Noop})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	// The token the version 2 table gives "iq" is another string in version 3:
	// a frame misread with the wrong table would not even be an iq.
	iq := v2Single(t, "iq")
	if token.SingleByteTokens[iq] == "iq" {
		t.Fatalf("token %d is iq in both versions: the test would prove nothing", iq)
	}

	c := dialV2(ctx, t, srv)
	defer c.ws.CloseNow()

	// The server's first node is <iq type=set xmlns=md><pair-device>...
	first := c.read(ctx, t)
	if first[0] != 0 || first[1] != token.List8 || first[3] != iq {
		t.Fatalf("first server node % x...: want flag 0, a list and the version 2 token %d for iq", first[:4], iq)
	}
	node := decodeV2(t, first[1:])
	if node.Tag != "iq" || node.Attrs["xmlns"] != "md" || node.GetChildByTag("pair-device").Tag != "pair-device" {
		t.Fatalf("first server node %s, want the pair-device iq", node.XMLString())
	}

	// <iq id="ping-v2" xmlns="w:p" type="get"/> in version 2 tokens, by hand.
	id := "ping-v2"
	ping := []byte{0, token.List8, 7, iq,
		v2Single(t, "id"), token.Binary8, byte(len(id))}
	ping = append(ping, id...)
	ping = append(ping, v2Single(t, "xmlns"), v2Single(t, "w:p"), v2Single(t, "type"), v2Single(t, "get"))
	c.write(ctx, t, ping)
	for {
		frame := c.read(ctx, t)
		reply := decodeV2(t, frame[1:])
		if reply.Tag == "iq" && reply.Attrs["id"] == id {
			if reply.Attrs["type"] != "result" || frame[3] != iq {
				t.Fatalf("keepalive answer %s (% x)", reply.XMLString(), frame)
			}
			break
		}
	}
	if conns := srv.Connections(); len(conns) != 1 || conns[0].Dict != 2 || conns[0].State != "unpaired" {
		t.Fatalf("connections %+v: want one unpaired socket speaking dictionary 2", conns)
	}

	// Dictionary version 4 does not exist: the handshake is refused.
	ws, _, err := websocket.Dial(ctx, srv.WebsocketURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	hello, _ := proto.Marshal(&waWa6.HandshakeMessage{ClientHello: &waWa6.HandshakeMessage_ClientHello{Ephemeral: keys.NewKeyPair().Pub[:]}})
	_ = ws.Write(ctx, websocket.MessageBinary, append([]byte{'W', 'A', 6, 4}, lengthPrefixed(hello)...))
	for err == nil {
		_, _, err = ws.Read(ctx)
	}
	if websocket.CloseStatus(err) != websocket.StatusProtocolError {
		t.Fatalf("dictionary 4: %v, want a protocol-error close", err)
	}
}

// Listening is a server on a free local port, closed when t ends. It is
// exported, from a test file, for the external test package too.
func Listening(t testing.TB, cfg Config) *Server {
	t.Helper()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func decodeV2(t *testing.T, data []byte) *waBinary.Node {
	t.Helper()
	v3, err := transcodeNode(dictV2, dictV3, data)
	if err != nil {
		t.Fatalf("decoding % x: %v", data, err)
	}
	node, err := waBinary.Unmarshal(v3)
	if err != nil {
		t.Fatalf("decoding % x: %v", data, err)
	}
	return node
}

func lengthPrefixed(p []byte) []byte {
	return append([]byte{byte(len(p) >> 16), byte(len(p) >> 8), byte(len(p))}, p...)
}

// v2Client is a hand-rolled client: the initiator side of Noise XX over a
// raw websocket, with the version 2 header.
type v2Client struct {
	ws         *websocket.Conn
	inbuf      []byte
	wkey, rkey aead
	wctr, rctr uint32
}

type aead interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}

func (c *v2Client) frame(ctx context.Context, t *testing.T) []byte {
	t.Helper()
	for {
		if len(c.inbuf) >= 3 {
			n := int(c.inbuf[0])<<16 | int(c.inbuf[1])<<8 | int(c.inbuf[2])
			if len(c.inbuf) >= 3+n {
				f := c.inbuf[3 : 3+n]
				c.inbuf = c.inbuf[3+n:]
				return f
			}
		}
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		c.inbuf = append(c.inbuf, data...)
	}
}

func (c *v2Client) read(ctx context.Context, t *testing.T) []byte {
	t.Helper()
	plain, err := c.rkey.Open(nil, nonce(c.rctr), c.frame(ctx, t), nil)
	c.rctr++
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

func (c *v2Client) write(ctx context.Context, t *testing.T, plain []byte) {
	t.Helper()
	ct := c.wkey.Seal(nil, nonce(c.wctr), plain, nil)
	c.wctr++
	if err := c.ws.Write(ctx, websocket.MessageBinary, lengthPrefixed(ct)); err != nil {
		t.Fatal(err)
	}
}

func dialV2(ctx context.Context, t *testing.T, srv *Server) *v2Client {
	t.Helper()
	return dialDict(ctx, t, srv, 2)
}

// dialDict is dialV2 for any dictionary version in the header.
func dialDict(ctx context.Context, t *testing.T, srv *Server, version byte) *v2Client {
	t.Helper()
	header := []byte{'W', 'A', socket.WAMagicValue, version}
	ws, _, err := websocket.Dial(ctx, srv.WebsocketURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &v2Client{ws: ws}
	ns, err := newNoiseState(socket.NoiseStartPattern, header)
	if err != nil {
		t.Fatal(err)
	}
	eph := keys.NewKeyPair()
	ns.authenticate(eph.Pub[:])
	hello, _ := proto.Marshal(&waWa6.HandshakeMessage{ClientHello: &waWa6.HandshakeMessage_ClientHello{Ephemeral: eph.Pub[:]}})
	if err = ws.Write(ctx, websocket.MessageBinary, append(header, lengthPrefixed(hello)...)); err != nil {
		t.Fatal(err)
	}
	var sh waWa6.HandshakeMessage
	if err = proto.Unmarshal(c.frame(ctx, t), &sh); err != nil {
		t.Fatal(err)
	}
	serverEph := sh.GetServerHello().GetEphemeral()
	ns.authenticate(serverEph)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ns.mixDH(eph.Priv[:], serverEph))
	static, err := ns.decrypt(sh.GetServerHello().GetStatic())
	must(err)
	must(ns.mixDH(eph.Priv[:], static))
	_, err = ns.decrypt(sh.GetServerHello().GetPayload())
	must(err)

	noise := keys.NewKeyPair()
	encStatic := ns.encrypt(noise.Pub[:])
	must(ns.mixDH(noise.Priv[:], serverEph))
	payload, err := proto.Marshal(registrationPayload())
	must(err)
	finish, _ := proto.Marshal(&waWa6.HandshakeMessage{ClientFinish: &waWa6.HandshakeMessage_ClientFinish{Static: encStatic, Payload: ns.encrypt(payload)}})
	must(ws.Write(ctx, websocket.MessageBinary, lengthPrefixed(finish)))
	w, r, err := ns.split() // the server reads with the first key
	must(err)
	c.wkey, c.rkey = w, r
	return c
}

// registrationPayload is an unpaired client's ClientPayload announcing the
// current version.
func registrationPayload() *waWa6.ClientPayload {
	identity, skey := keys.NewKeyPair(), keys.NewKeyPair()
	sig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*identity.Priv), append([]byte{ecc.DjbType}, skey.Pub[:]...))
	p := proto.Clone(store.BaseClientPayload).(*waWa6.ClientPayload)
	p.UserAgent.AppVersion = CurrentVersion.ProtoAppVersion()
	regID := make([]byte, 4)
	binary.BigEndian.PutUint32(regID, 12345)
	p.DevicePairingData = &waWa6.ClientPayload_DevicePairingRegistrationData{
		ERegid: regID, EKeytype: []byte{ecc.DjbType}, EIdent: identity.Pub[:],
		ESkeyID: []byte{0, 0, 1}, ESkeyVal: skey.Pub[:], ESkeySig: sig[:],
	}
	return p
}

// Nodes the double sends survive version 3 -> 2 -> 3 unchanged, the
// version 2 bytes differ, and every token of either table crosses over.
func TestTranscodeRoundTrip(t *testing.T) {
	nodes := []waBinary.Node{
		{Tag: "iq", Attrs: waBinary.Attrs{"id": "1.2-3", "type": "result", "from": types.ServerJID}},
		{Tag: "message", Attrs: waBinary.Attrs{
			"from": types.NewJID("15551234567", types.DefaultUserServer), "participant": types.NewADJID("15551234567", 0, 3),
			"sender_lid": types.NewJID("100000000000001", types.HiddenUserServer), "addressing_mode": "lid", "t": "1700000000",
		}, Content: []waBinary.Node{
			{Tag: "enc", Attrs: waBinary.Attrs{"v": "2", "type": "pkmsg"}, Content: bytes.Repeat([]byte{0xfe, 0}, 300)},
			{Tag: "tctoken", Content: []byte{1, 2, 3}},
			{Tag: "not-a-token-anywhere", Attrs: waBinary.Attrs{"x-unknown": "DEADBEEF"}},
		}},
		{Tag: "notification", Attrs: waBinary.Attrs{"type": "privacy_token"}, Content: []waBinary.Node{{Tag: "tokens", Content: []waBinary.Node{
			{Tag: "token", Attrs: waBinary.Attrs{"jid": types.NewJID("1", types.HiddenUserServer), "t": "1", "type": "trusted_contact"}, Content: make([]byte, 70000)},
		}}}},
	}
	for _, n := range nodes {
		v3, err := waBinary.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := transcodeNode(dictV3, dictV2, v3[1:])
		if err != nil {
			t.Fatalf("%s to version 2: %v", n.Tag, err)
		}
		if bytes.Equal(v2, v3[1:]) {
			t.Errorf("<%s>: the version 2 bytes are the version 3 bytes", n.Tag)
		}
		back, err := transcodeNode(dictV2, dictV3, v2)
		if err != nil {
			t.Fatalf("%s back to version 3: %v", n.Tag, err)
		}
		got, err := waBinary.Unmarshal(back)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := waBinary.Unmarshal(v3[1:])
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip changed the node:\n got %s\nwant %s", got.XMLString(), want.XMLString())
		}
	}
	// Every string of either table is written as a token of the other or raw,
	// and read back as itself.
	for _, pair := range [][2]*tokenDict{{dictV2, dictV3}, {dictV3, dictV2}} {
		src := pair[0]
		var all []string
		all = append(all, src.single[1:]...)
		for _, d := range src.double {
			all = append(all, d...)
		}
		for _, s := range all {
			v3, err := waBinary.Marshal(waBinary.Node{Tag: "x", Attrs: waBinary.Attrs{"k": s}})
			if err != nil {
				t.Fatal(err)
			}
			there, err := transcodeNode(dictV3, pair[1], v3[1:])
			if err == nil {
				var back []byte
				if back, err = transcodeNode(pair[1], dictV3, there); err == nil {
					var n *waBinary.Node
					if n, err = waBinary.Unmarshal(back); err == nil && n.Attrs["k"] != s {
						t.Errorf("%q came back as %q", s, n.Attrs["k"])
					}
				}
			}
			if err != nil {
				t.Errorf("%q: %v", s, err)
			}
		}
	}
	// Truncated and unknown input is an error, never a panic.
	v3, _ := waBinary.Marshal(nodes[1])
	for i := 0; i < len(v3)-1; i += 7 {
		if _, err := transcodeNode(dictV3, dictV2, v3[1:i+1]); err == nil {
			t.Fatalf("a node truncated to %d bytes transcoded", i)
		}
	}
	if _, err := transcodeNode(dictV2, dictV3, []byte{token.List8, 1, 240}); err == nil {
		t.Fatal("tag 240 is no version 2 token")
	}
}
