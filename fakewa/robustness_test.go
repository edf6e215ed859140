//go:build !js

package fakewa_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/proto/waWa6"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"

	"github.com/wasmeow/wasmeow/fakewa"
)

func frame(payload []byte) []byte {
	return append([]byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload))}, payload...)
}

// Malformed handshakes are refused one by one while a paired client keeps
// talking.
func TestMalformedHandshakeRejected(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15553330001", "Alice")
	bob := mustAccount(t, srv, "15553330002", "Bob")
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)

	badHello, _ := proto.Marshal(&waWa6.HandshakeMessage{ClientHello: &waWa6.HandshakeMessage_ClientHello{Ephemeral: []byte{1, 2, 3}}})
	goodHello, _ := proto.Marshal(&waWa6.HandshakeMessage{ClientHello: &waWa6.HandshakeMessage_ClientHello{Ephemeral: keys.NewKeyPair().Pub[:]}})
	badFinish, _ := proto.Marshal(&waWa6.HandshakeMessage{ClientFinish: &waWa6.HandshakeMessage_ClientFinish{Static: make([]byte, 48), Payload: make([]byte, 40)}})
	header := socket.WAConnHeader
	cases := map[string][][]byte{
		"wrong header":        {[]byte("GET / HTTP/1.1")},
		"garbage hello":       {append(append([]byte{}, header...), frame([]byte("not a protobuf \xff\xff\xff"))...)},
		"short ephemeral key": {append(append([]byte{}, header...), frame(badHello)...)},
		// The finish is not encrypted with the handshake keys.
		"forged finish": {append(append([]byte{}, header...), frame(goodHello)...), frame(badFinish)},
	}
	for name, msgs := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, srv.WebsocketURL(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			for _, m := range msgs {
				if err = ws.Write(ctx, websocket.MessageBinary, m); err != nil {
					t.Fatal(err)
				}
			}
			// Read past the server hello, if any, to the close.
			for err == nil {
				_, _, err = ws.Read(ctx)
			}
			if got := websocket.CloseStatus(err); got != websocket.StatusProtocolError {
				t.Fatalf("server answered %v (close status %v), want a protocol-error close", err, got)
			}
		})
	}
	// A socket that says nothing and one that hangs up mid-handshake.
	ctx := context.Background()
	silent, _, err := websocket.Dial(ctx, srv.WebsocketURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.CloseNow()
	half, _, err := websocket.Dial(ctx, srv.WebsocketURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = half.Write(ctx, websocket.MessageBinary, header[:2])
	_ = half.CloseNow()

	sendText(t, a1, bobJID, "still here")
	waitPhoneText(t, srv, bob.Phone, "still here")
	if _, err = srv.SendText(bob.Phone, alice.Phone, "me too"); err != nil {
		t.Fatal(err)
	}
	waitText(a1, "me too")
}

// Twenty whatsmeow clients pair and message at the same time.
func TestTwentyClientsAtOnce(t *testing.T) {
	const n = 20
	srv := newServer(t, fakewa.Config{})
	phones := make([]string, n)
	clients := make([]*testClient, n)
	for i := range clients {
		phones[i] = fmt.Sprintf("1555444%04d", i)
		mustAccount(t, srv, phones[i], fmt.Sprintf("User %d", i))
		clients[i] = newTestClient(t, srv, fmt.Sprintf("web-%d", i), nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, tc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := tc.cli.Connect(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	// Pair every client (the scans themselves run concurrently).
	for i, tc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qr, err := waitQR(tc, 20*time.Second)
			if err != nil {
				errs <- err
				return
			}
			if _, err = srv.ScanQR(context.Background(), phones[i], qr); err != nil {
				errs <- fmt.Errorf("scan for %s: %w", tc.name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, tc := range clients {
		waitConnected(tc, 60*time.Second)
	}
	// Each client writes to the next account; every message arrives at the
	// next account's phone and at its companion.
	for i, tc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := types.NewJID(phones[(i+1)%n], types.DefaultUserServer)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := tc.cli.SendMessage(ctx, to, textMessage(fmt.Sprintf("ring %d", i))); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		}()
	}
	wg.Wait()
	for i := range clients {
		waitPhoneText(t, srv, phones[(i+1)%n], fmt.Sprintf("ring %d", i))
		waitText(clients[(i+1)%n], fmt.Sprintf("ring %d", i))
	}
}
