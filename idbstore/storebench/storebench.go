// Package storebench holds the store benchmark workloads, written once against
// whatsmeow's store interfaces and run on any device container: natively on
// whatsmeow's sqlstore (SQLite) and in the browser on idbstore (IndexedDB),
// so that cmd/bench can print the two side by side.
//
// Every workload's timing ends only when its data is durable: the target's
// Flush is called inside the timed region (idbstore's group commit; sqlstore
// is synchronous and has nothing to flush).
package storebench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore/tracetest"
)

// Target is a store under benchmark: a container with one saved device.
type Target struct {
	open   tracetest.Opener
	c      tracetest.Container
	jid    types.JID
	Device *store.Device
}

// flusher is what a container with deferred writes offers (idbstore).
type flusher interface {
	Flush(ctx context.Context) error
}

// NewTarget opens a container and saves one device in it.
func NewTarget(ctx context.Context, open tracetest.Opener) (*Target, error) {
	c, err := open(ctx)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	t := &Target{open: open, c: c, jid: types.JID{User: "491700000001", Device: 7, Server: types.DefaultUserServer}}
	d := c.NewDevice()
	d.ID = &t.jid
	d.LID = types.JID{User: "199000000000001", Device: 7, Server: types.HiddenUserServer}
	d.Platform, d.PushName = "bench", "Bench"
	d.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte("details"), AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := c.PutDevice(ctx, d); err != nil {
		c.Close()
		return nil, fmt.Errorf("save device: %w", err)
	}
	t.Device = d
	return t, t.Flush(ctx)
}

// Flush makes every write so far durable.
func (t *Target) Flush(ctx context.Context) error {
	if f, ok := t.c.(flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
	}
	return nil
}

// Reopen closes the container and opens it again (a page reload): caches are
// cold afterwards.
func (t *Target) Reopen(ctx context.Context) error {
	if err := t.c.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	c, err := t.open(ctx)
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	t.c = c
	d, err := c.GetDevice(ctx, t.jid)
	if err != nil || d == nil {
		return fmt.Errorf("reload device %s: %v (found: %t)", t.jid, err, d != nil)
	}
	t.Device = d
	return nil
}

// Close closes the container.
func (t *Target) Close() error { return t.c.Close() }

// Workload is one benchmark: Setup prepares data (untimed), Run is timed and
// must leave its writes durable.
type Workload struct {
	Name  string
	Setup func(ctx context.Context, t *Target, st *State) error
	Run   func(ctx context.Context, t *Target, st *State) error
}

// State carries counters across iterations, so that every iteration writes
// new keys where the store refuses duplicates.
type State struct {
	Iter    int
	Addrs   []string
	PreKeys int
}

const (
	numPreKeys     = 812
	numDecrypts    = 1000
	numManySess    = 256
	numMACs        = 5000
	numContacts    = 5000
	sessionSize    = 1024
	plaintextSize  = 160
	decryptContact = 64
)

// Workloads are the benchmark lines.
var Workloads = []Workload{
	{Name: "prekeys-812", Run: func(ctx context.Context, t *Target, st *State) error {
		ks, err := t.Device.PreKeys.GetOrGenPreKeys(ctx, numPreKeys)
		if err != nil {
			return err
		}
		if len(ks) != numPreKeys {
			return fmt.Errorf("got %d prekeys, want %d", len(ks), numPreKeys)
		}
		if err := t.Device.PreKeys.MarkPreKeysAsUploaded(ctx, ks[len(ks)-1].KeyID); err != nil {
			return err
		}
		st.PreKeys += numPreKeys
		return t.Flush(ctx)
	}},
	// 1,000 decryptions, durable at the end (a burst, e.g. offline sync),
	// which group commit turns into few IndexedDB transactions.
	{Name: "decrypt-1000", Setup: setupSessions(decryptContact), Run: func(ctx context.Context, t *Target, st *State) error {
		return decrypts(ctx, t, st, false)
	}},
	// The same, durable after every one: the receipt of each message waits
	// for its state before the next message is handled (the strict,
	// sequential worst case: one IndexedDB commit per message).
	{Name: "decrypt-1000-each-durable", Setup: setupSessions(decryptContact), Run: func(ctx context.Context, t *Target, st *State) error {
		return decrypts(ctx, t, st, true)
	}},
	{Name: "getmanysessions-256", Setup: setupSessions(numManySess), Run: func(ctx context.Context, t *Target, st *State) error {
		return getMany(ctx, t, st)
	}},
	// A page reload, then the same read: closing and opening the store,
	// loading the device and the read are all timed. Nothing is prefetched
	// (the client starts that once it is ready), so the read goes to the
	// backend for its 256 keys.
	{Name: "reopen-getmanysessions-256", Setup: setupSessions(numManySess), Run: func(ctx context.Context, t *Target, st *State) error {
		if err := t.Reopen(ctx); err != nil {
			return err
		}
		return getMany(ctx, t, st)
	}},
	{Name: "appstate-macs-5000", Run: func(ctx context.Context, t *Target, st *State) error {
		version := uint64(st.Iter + 1)
		var hash [128]byte
		binary.BigEndian.PutUint64(hash[:], version)
		if err := t.Device.AppState.PutAppStateVersion(ctx, "regular_high", version, hash); err != nil {
			return err
		}
		muts := make([]store.AppStateMutationMAC, numMACs)
		for i := range muts {
			muts[i] = store.AppStateMutationMAC{IndexMAC: digest("index", st.Iter, i), ValueMAC: digest("value", st.Iter, i)}
		}
		if err := t.Device.AppState.PutAppStateMutationMACs(ctx, "regular_high", version, muts); err != nil {
			return err
		}
		return t.Flush(ctx)
	}},
	{Name: "contacts-5000", Run: func(ctx context.Context, t *Target, st *State) error {
		cs := make([]store.ContactEntry, numContacts)
		for i := range cs {
			cs[i] = store.ContactEntry{
				JID:       types.JID{User: fmt.Sprintf("4915%08d", i), Server: types.DefaultUserServer},
				FirstName: fmt.Sprintf("First%d", st.Iter), FullName: fmt.Sprintf("First%d Last %d", st.Iter, i),
			}
		}
		if err := t.Device.Contacts.PutAllContactNames(ctx, cs); err != nil {
			return err
		}
		return t.Flush(ctx)
	}},
}

func addrOf(i int) string { return fmt.Sprintf("4915%08d:%d", i/2, i%2) }

func digest(kind string, iter, i int) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d/%d", kind, iter, i))
	return h[:]
}

func sessionBytes(addr string, iter int) []byte {
	out := make([]byte, 0, sessionSize)
	for len(out) < sessionSize {
		out = append(out, digest(addr, iter, len(out))...)
	}
	return out[:sessionSize]
}

func setupSessions(n int) func(ctx context.Context, t *Target, st *State) error {
	return func(ctx context.Context, t *Target, st *State) error {
		st.Addrs = make([]string, n)
		sessions := make(map[string][]byte, n)
		for i := range st.Addrs {
			st.Addrs[i] = addrOf(i)
			sessions[st.Addrs[i]] = sessionBytes(st.Addrs[i], -1)
			if err := t.Device.Identities.PutIdentity(ctx, st.Addrs[i], [32]byte(digest("identity", 0, i))); err != nil {
				return err
			}
		}
		if err := t.Device.Sessions.PutManySessions(ctx, sessions); err != nil {
			return err
		}
		return t.Flush(ctx)
	}
}

func decrypts(ctx context.Context, t *Target, st *State, flushEach bool) error {
	d := t.Device
	for i := 0; i < numDecrypts; i++ {
		k := i % len(st.Addrs)
		addr := st.Addrs[k]
		identity := [32]byte(digest("identity", 0, k))
		hash := [32]byte(digest("ciphertext", st.Iter, i))
		err := d.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
			sess, err := d.Sessions.GetSession(ctx, addr)
			if err != nil {
				return err
			}
			if sess == nil {
				return fmt.Errorf("no session for %s", addr)
			}
			trusted, err := d.Identities.IsTrustedIdentity(ctx, addr, identity)
			if err != nil {
				return err
			}
			if !trusted {
				return fmt.Errorf("identity of %s not trusted", addr)
			}
			if err := d.Identities.PutIdentity(ctx, addr, identity); err != nil {
				return err
			}
			if err := d.Sessions.PutSession(ctx, addr, sessionBytes(addr, st.Iter*numDecrypts+i)); err != nil {
				return err
			}
			if err := d.EventBuffer.PutBufferedEvent(ctx, hash, sessionBytes("plain", i)[:plaintextSize], time.Now()); err != nil {
				return err
			}
			return d.EventBuffer.ClearBufferedEventPlaintext(ctx, hash)
		})
		if err != nil {
			return fmt.Errorf("decryption %d: %w", i, err)
		}
		if flushEach {
			if err := t.Flush(ctx); err != nil {
				return err
			}
		}
	}
	return t.Flush(ctx)
}

func getMany(ctx context.Context, t *Target, st *State) error {
	m, err := t.Device.Sessions.GetManySessions(ctx, st.Addrs)
	if err != nil {
		return err
	}
	for _, a := range st.Addrs {
		if m[a] == nil {
			return fmt.Errorf("session of %s missing", a)
		}
	}
	return nil
}

// Run runs every workload as a sub-benchmark of b on a fresh target from
// newOpener. One op is one whole workload (e.g. all 812 prekeys).
func Run(b *testing.B, newOpener func(b *testing.B) tracetest.Opener) {
	for _, w := range Workloads {
		b.Run(w.Name, func(b *testing.B) {
			ctx := context.Background()
			t, err := NewTarget(ctx, newOpener(b))
			if err != nil {
				b.Fatal(err)
			}
			defer t.Close()
			st := &State{}
			if w.Setup != nil {
				if err := w.Setup(ctx, t, st); err != nil {
					b.Fatalf("%s setup: %v", w.Name, err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st.Iter = i
				if err := w.Run(ctx, t, st); err != nil {
					b.Fatalf("%s: %v", w.Name, err)
				}
			}
		})
	}
}
