package core

import (
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/store"
)

// lockedBuffer is memBuffer made safe for concurrent callers (the guard must
// serialise the record updates, not the map accesses).
type lockedBuffer struct {
	mu sync.Mutex
	memBuffer
}

func (l *lockedBuffer) GetBufferedEvent(ctx context.Context, h [32]byte) (*store.BufferedEvent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.memBuffer.GetBufferedEvent(ctx, h)
}
func (l *lockedBuffer) PutBufferedEvent(ctx context.Context, h [32]byte, p []byte, ts time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.events[h] != nil {
		return fmt.Errorf("buffered event %x already stored", h[:4])
	}
	return l.memBuffer.PutBufferedEvent(ctx, h, p, ts)
}

// record stands for a session record: loaded whole, changed, stored whole,
// with a yield in between as libsignal's load-work-store has.
type record struct {
	mu sync.Mutex
	n  int
}

func (r *record) update() {
	r.mu.Lock()
	v := r.n
	r.mu.Unlock()
	runtime.Gosched()
	time.Sleep(50 * time.Microsecond)
	r.mu.Lock()
	r.n = v + 1
	r.mu.Unlock()
}

// decrypt follows whatsmeow's bufferedDecrypt (message.go): a buffer look-up,
// on a miss the decryption and its buffered plaintext in one transaction.
// It reports whether it decrypted (false: the buffer had the plaintext).
func decrypt(ctx context.Context, eb store.EventBuffer, ciphertext []byte, rec *record) (bool, error) {
	h := sha256.Sum256(ciphertext)
	buf, err := eb.GetBufferedEvent(ctx, h)
	if err != nil || buf != nil {
		return false, err
	}
	return true, eb.DoDecryptionTxn(ctx, func(ctx context.Context) error {
		rec.update()
		return eb.PutBufferedEvent(ctx, h, ciphertext, time.Now())
	})
}

func newGuarded() (*store.Device, *signalGuard) {
	d := &store.Device{EventBuffer: wrapEventBuffer(&lockedBuffer{memBuffer: memBuffer{events: map[[32]byte]*store.BufferedEvent{}}})}
	return d, signalGuardOf(d)
}

// Decryptions and sends of one device never overlap: every update of the
// record survives (with hold and DoDecryptionTxn passing straight through,
// about half of them are lost).
func TestSignalGuardSerialisesDecryptAndSend(t *testing.T) {
	d, g := newGuarded()
	if g == nil || guardSignal(g) != g || wrapEventBuffer(d.EventBuffer) != d.EventBuffer {
		t.Fatal("the guard is not found, or wrapping twice made a second one")
	}
	if _, ok := d.EventBuffer.(*redeliveryWatch); !ok {
		t.Fatal("the redelivery watch is not the outer wrapper")
	}
	var rec record
	const workers, rounds = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				if w%2 == 0 {
					if _, err := decrypt(context.Background(), d.EventBuffer, []byte(fmt.Sprintf("%d/%d", w, i)), &rec); err != nil {
						errs <- err
					}
					continue
				}
				ctx, release := g.hold(context.Background())
				rec.update()
				// A send never decrypts, but a nested call must not deadlock.
				if _, err := g.GetBufferedEvent(ctx, [32]byte{9}); err != nil {
					errs <- err
				}
				release()
				release() // a second release is a no-op
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if rec.n != workers*rounds {
		t.Fatalf("record updated %d times, want %d: updates were lost", rec.n, workers*rounds)
	}
}

// The same ciphertext delivered twice at once (a redelivery after a cut
// while the first copy is still being handled) is decrypted once; the other
// copy gets the buffered plaintext.
func TestSignalGuardDecryptsADuplicateOnce(t *testing.T) {
	for round := 0; round < 20; round++ {
		d, _ := newGuarded()
		var rec record
		var decrypted atomic.Int32
		var wg sync.WaitGroup
		for k := 0; k < 2; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				did, err := decrypt(context.Background(), d.EventBuffer, []byte("same"), &rec)
				if err != nil {
					t.Error(err)
				}
				if did {
					decrypted.Add(1)
				}
			}()
		}
		wg.Wait()
		if decrypted.Load() != 1 || rec.n != 1 {
			t.Fatalf("round %d: decrypted %d times (record %d), want once", round, decrypted.Load(), rec.n)
		}
	}
}

// A buffer miss that is not followed by its transaction gives the lock back
// after handOverTimeout; a hit gives it back at once.
func TestSignalGuardHandOver(t *testing.T) {
	old := handOverTimeout
	handOverTimeout = 50 * time.Millisecond
	defer func() { handOverTimeout = old }()
	d, g := newGuarded()
	ctx := context.Background()
	if _, err := decrypt(ctx, d.EventBuffer, []byte("x"), &record{}); err != nil {
		t.Fatal(err)
	}
	// A hit: the lock is free right after.
	if buf, _ := d.EventBuffer.GetBufferedEvent(ctx, sha256.Sum256([]byte("x"))); buf == nil {
		t.Fatal("no buffered plaintext")
	}
	if !g.mu.TryLock() {
		t.Fatal("a buffer hit kept the lock")
	}
	g.mu.Unlock()
	// A miss with no transaction after it.
	if buf, _ := d.EventBuffer.GetBufferedEvent(ctx, [32]byte{7}); buf != nil {
		t.Fatal("unexpected hit")
	}
	if g.mu.TryLock() {
		t.Fatal("a miss did not keep the lock for its transaction")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !g.mu.TryLock() {
		if time.Now().After(deadline) {
			t.Fatal("the lock of an abandoned hand-over was never given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	g.mu.Unlock()
	// The late transaction still runs, under a lock of its own.
	if err := d.EventBuffer.DoDecryptionTxn(ctx, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !g.mu.TryLock() {
		t.Fatal("the late transaction kept the lock")
	}
	g.mu.Unlock()
}
