package idbstore

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"

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
