package idbstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
)

// Writers, transactions, readers and flushes at once: afterwards, a reopened
// container holds exactly each key's last write.
func TestConcurrentUseKeepsLastWrites(t *testing.T) {
	c, p, d := open(t)
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				addr := fmt.Sprintf("%d:%d", w, i%5)
				val := []byte(fmt.Sprintf("%d/%d", w, i))
				var err error
				switch i % 4 {
				case 0:
					err = d.Sessions.PutSession(ctx, addr, val)
				case 1:
					err = d.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
						if _, err := d.Sessions.GetSession(ctx, addr); err != nil {
							return err
						}
						if err := d.Sessions.PutSession(ctx, addr, val); err != nil {
							return err
						}
						return d.EventBuffer.PutBufferedEvent(ctx, [32]byte{byte(w), byte(i)}, val, time.Unix(1, 0))
					})
				case 2:
					err = d.Sessions.PutManySessions(ctx, map[string][]byte{addr: val})
				case 3:
					err = c.Flush(ctx)
					if err == nil {
						err = d.Sessions.PutSession(ctx, addr, val)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, i, err)
					return
				}
				if got, err := d.Sessions.GetSession(ctx, addr); err != nil || string(got) != string(val) {
					errs <- fmt.Errorf("worker %d round %d: read %q, %v after writing %q", w, i, got, err, val)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c = reopen(t, c, p)
	d2, err := c.GetDevice(ctx, types.NewADJID("5551234", 0, 7))
	if err != nil || d2 == nil {
		t.Fatalf("device after reopen: %v, %v", d2, err)
	}
	for w := 0; w < workers; w++ {
		for k := 0; k < 5; k++ {
			last := rounds - 5 + k // the last round i with i%5 == k
			got, err := d2.Sessions.GetSession(ctx, fmt.Sprintf("%d:%d", w, k))
			want := fmt.Sprintf("%d/%d", w, last)
			if err != nil || string(got) != want {
				t.Fatalf("session %d:%d after reopen: %q, %v, want %q", w, k, got, err, want)
			}
		}
	}
	_, _, commits := p.counts()
	t.Logf("%d writers x %d rounds: %d commits", workers, rounds, commits)
}
