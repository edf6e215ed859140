package sessionrepair

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"go.mau.fi/libsignal/protocol"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"google.golang.org/protobuf/proto"
)

// BenchmarkReceiveCPU is the CPU floor of receiving one 1:1 text, the same
// work natively and in a browser's wasm (GOOS=js GOARCH=wasm go test -bench
// ReceiveCPU -exec wasmbrowsertest ./sessionrepair/), so that their ratio
// bounds what wasmeow's receive figures can reach against native whatsmeow.
// Per message, as whatsmeow does it (message.go, socket/noisesocket.go):
// the Noise frame opened (AES-GCM), the binary node decoded, the Signal
// message parsed and decrypted with the session record loaded from and
// stored to the store (JSON, behind this package's Store: the repair
// check), the padding removed, the waE2E.Message decoded, and the ack
// node encoded and sealed. The stores are maps in memory: no IndexedDB,
// no sqlite, no socket, no events.
func BenchmarkReceiveCPU(b *testing.B) {
	ann, bob := conversation(b)
	// The session's prekey message, and an answer: Ann's messages are plain
	// Signal messages from then on, as a contact's backlog is.
	if err := bob.receive(ann.send(b, "hello")); err != nil {
		b.Fatal(err)
	}
	if err := ann.receive(bob.send(b, "hi")); err != nil {
		b.Fatal(err)
	}
	gcm := newGCM(b)
	frames := make([][]byte, b.N)
	for i := range frames {
		msg, _ := proto.Marshal(&waE2E.Message{Conversation: proto.String(fmt.Sprintf("backlog text number %d, about as long as a chat line", i))})
		ct, err := ann.cipher().Encrypt(context.Background(), append(msg, 3, 3, 3)) // whatsmeow's padding
		if err != nil {
			b.Fatal(err)
		}
		node, err := waBinary.Marshal(waBinary.Node{Tag: "message", Attrs: waBinary.Attrs{
			"from": "15550000001@s.whatsapp.net", "id": fmt.Sprintf("3EB0%016X", i), "type": "text",
			"t": time.Now().Unix(), "notify": "Ann",
		}, Content: []waBinary.Node{{Tag: "enc", Attrs: waBinary.Attrs{"v": "2", "type": "msg"}, Content: ct.Serialize()}}})
		if err != nil {
			b.Fatal(err)
		}
		frames[i] = gcm.Seal(nil, nonce(uint32(i)), node, nil)
	}
	b.ResetTimer()
	for i, frame := range frames {
		if err := receiveFrame(bob, gcm, uint32(i), frame); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}

// receiveFrame does one message's CPU work of BenchmarkReceiveCPU.
func receiveFrame(p *party, gcm cipher.AEAD, seq uint32, frame []byte) error {
	plain, err := gcm.Open(nil, nonce(seq), frame, nil)
	if err != nil {
		return err
	}
	unpacked, err := waBinary.Unpack(plain)
	if err != nil {
		return err
	}
	node, err := waBinary.Unmarshal(unpacked)
	if err != nil {
		return err
	}
	enc := node.GetChildByTag("enc")
	body, _ := enc.Content.([]byte)
	sm, err := protocol.NewSignalMessageFromBytes(body, store.SignalProtobufSerializer.SignalMessage)
	if err != nil {
		return err
	}
	padded, err := p.cipher().Decrypt(Decrypting(context.Background()), sm)
	if err != nil {
		return err
	}
	var msg waE2E.Message
	if err := proto.Unmarshal(padded[:len(padded)-int(padded[len(padded)-1])], &msg); err != nil {
		return err
	}
	if msg.GetConversation() == "" {
		return fmt.Errorf("message %d: no text", seq)
	}
	ack, err := waBinary.Marshal(waBinary.Node{Tag: "ack", Attrs: waBinary.Attrs{
		"id": node.AttrGetter().String("id"), "to": node.AttrGetter().String("from"), "class": "message",
	}})
	if err != nil {
		return err
	}
	gcm.Seal(nil, nonce(seq), ack, nil)
	return nil
}

func newGCM(b *testing.B) cipher.AEAD {
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return gcm
}

// nonce is the Noise counter nonce (socket/noisesocket.go generateIV).
func nonce(n uint32) []byte {
	iv := make([]byte, 12)
	binary.BigEndian.PutUint32(iv[8:], n)
	return iv
}
