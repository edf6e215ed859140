package idbstore

import (
	"testing"

	"golang.org/x/crypto/curve25519"

	"go.mau.fi/whatsmeow/util/keys"
)

// The fast derivation must give exactly what whatsmeow's keys package gives.
func TestNewPreKeyMatchesX25519(t *testing.T) {
	for i := 0; i < 300; i++ {
		pk, err := newPreKey(uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		var want [32]byte
		curve25519.ScalarBaseMult(&want, pk.Priv)
		if *pk.Pub != want {
			t.Fatalf("key %d: public %x, X25519 gives %x", i, pk.Pub, want)
		}
		if ref := keys.NewKeyPairFromPrivateKey(*pk.Priv); *ref.Pub != *pk.Pub || pk.KeyID != uint32(i) {
			t.Fatalf("key %d differs from keys.NewKeyPairFromPrivateKey", i)
		}
	}
}

func BenchmarkPreKeyGeneration(b *testing.B) {
	b.Run("keys.NewPreKey", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = keys.NewPreKey(uint32(i))
		}
	})
	b.Run("idbstore.newPreKey", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := newPreKey(uint32(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
