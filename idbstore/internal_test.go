package idbstore

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"

	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

func TestLikeMatchesSQLite(t *testing.T) {
	cases := []struct {
		s, pattern string
		want       bool
	}{
		{"1000:1", "1000:%", true},
		{"1000:1", "100:%", false},
		{"10000:1", "1000:%", false},
		{"1000_1:2", "1000_1:%", true},
		{"1000x1:2", "1000_1:%", true}, // _ is a wildcard, as in SQL
		{"ab:1", "AB:%", true},         // ASCII folds
		{"é:1", "É:%", false},          // non-ASCII does not
		{"1000:1", "1000:1", true},
		{"1000:12", "1000:1", false},
		{"", "%", true},
		{"", "_", false},
		{"abc", "a%c", true},
		{"abbbc", "a%b%c", true},
		{"abc", "a%%", true},
		{"é", "_", true}, // one character, two bytes
	}
	for _, c := range cases {
		if got := likeMatch(c.s, c.pattern); got != c.want {
			t.Errorf("%q LIKE %q = %v, want %v", c.s, c.pattern, got, c.want)
		}
	}
}

func TestKeyComponentsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	alphabet := []string{"a", "\x00", "\x01", "\xff", "é", ":", "@", "x", "\x01x"}
	for i := 0; i < 2000; i++ {
		var parts []string
		for n := 1 + r.IntN(3); n > 0; n-- {
			s := ""
			for m := r.IntN(5); m > 0; m-- {
				s += alphabet[r.IntN(len(alphabet))]
			}
			parts = append(parts, s)
		}
		k := key(parts...)
		got, err := splitKey(k)
		if err != nil || len(got) != len(parts) {
			t.Fatalf("split(key(%q)) = %q, %v", parts, got, err)
		}
		for j := range parts {
			if got[j] != parts[j] {
				t.Fatalf("split(key(%q)) = %q", parts, got)
			}
		}
	}
}

// Buffered events older than 14 days go, of every device; newer ones stay.
func TestDeleteOldBufferedHashes(t *testing.T) {
	ctx := context.Background()
	b := memkv.New()
	old := bufferedEventRecord{serverTS: 1, insertTimeMS: time.Now().Add(-15 * 24 * time.Hour).UnixMilli()}
	recent := bufferedEventRecord{plaintext: []byte("x"), serverTS: 1, insertTimeMS: time.Now().Add(-13 * 24 * time.Hour).UnixMilli()}
	err := b.Commit(ctx, []kv.Op{
		{Table: tEventBuffer, Key: key("1:1@s.whatsapp.net", "aa"), Value: old.encode()},
		{Table: tEventBuffer, Key: key("2:1@s.whatsapp.net", "bb"), Value: old.encode()},
		{Table: tEventBuffer, Key: key("1:1@s.whatsapp.net", "cc"), Value: recent.encode()},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := newStore(c, types.NewADJID("1", 0, 1))
	if err := s.DeleteOldBufferedHashes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	left, err := b.Scan(ctx, tEventBuffer, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Key != key("1:1@s.whatsapp.net", "cc") {
		t.Fatalf("left after cleanup: %v", left)
	}
}

func TestTablesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range Tables {
		if seen[name] {
			t.Fatalf("table %q listed twice", name)
		}
		seen[name] = true
	}
	for _, name := range deviceTables {
		if !seen[name] {
			t.Fatalf("device table %q not in Tables", name)
		}
	}
}

func TestCoalesceKeepsLastWriteOfEachKey(t *testing.T) {
	ops := []kv.Op{
		{Table: "a", Key: "1", Value: []byte("x")},
		{Table: "b", Key: "1", Value: []byte("y")},
		{Table: "a", Key: "2", Value: []byte("z")},
		{Table: "a", Key: "1", Delete: true},
		{Table: "a", Key: "2", Value: []byte("w")},
	}
	got := coalesce(ops)
	want := []kv.Op{ops[1], ops[3], ops[4]}
	if len(got) != len(want) {
		t.Fatalf("coalesce: %v", got)
	}
	for i := range want {
		if got[i].Table != want[i].Table || got[i].Key != want[i].Key || string(got[i].Value) != string(want[i].Value) || got[i].Delete != want[i].Delete {
			t.Fatalf("coalesce[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Applying either gives the same tables.
	ctx := context.Background()
	full, short := memkv.New(), memkv.New()
	if err := full.Commit(ctx, ops); err != nil {
		t.Fatal(err)
	}
	if err := short.Commit(ctx, got); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"a", "b"} {
		f, _ := full.Scan(ctx, table, "")
		s, _ := short.Scan(ctx, table, "")
		if len(f) != len(s) {
			t.Fatalf("table %s: %v vs %v", table, f, s)
		}
		for i := range f {
			if f[i].Key != s[i].Key || string(f[i].Value) != string(s[i].Value) {
				t.Fatalf("table %s: %v vs %v", table, f, s)
			}
		}
	}
}

// newPairedDevice is a container on memory holding one stored, paired device;
// it is closed when the test ends.
func newPairedDevice(t *testing.T) (*Container, *store.Device) {
	t.Helper()
	ctx := context.Background()
	c, err := New(ctx, memkv.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d := c.NewDevice()
	jid := types.NewADJID("1", 0, 1)
	d.ID = &jid
	d.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := c.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	return c, d
}

// Stored prekeys come back with the public key X25519 gives for their private key.
func TestStoredPreKeysKeepTheirPublicKey(t *testing.T) {
	ctx := context.Background()
	c, d := newPairedDevice(t)
	jid := *d.ID
	gen, err := d.PreKeys.GetOrGenPreKeys(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, pk := range gen {
		got, err := d.PreKeys.GetPreKey(ctx, pk.KeyID)
		if err != nil || got == nil {
			t.Fatalf("GetPreKey %d: %v, %v", pk.KeyID, got, err)
		}
		want := keys.NewKeyPairFromPrivateKey(*got.Priv)
		if *got.Pub != *want.Pub || *got.Priv != *pk.Priv {
			t.Fatalf("prekey %d: stored public key does not match its private key", pk.KeyID)
		}
	}
	loaded, err := c.GetDevice(ctx, jid)
	if err != nil {
		t.Fatal(err)
	}
	for name, kp := range map[string]*keys.KeyPair{"noise": loaded.NoiseKey, "identity": loaded.IdentityKey, "signed prekey": &loaded.SignedPreKey.KeyPair} {
		if want := keys.NewKeyPairFromPrivateKey(*kp.Priv); *want.Pub != *kp.Pub {
			t.Fatalf("%s key of a loaded device: wrong public key", name)
		}
	}
}

// Generation stops at sqlstore's prekey ID limit (key_id < 16777216): the
// keys below it are stored, the first one past it is the error.
func TestPreKeyIDLimit(t *testing.T) {
	ctx := context.Background()
	_, d := newPairedDevice(t)
	s := d.PreKeys.(*Store)
	if _, err := s.genPreKeys(ctx, maxPreKeyID-2, 1, true, 0); err != nil {
		t.Fatal(err)
	}
	_, err := d.PreKeys.GetOrGenPreKeys(ctx, 5)
	if !errors.Is(err, ErrConstraint) || !strings.Contains(err.Error(), "16777216") {
		t.Fatalf("GetOrGenPreKeys past the limit: %v", err)
	}
	for _, id := range []uint32{maxPreKeyID - 1, maxPreKeyID} {
		if pk, err := d.PreKeys.GetPreKey(ctx, id); err != nil || pk == nil {
			t.Fatalf("prekey %d below the limit: %v, %v", id, pk, err)
		}
	}
	if _, err := d.PreKeys.GenOnePreKey(ctx); !errors.Is(err, ErrConstraint) || !strings.Contains(err.Error(), "16777216") {
		t.Fatalf("GenOnePreKey past the limit: %v", err)
	}
}
