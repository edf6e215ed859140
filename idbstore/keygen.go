package idbstore

import (
	"crypto/rand"
	"fmt"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"

	"go.mau.fi/whatsmeow/util/keys"
)

// newPreKeys makes n key pairs with IDs from firstID on, the same as n calls
// of whatsmeow's keys.NewPreKey (random clamped Curve25519 private keys and
// their X25519 public keys), but faster, which matters in wasm, where the
// X25519 ladder makes 812 prekeys take over a second:
//   - the public key is priv times the Edwards base point (edwards25519's
//     precomputed tables) mapped to Montgomery form, u = (Z+Y)/(Z-Y);
//   - the n divisions share one field inversion (Montgomery's batch
//     inversion trick: products forward, one inversion, then backward), where
//     Point.BytesMontgomery spends two inversions per key, about half the time;
//   - the randomness is one read, not one per key.
func newPreKeys(firstID uint32, n int) ([]*keys.PreKey, error) {
	if n <= 0 {
		return nil, nil
	}
	privs := make([]byte, 32*n)
	if _, err := rand.Read(privs); err != nil {
		return nil, fmt.Errorf("idbstore: prekey randomness: %w", err)
	}
	num := make([]field.Element, n)
	den := make([]field.Element, n)
	zero := make([]bool, n) // Z-Y = 0: the identity point, whose u is 0
	var p edwards25519.Point
	out := make([]*keys.PreKey, n)
	for i := range out {
		priv := [32]byte(privs[32*i:])
		priv[0] &= 248
		priv[31] &= 127
		priv[31] |= 64
		s, err := edwards25519.NewScalar().SetBytesWithClamping(priv[:])
		if err != nil {
			return nil, fmt.Errorf("idbstore: prekey scalar: %w", err)
		}
		_, y, z, _ := p.ScalarBaseMult(s).ExtendedCoordinates()
		num[i].Add(z, y)
		den[i].Subtract(z, y)
		if den[i].Equal(new(field.Element).Zero()) == 1 {
			zero[i] = true
			den[i].One()
		}
		out[i] = &keys.PreKey{KeyPair: keys.KeyPair{Priv: &priv}, KeyID: firstID + uint32(i)}
	}
	// acc[i] = den[0]*...*den[i]
	acc := make([]field.Element, n)
	acc[0].Set(&den[0])
	for i := 1; i < n; i++ {
		acc[i].Multiply(&acc[i-1], &den[i])
	}
	var inv, invDen, u field.Element
	inv.Invert(&acc[n-1]) // 1/(den[0]*...*den[n-1])
	for i := n - 1; i >= 0; i-- {
		if i > 0 {
			invDen.Multiply(&inv, &acc[i-1]) // 1/den[i]
			inv.Multiply(&inv, &den[i])      // 1/(den[0]*...*den[i-1])
		} else {
			invDen.Set(&inv)
		}
		var pub [32]byte
		if !zero[i] {
			copy(pub[:], u.Multiply(&num[i], &invDen).Bytes())
		}
		out[i].Pub = &pub
	}
	return out, nil
}
