package sessionrepair

import (
	"context"
	"testing"

	"go.mau.fi/whatsmeow/store"
)

// checkingStore records, for every record a decryption stores, whether
// HasPreviousStates let it skip the repair, and fails the test when a
// skipped record had previous states or Repair would have changed it.
type checkingStore struct {
	*Store
	t             *testing.T
	skipped, full int
}

func (c *checkingStore) PutSession(ctx context.Context, address string, rec []byte) error {
	if InDecryption(ctx) {
		decoded, err := store.SignalProtobufSerializer.Session.Deserialize(rec)
		if err != nil {
			c.t.Fatalf("the record of %s: %v", address, err)
		}
		if !HasPreviousStates(rec) {
			c.skipped++
			if len(decoded.PreviousStates) != 0 {
				c.t.Errorf("a record with %d previous states was taken for one without", len(decoded.PreviousStates))
			}
			if before, _ := c.GetSession(ctx, address); before != nil {
				if _, changed, err := Repair(before, rec); err != nil || changed {
					c.t.Errorf("a skipped record needed repair: changed=%v err=%v", changed, err)
				}
			}
		} else {
			c.full++
		}
	}
	return c.Store.PutSession(ctx, address, rec)
}

func TestRepairSkipsRecordsWithoutPreviousStates(t *testing.T) {
	check := func(p *party) *checkingStore {
		c := &checkingStore{Store: p.dev.Sessions.(*Store), t: t}
		p.dev.Sessions = c
		return c
	}
	// The crossing: records with two states (the full repair) and, for the
	// first messages, with one.
	kim, leo := newParty(t, "kim", true), newParty(t, "leo", true)
	kc, lc := check(kim), check(leo)
	if err := crossParties(t, kim, leo); err != nil {
		t.Fatal(err)
	}
	// A plain conversation: Leo starts, Kim answers; every record has one state.
	ann, bob := conversation(t)
	ac, bc := check(ann), check(bob)
	for i := 0; i < 5; i++ {
		if err := bob.receive(ann.send(t, "a")); err != nil {
			t.Fatal(err)
		}
		if err := ann.receive(bob.send(t, "b")); err != nil {
			t.Fatal(err)
		}
	}
	if ac.full+bc.full != 0 || ac.skipped+bc.skipped != 10 {
		t.Errorf("one-state records: %d skipped, %d repaired in full; want 10 and 0", ac.skipped+bc.skipped, ac.full+bc.full)
	}
	if kc.full+lc.full == 0 {
		t.Error("the crossing never took the full repair: it no longer has records with previous states")
	}
	t.Logf("crossing: %d skipped, %d in full", kc.skipped+lc.skipped, kc.full+lc.full)
}

func TestHasPreviousStatesReadsOnlyAnEmptyLastMember(t *testing.T) {
	for rec, want := range map[string]bool{
		`{"SessionState":{"SessionVersion":3},"PreviousStates":[]}`:   false,
		`{"SessionState":{"SessionVersion":3},"PreviousStates":null}`: false,
		`{"PreviousStates":[]}`: false,
		`{"SessionState":{},"PreviousStates":[{"SessionVersion":3}]}`:      true,
		`{"PreviousStates":[{"SessionVersion":3}],"SessionState":{}}`:      true, // another writer's order
		`{"PreviousStates":[{"SessionVersion":3}],"x\"PreviousStates":[]}`: true, // not the member it looks like
		`{"SessionState":{},"PreviousStates": []}`:                         true, // spacing of another writer: full path
		`{"SessionState":{},"PreviousStates":[]} `:                         true,
		`"PreviousStates":[]}`:                                             true,
		``:                                                                 true,
		`garbage`:                                                          true,
		`{"SessionState":{"PreviousStates":[{}]},"PreviousStates":[]}`:     true,
	} {
		if got := HasPreviousStates([]byte(rec)); got != want {
			t.Errorf("HasPreviousStates(%s) = %v, want %v", rec, got, want)
		}
	}
}

// BenchmarkRepairCheck is what storing one decryption's record with one
// state cost before HasPreviousStates (the stored record read, both decoded
// and compared: Repair) and what it costs now.
func BenchmarkRepairCheck(b *testing.B) {
	ann, bob := conversation(b)
	for _, text := range []string{"one", "two"} {
		if err := bob.receive(ann.send(b, text)); err != nil {
			b.Fatal(err)
		}
	}
	before, _ := bob.mem.GetSession(context.Background(), bob.peer.String())
	if err := bob.receive(ann.send(b, "three")); err != nil {
		b.Fatal(err)
	}
	after, _ := bob.mem.GetSession(context.Background(), bob.peer.String())
	b.Run("Repair", func(b *testing.B) {
		for range b.N {
			if _, changed, err := Repair(before, after); err != nil || changed {
				b.Fatal(changed, err)
			}
		}
	})
	b.Run("HasPreviousStates", func(b *testing.B) {
		for range b.N {
			if HasPreviousStates(after) {
				b.Fatal("previous states in a one-state record")
			}
		}
	})
	b.Logf("record: %d bytes", len(after))
}
