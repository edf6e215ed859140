package core

import (
	"bytes"
	"context"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"google.golang.org/protobuf/encoding/protowire"
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
//
// A socket cut adds a second way to see a message twice in one page:
// whatsmeow's handler loop ends with the connection while a handler runs
// on, so the copy that was being handled and the copy the server redelivers
// may be given to the page in either order. The watch therefore also notes
// each plaintext decrypted here (PutBufferedEvent, inside the decryption):
// an event matching one of those is a first display, whatever the buffer
// handed back meanwhile, and only the display after it is marked.

// redeliveryWatch is a store.EventBuffer that remembers buffered plaintexts
// returned for a second delivery.
type redeliveryWatch struct {
	store.EventBuffer
	pages   *pageQueue // nil: clears run at once
	mu      sync.Mutex
	pending []*waE2E.Message // handed back by the buffer, decoded, oldest first
	fresh   [][]byte         // decrypted in this page, not yet an event: the encoded messages
}

// maxPendingRedeliveries bounds the lists: a plaintext that never became an
// event (a protocol message, a failed handler) must not pile up.
const maxPendingRedeliveries = 64

// remember appends msg to list, dropping the oldest past the bound.
func remember[T any](list []T, msg T) []T {
	list = append(list, msg)
	if len(list) > maxPendingRedeliveries {
		list = list[1:]
	}
	return list
}

// PutBufferedEvent is called inside a decryption with the plaintext it
// produced: note it as fresh, encoded (every message passes here, and take
// finds it again by its bytes, without decoding it a second time).
func (w *redeliveryWatch) PutBufferedEvent(ctx context.Context, hash [32]byte, plaintext []byte, serverTS time.Time) error {
	err := w.EventBuffer.PutBufferedEvent(ctx, hash, plaintext, serverTS)
	if err == nil {
		if enc := unpadBuffered(plaintext); enc != nil {
			w.mu.Lock()
			w.fresh = remember(w.fresh, bytes.Clone(enc)) // not an alias of whatsmeow's buffer
			w.mu.Unlock()
		}
	}
	return err
}

// ClearBufferedEventPlaintext waits behind the page events queued before it
// (pagequeue.go): whatsmeow clears as soon as the event handler returns.
func (w *redeliveryWatch) ClearBufferedEventPlaintext(ctx context.Context, hash [32]byte) error {
	if w.pages == nil {
		return w.EventBuffer.ClearBufferedEventPlaintext(ctx, hash)
	}
	ctx = context.WithoutCancel(ctx)
	return w.pages.clearAfter(func() error { return w.EventBuffer.ClearBufferedEventPlaintext(ctx, hash) })
}

func (w *redeliveryWatch) GetBufferedEvent(ctx context.Context, hash [32]byte) (*store.BufferedEvent, error) {
	buf, err := w.EventBuffer.GetBufferedEvent(ctx, hash)
	if err == nil && buf != nil && buf.Plaintext != nil {
		if msg := decodeBufferedMessage(buf.Plaintext); msg != nil {
			w.mu.Lock()
			w.pending = remember(w.pending, msg)
			w.mu.Unlock()
		}
	}
	return buf, err
}

// take reports whether msg (an event's RawMessage) is a redelivery: not a
// plaintext decrypted here and waiting for its first event, but one the
// buffer handed back. It forgets the entry it matched.
func (w *redeliveryWatch) take(msg *waE2E.Message) bool {
	if msg == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var ok bool
	if w.fresh, ok = withoutEncoded(w.fresh, msg); ok {
		return false
	}
	w.pending, ok = without(w.pending, msg)
	return ok
}

// withoutEncoded removes the first encoded message equal to msg from list.
// An event's message re-encodes to the bytes it was decoded from when the
// sender wrote its fields in order, as protobuf encoders do: that is
// compared first; a message whose bytes differ is compared decoded.
func withoutEncoded(list [][]byte, msg *waE2E.Message) ([][]byte, bool) {
	if len(list) == 0 {
		return list, false
	}
	if enc, err := proto.Marshal(msg); err == nil {
		for i, p := range list {
			if bytes.Equal(p, enc) {
				return append(list[:i], list[i+1:]...), true
			}
		}
	}
	for i, p := range list {
		var decoded waE2E.Message
		if proto.Unmarshal(p, &decoded) == nil && proto.Equal(&decoded, msg) {
			return append(list[:i], list[i+1:]...), true
		}
	}
	return list, false
}

// without removes the first message equal to msg from list.
func without(list []*waE2E.Message, msg *waE2E.Message) ([]*waE2E.Message, bool) {
	for i, p := range list {
		if proto.Equal(p, msg) {
			return append(list[:i], list[i+1:]...), true
		}
	}
	return list, false
}

// unpadBuffered is the encoded waE2E.Message of a buffered plaintext of a
// v2 message: the message followed by n bytes of value n (whatsmeow's
// padding); nil when it is not one.
func unpadBuffered(plaintext []byte) []byte {
	if len(plaintext) == 0 {
		return nil
	}
	n := int(plaintext[len(plaintext)-1])
	if n == 0 || n > len(plaintext) {
		return nil
	}
	enc := plaintext[:len(plaintext)-n]
	for b := enc; len(b) > 0; {
		_, _, size := protowire.ConsumeField(b) // the wire format, without decoding
		if size < 0 {
			return nil
		}
		b = b[size:]
	}
	return enc
}

// decodeBufferedMessage reads a buffered plaintext of a v2 message.
func decodeBufferedMessage(plaintext []byte) *waE2E.Message {
	enc := unpadBuffered(plaintext)
	if enc == nil {
		return nil
	}
	var msg waE2E.Message
	if proto.Unmarshal(enc, &msg) != nil {
		return nil
	}
	return &msg
}

// wrapEventBuffer gives a device's event buffer the client's two wrappers,
// the Signal lock inside (signalguard.go), the redelivery watch outside.
func wrapEventBuffer(b store.EventBuffer) store.EventBuffer {
	return wrapEventBufferFor(nil)(b)
}

// wrapEventBufferFor is wrapEventBuffer whose plaintext clears wait in pages.
func wrapEventBufferFor(pages *pageQueue) func(store.EventBuffer) store.EventBuffer {
	return func(b store.EventBuffer) store.EventBuffer {
		if w, ok := b.(*redeliveryWatch); ok {
			return w // wrapped already
		}
		return &redeliveryWatch{EventBuffer: guardSignal(b), pages: pages}
	}
}

// watchRedeliveries wraps b in a redelivery watch (once).
func watchRedeliveries(b store.EventBuffer) store.EventBuffer {
	if w, ok := b.(*redeliveryWatch); ok {
		return w
	}
	return &redeliveryWatch{EventBuffer: b}
}
