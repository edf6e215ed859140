package core

import (
	"bytes"
	"context"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// memBuffer is the smallest EventBuffer: what the watch wraps.
type memBuffer struct {
	events map[[32]byte]*store.BufferedEvent
}

func (m *memBuffer) GetBufferedEvent(_ context.Context, h [32]byte) (*store.BufferedEvent, error) {
	return m.events[h], nil
}
func (m *memBuffer) PutBufferedEvent(_ context.Context, h [32]byte, p []byte, ts time.Time) error {
	m.events[h] = &store.BufferedEvent{Plaintext: p, ServerTime: ts, InsertTime: time.Now()}
	return nil
}
func (m *memBuffer) DoDecryptionTxn(ctx context.Context, fn func(context.Context) error) error {
	return fn(ctx)
}
func (m *memBuffer) ClearBufferedEventPlaintext(_ context.Context, h [32]byte) error {
	m.events[h].Plaintext = nil
	return nil
}
func (m *memBuffer) DeleteOldBufferedHashes(context.Context) error { return nil }

func padded(t *testing.T, msg *waE2E.Message, n byte) []byte {
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, bytes.Repeat([]byte{n}, int(n))...)
}

func TestRedeliveryWatch(t *testing.T) {
	ctx := context.Background()
	wrapped := watchRedeliveries(&memBuffer{events: map[[32]byte]*store.BufferedEvent{}})
	if watchRedeliveries(wrapped) != wrapped {
		t.Fatal("wrapping twice made a second watch")
	}
	d := &store.Device{EventBuffer: wrapped}
	w := wrapped.(*redeliveryWatch)
	hello := &waE2E.Message{Conversation: proto.String("hello")}
	other := &waE2E.Message{Conversation: proto.String("other")}
	h1, h2 := [32]byte{1}, [32]byte{2}
	_ = d.EventBuffer.PutBufferedEvent(ctx, h1, padded(t, hello, 5), time.Now())
	_ = d.EventBuffer.PutBufferedEvent(ctx, h2, padded(t, other, 1), time.Now())
	_ = d.EventBuffer.ClearBufferedEventPlaintext(ctx, h2) // handled: no plaintext left

	// A first delivery (no lookup hit) is not a redelivery.
	if w.take(hello) {
		t.Fatal("a message the buffer never handed back was marked redelivered")
	}
	// The server delivers both again: one comes from the buffer, the
	// other is already processed (whatsmeow drops it).
	for _, h := range [][32]byte{h1, h2} {
		if _, err := d.EventBuffer.GetBufferedEvent(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if w.take(other) {
		t.Fatal("an already processed message was marked redelivered")
	}
	if !w.take(proto.Clone(hello).(*waE2E.Message)) {
		t.Fatal("the message given again from the buffer is not marked redelivered")
	}
	if w.take(hello) {
		t.Fatal("one redelivery marked two events")
	}
}

func TestDecodeBufferedMessageRejectsGarbage(t *testing.T) {
	for _, p := range [][]byte{nil, {0}, {9, 9}, {0xff, 0xff, 0xff, 1}} {
		if decodeBufferedMessage(p) != nil {
			t.Errorf("%x decoded", p)
		}
	}
}

// After a cut, the copy being handled when the socket dropped and the copy
// the server redelivers reach the page in either order: the one decrypted
// here is a first display, the one from the buffer a redelivery, so exactly
// the second display is marked.
func TestRedeliveryWatchAfterACut(t *testing.T) {
	ctx := context.Background()
	wrapped := watchRedeliveries(&memBuffer{events: map[[32]byte]*store.BufferedEvent{}})
	w := wrapped.(*redeliveryWatch)
	msg := &waE2E.Message{Conversation: proto.String("crossing a cut")}
	h := [32]byte{3}
	// The old handler decrypts (and buffers) it; the new one finds it in the
	// buffer before either event went out.
	if err := wrapped.PutBufferedEvent(ctx, h, padded(t, msg, 3), time.Now()); err != nil {
		t.Fatal(err)
	}
	secondDisplayMarked(t, w, h, msg)
	if w.take(msg) {
		t.Fatal("a third event was marked: two displays, one mark")
	}
}

// secondDisplayMarked has the buffer hand h back (a redelivery found there)
// and checks that of the two events of msg only the second is marked.
func secondDisplayMarked(t *testing.T, w *redeliveryWatch, h [32]byte, msg *waE2E.Message) {
	t.Helper()
	if buf, err := w.GetBufferedEvent(context.Background(), h); err != nil || buf == nil {
		t.Fatalf("buffer look-up: %v, %v", buf, err)
	}
	first, second := w.take(proto.Clone(msg).(*waE2E.Message)), w.take(proto.Clone(msg).(*waE2E.Message))
	if first || !second {
		t.Fatalf("displays marked %v, %v; want only the second", first, second)
	}
}

// A sender may write a message's fields in another order than Go's encoder:
// the fresh plaintext is then found by its content, not its bytes, and the
// first display is still not marked.
func TestRedeliveryWatchMatchesFieldsInAnyOrder(t *testing.T) {
	ctx := context.Background()
	wrapped := watchRedeliveries(&memBuffer{events: map[[32]byte]*store.BufferedEvent{}})
	w := wrapped.(*redeliveryWatch)
	msg := &waE2E.Message{Conversation: proto.String("fields reversed"), MessageContextInfo: &waE2E.MessageContextInfo{MessageSecret: []byte{1, 2, 3}}}
	info, err := proto.Marshal(msg.GetMessageContextInfo())
	if err != nil {
		t.Fatal(err)
	}
	var enc []byte // field 35 before field 1
	enc = protowire.AppendTag(enc, 35, protowire.BytesType)
	enc = protowire.AppendBytes(enc, info)
	enc = protowire.AppendTag(enc, 1, protowire.BytesType)
	enc = protowire.AppendString(enc, msg.GetConversation())
	if canonical, _ := proto.Marshal(msg); bytes.Equal(canonical, enc) {
		t.Fatal("the reversed encoding is Go's own: the test proves nothing")
	}
	h := [32]byte{4}
	if err := wrapped.PutBufferedEvent(ctx, h, append(enc, 2, 2), time.Now()); err != nil {
		t.Fatal(err)
	}
	secondDisplayMarked(t, w, h, msg)
}
