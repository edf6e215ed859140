//go:build !js

package fakewa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/hkdf"
)

// noiseState is the server half of Noise_XX_25519_AESGCM_SHA256 as WhatsApp
// runs it. whatsmeow's socket.NoiseHandshake keeps its chaining key private,
// so the transport keys cannot be taken from it: the server keeps its own.
type noiseState struct {
	hash    []byte
	salt    []byte // chaining key
	key     cipher.AEAD
	counter uint32
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonce(counter uint32) []byte {
	iv := make([]byte, 12)
	binary.BigEndian.PutUint32(iv[8:], counter)
	return iv
}

func newNoiseState(pattern string, header []byte) (*noiseState, error) {
	h := []byte(pattern)
	if len(h) != 32 {
		sum := sha256.Sum256(h)
		h = sum[:]
	}
	key, err := newAESGCM(h)
	if err != nil {
		return nil, err
	}
	ns := &noiseState{hash: h, salt: h, key: key}
	ns.authenticate(header)
	return ns, nil
}

func (ns *noiseState) authenticate(data []byte) {
	sum := sha256.Sum256(append(append([]byte{}, ns.hash...), data...))
	ns.hash = sum[:]
}

func (ns *noiseState) encrypt(plaintext []byte) []byte {
	ct := ns.key.Seal(nil, nonce(ns.counter), plaintext, ns.hash)
	ns.counter++
	ns.authenticate(ct)
	return ct
}

func (ns *noiseState) decrypt(ciphertext []byte) ([]byte, error) {
	pt, err := ns.key.Open(nil, nonce(ns.counter), ciphertext, ns.hash)
	ns.counter++
	if err != nil {
		return nil, err
	}
	ns.authenticate(ciphertext)
	return pt, nil
}

func expand(salt, input []byte) (a, b []byte, err error) {
	r := hkdf.New(sha256.New, input, salt, nil)
	a, b = make([]byte, 32), make([]byte, 32)
	if _, err = io.ReadFull(r, a); err == nil {
		_, err = io.ReadFull(r, b)
	}
	return a, b, err
}

func (ns *noiseState) mixDH(priv, pub []byte) error {
	secret, err := curve25519.X25519(priv, pub)
	if err != nil {
		return fmt.Errorf("x25519: %w", err)
	}
	ck, k, err := expand(ns.salt, secret)
	if err != nil {
		return err
	}
	ns.salt = ck
	ns.counter = 0
	ns.key, err = newAESGCM(k)
	return err
}

// split returns the transport ciphers: the server reads with the client's
// write key (the first) and writes with the second.
func (ns *noiseState) split() (read, write cipher.AEAD, err error) {
	k1, k2, err := expand(ns.salt, nil)
	if err != nil {
		return nil, nil, err
	}
	if read, err = newAESGCM(k1); err != nil {
		return nil, nil, err
	}
	write, err = newAESGCM(k2)
	return read, write, err
}
