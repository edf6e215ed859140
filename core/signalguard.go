package core

import (
	"context"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/store"

	"github.com/wasmeow/wasmeow/sessionrepair"
)

// A device's Signal sessions must change one operation at a time. whatsmeow
// (at the pinned version) takes no lock between encrypting (SendMessage,
// under its messageSendLock only) and decrypting (the node handler): each
// loads a session record, works on it and stores it whole, so one of two
// overlapping operations on the same contact overwrites the other's record.
// That happens at first contact, when a send builds a session from the
// peer's prekey bundle while the peer's first prekey message arrives: the
// stored record loses the session the peer uses, its one-time prekey is
// already gone, and every later message of the peer fails ("prekey store
// didn't return one-time key") or ours cannot be decrypted there. A lost
// socket adds a second source: whatsmeow's handler loop ends with the
// connection while a handler runs on, so after a reconnect two decryptions
// can overlap. Baileys guards the same records with a mutex per contact
// (libsignal's session_cipher queue); here one lock per device suffices:
// the work under it is short, and whatsmeow sends one message at a time.

// signalGuard is a store.EventBuffer that runs each decryption, from its
// buffer look-up to the end of its transaction, under the device's Signal
// lock; sends take the same lock with hold.
type signalGuard struct {
	store.EventBuffer
	mu sync.Mutex // the Signal lock

	hmu    sync.Mutex
	holder context.Context // a decryption holding mu between its buffer miss and its transaction
	gen    uint64          // counts hand-overs, for the watchdog
}

// guardKey marks a context whose caller holds the guard's lock.
type guardKey struct{ g *signalGuard }

// handOverTimeout bounds how long a buffer miss keeps the lock for the
// transaction that follows it. whatsmeow calls DoDecryptionTxn right after a
// miss (message.go bufferedDecrypt, the only caller of both); the watchdog
// only keeps a future change there from wedging every send and decryption.
var handOverTimeout = 10 * time.Second

func (g *signalGuard) heldIn(ctx context.Context) bool {
	held, _ := ctx.Value(guardKey{g}).(bool)
	return held
}

// GetBufferedEvent looks the ciphertext up under the lock. A hit (or an
// error) releases it; a miss keeps it for the decryption transaction that
// follows, so that no other decryption or send slips in between and two
// deliveries of one message cannot both miss and decrypt twice.
func (g *signalGuard) GetBufferedEvent(ctx context.Context, hash [32]byte) (*store.BufferedEvent, error) {
	if g.heldIn(ctx) {
		return g.EventBuffer.GetBufferedEvent(ctx, hash)
	}
	g.mu.Lock()
	buf, err := g.EventBuffer.GetBufferedEvent(ctx, hash)
	if err != nil || buf != nil {
		g.mu.Unlock()
		return buf, err
	}
	g.hmu.Lock()
	g.holder = ctx
	g.gen++
	gen := g.gen
	g.hmu.Unlock()
	time.AfterFunc(handOverTimeout, func() {
		if g.expire(gen) {
			g.mu.Unlock()
		}
	})
	return nil, nil
}

// takeHolder ends the hand-over if ctx is its holder.
func (g *signalGuard) takeHolder(ctx context.Context) bool {
	g.hmu.Lock()
	defer g.hmu.Unlock()
	if g.holder == nil || !sameContext(g.holder, ctx) {
		return false
	}
	g.holder = nil
	return true
}

// expire ends hand-over gen if its transaction never came.
func (g *signalGuard) expire(gen uint64) bool {
	g.hmu.Lock()
	defer g.hmu.Unlock()
	if g.holder == nil || g.gen != gen {
		return false
	}
	g.holder = nil
	return true
}

// DoDecryptionTxn runs the transaction under the lock: the one its buffer
// miss took, or a fresh one.
func (g *signalGuard) DoDecryptionTxn(ctx context.Context, fn func(context.Context) error) error {
	if g.heldIn(ctx) {
		return g.EventBuffer.DoDecryptionTxn(ctx, fn)
	}
	if !g.takeHolder(ctx) {
		g.mu.Lock()
	}
	defer g.mu.Unlock()
	// Marked as a decryption's, so that the session it stores is repaired
	// (sessionrepair: libsignal's failed attempts change other states).
	return g.EventBuffer.DoDecryptionTxn(sessionrepair.Decrypting(context.WithValue(ctx, guardKey{g}, true)), fn)
}

// hold takes the lock for a send: encrypting and building sessions from
// prekey bundles happen under it. release must be called once.
func (g *signalGuard) hold(ctx context.Context) (_ context.Context, release func()) {
	if g == nil || g.heldIn(ctx) {
		return ctx, func() {}
	}
	g.mu.Lock()
	var once sync.Once
	return context.WithValue(ctx, guardKey{g}, true), func() { once.Do(g.mu.Unlock) }
}

// sameContext compares two contexts without panicking on a context type
// that is not comparable.
func sameContext(a, b context.Context) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// guardSignal wraps b in a signalGuard (once) and returns it.
func guardSignal(b store.EventBuffer) *signalGuard {
	if g, ok := b.(*signalGuard); ok {
		return g
	}
	return &signalGuard{EventBuffer: b}
}

// signalGuardOf finds d's guard under the wrappers the client adds.
func signalGuardOf(d *store.Device) *signalGuard {
	eb := d.EventBuffer
	if w, ok := eb.(*redeliveryWatch); ok {
		eb = w.EventBuffer
	}
	g, _ := eb.(*signalGuard)
	return g
}

// wrapDeviceStores is the device hook of a session's container
// (idbstore.Container.SetDeviceHook): every device it hands out gets the
// client's wrappers from the start: its event buffer's (wrapEventBufferFor,
// whose plaintext clears wait in the session's page queue) and the session
// repair around its session store.
func wrapDeviceStores(pages *pageQueue) func(*store.Device) {
	wrap := wrapEventBufferFor(pages)
	return func(d *store.Device) {
		d.EventBuffer = wrap(d.EventBuffer)
		d.Sessions = sessionrepair.Wrap(d.Sessions, d.Log)
	}
}
