package idbstore

import (
	"testing"

	"golang.org/x/crypto/curve25519"

	"go.mau.fi/whatsmeow/util/keys"
)

// The fast derivation must give exactly what whatsmeow's keys package gives,
// for every key of a batch and for batches of one.
func TestNewPreKeysMatchX25519(t *testing.T) {
	for _, n := range []int{1, 2, 300} {
		pks, err := newPreKeys(1000, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(pks) != n {
			t.Fatalf("batch of %d: %d keys", n, len(pks))
		}
		for i, pk := range pks {
			var want [32]byte
			curve25519.ScalarBaseMult(&want, pk.Priv)
			if *pk.Pub != want {
				t.Fatalf("batch of %d, key %d: public %x, X25519 gives %x", n, i, pk.Pub, want)
			}
			if ref := keys.NewKeyPairFromPrivateKey(*pk.Priv); *ref.Pub != *pk.Pub || pk.KeyID != uint32(1000+i) {
				t.Fatalf("batch of %d, key %d differs from keys.NewKeyPairFromPrivateKey", n, i)
			}
			if i > 0 && *pk.Priv == *pks[i-1].Priv {
				t.Fatalf("batch of %d: keys %d and %d share a private key", n, i-1, i)
			}
		}
	}
}

func BenchmarkPreKeyGeneration(b *testing.B) {
	b.Run("keys.NewPreKey", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = keys.NewPreKey(uint32(i))
		}
	})
	b.Run("idbstore.newPreKeys-812-per-key", func(b *testing.B) {
		for i := 0; i < b.N; i += 812 {
			if _, err := newPreKeys(uint32(i), 812); err != nil {
				b.Fatal(err)
			}
		}
	})
}
