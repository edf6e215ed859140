package core

import (
	"context"
	"sync"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"google.golang.org/protobuf/proto"
)

// Messages are given to the page at least once. whatsmeow stores the
// plaintext of each decryption with the session update (the decrypted-event
// buffer) and clears it once the message was handled; the ack leaves only
// after that clear is durable. When the page crashed in between, the server
// delivers the message again and whatsmeow hands out the buffered plaintext
// instead of decrypting: the page sees the message a second time. That is
// the one case wasmeow can recognise, and it marks such messages
// `redelivered: true`. whatsmeow's events do not say where a plaintext came
// from, so the buffer is watched from outside: redeliveryWatch wraps the
// device's EventBuffer and notes each plaintext it hands back, and the next
// message event with the same content is the redelivery.

// redeliveryWatch is a store.EventBuffer that remembers buffered plaintexts
// returned for a second delivery.
type redeliveryWatch struct {
	store.EventBuffer
	mu      sync.Mutex
	pending []*waE2E.Message // decoded, oldest first
}

// maxPendingRedeliveries bounds the list: a plaintext that never became an
// event (a protocol message, a failed handler) must not pile up.
const maxPendingRedeliveries = 64

func (w *redeliveryWatch) GetBufferedEvent(ctx context.Context, hash [32]byte) (*store.BufferedEvent, error) {
	buf, err := w.EventBuffer.GetBufferedEvent(ctx, hash)
	if err == nil && buf != nil && buf.Plaintext != nil {
		if msg := decodeBufferedMessage(buf.Plaintext); msg != nil {
			w.mu.Lock()
			w.pending = append(w.pending, msg)
			if len(w.pending) > maxPendingRedeliveries {
				w.pending = w.pending[1:]
			}
			w.mu.Unlock()
		}
	}
	return buf, err
}

// take reports whether msg (an event's RawMessage) is one the buffer handed
// back, and forgets it.
func (w *redeliveryWatch) take(msg *waE2E.Message) bool {
	if msg == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, p := range w.pending {
		if proto.Equal(p, msg) {
			w.pending = append(w.pending[:i], w.pending[i+1:]...)
			return true
		}
	}
	return false
}

// decodeBufferedMessage reads a buffered plaintext of a v2 message: a
// waE2E.Message followed by n bytes of value n (whatsmeow's padding).
func decodeBufferedMessage(plaintext []byte) *waE2E.Message {
	if len(plaintext) == 0 {
		return nil
	}
	n := int(plaintext[len(plaintext)-1])
	if n == 0 || n > len(plaintext) {
		return nil
	}
	var msg waE2E.Message
	if proto.Unmarshal(plaintext[:len(plaintext)-n], &msg) != nil {
		return nil
	}
	return &msg
}

// wrapEventBuffer is the event-buffer wrapper of a session's container
// (idbstore.Container.SetEventBufferWrapper): every device it hands out gets
// the client's two wrappers from the start, the Signal lock inside
// (signalguard.go), the redelivery watch outside.
func wrapEventBuffer(b store.EventBuffer) store.EventBuffer {
	if w, ok := b.(*redeliveryWatch); ok {
		return w // wrapped already
	}
	return watchRedeliveries(guardSignal(b))
}

// watchRedeliveries wraps b in a redelivery watch (once).
func watchRedeliveries(b store.EventBuffer) store.EventBuffer {
	if w, ok := b.(*redeliveryWatch); ok {
		return w
	}
	return &redeliveryWatch{EventBuffer: b}
}
