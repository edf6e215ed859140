package snapshot

import (
	"bytes"
	"crypto/hkdf"
	"crypto/pbkdf2"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestSealedRoundTripAndRefusals(t *testing.T) {
	data := []byte("a snapshot's bytes")
	// The fewest iterations Open accepts keeps the test quick; the page's
	// vector below has the real count.
	sealed, err := sealWith(data, "correct horse battery staple", sealMinIterations)
	if err != nil {
		t.Fatal(err)
	}
	if !IsSealed(sealed) || IsSealed(data) || bytes.Contains(sealed, data) {
		t.Fatal("sealed bytes are not marked, or carry the plaintext")
	}
	out, err := Open(sealed, "correct horse battery staple")
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("open: %q %v", out, err)
	}
	if _, err := Open(sealed, "wrong"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	altered := bytes.Clone(sealed)
	altered[len(altered)-3] ^= 1
	if _, err := Open(altered, "correct horse battery staple"); !errors.Is(err, ErrSealedAltered) {
		t.Fatalf("altered body: %v", err)
	}
	nonce := bytes.Clone(sealed)
	nonce[30] ^= 1 // in the nonce: not in the verifier, authenticated as AAD
	if _, err := Open(nonce, "correct horse battery staple"); !errors.Is(err, ErrSealedAltered) {
		t.Fatalf("altered nonce: %v", err)
	}
	greedy := bytes.Clone(sealed)
	copy(greedy[8:], []byte{0xff, 0xff, 0xff, 0xff})
	if _, err := Open(greedy, "x"); !errors.Is(err, ErrSealedAltered) {
		t.Fatalf("iterations out of bounds: %v", err)
	}
	if _, err := Open(sealed[:50], "x"); !errors.Is(err, ErrSealedAltered) {
		t.Fatalf("truncated: %v", err)
	}
	v1 := bytes.Clone(sealed)
	v1[6] = 1
	if _, err := Open(v1, "correct horse battery staple"); !errors.Is(err, ErrSealedAltered) || !strings.Contains(err.Error(), "version 1") {
		t.Fatalf("version 1: %v", err)
	}
}

// A passphrase matches in any Unicode normalisation form: "é" typed as one
// code point (NFC, most keyboards) or as e + combining acute (NFD, some
// systems' input methods and file names).
func TestSealedPassphraseIsNormalised(t *testing.T) {
	sealed, err := sealWith([]byte("x"), "caf\u00e9 cr\u00e8me", sealMinIterations)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := Open(sealed, "cafe\u0301 cre\u0300me"); err != nil || string(out) != "x" {
		t.Fatalf("the NFD form of the passphrase: %q %v", out, err)
	}
}

// The key and the verifier are HKDF outputs of one 32-byte PBKDF2 run:
// the verifier is not a hash of more PBKDF2 output, and neither is the other.
func TestSealKeysSplitOnePBKDF2Run(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, sealSalt)
	key, verifier, err := sealKeys("p", salt, sealMinIterations)
	if err != nil {
		t.Fatal(err)
	}
	prk, _ := pbkdf2.Key(sha256.New, "p", salt, sealMinIterations, 32)
	wantKey, _ := hkdf.Key(sha256.New, prk, nil, sealKeyInfo, 32)
	wantVerifier, _ := hkdf.Key(sha256.New, prk, nil, sealVerifierInfo, 32)
	if !bytes.Equal(key, wantKey) || !bytes.Equal(verifier, wantVerifier) || bytes.Equal(key, verifier) {
		t.Fatal("key and verifier are not HKDF(PBKDF2-32) with their own info strings")
	}
}

// The format is the page's: a snapshot web/wasmeow.js sealed (a paired
// fakewa test account, exportSession({passphrase: 'wasmeow test vector'});
// web/scripts/sealed-test-vector.mjs writes it) opens here and decodes as
// a session.
func TestSealedByThePageOpensNatively(t *testing.T) {
	sealed, err := os.ReadFile("testdata/sealed-by-wasmeow-js.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(sealed, "wasmeow test vector!"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	plain, err := Open(sealed, "wasmeow test vector")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := DecodeSession(plain)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Records() < 10 || binaryIterations(sealed) != SealIterations {
		t.Fatalf("%d records", snap.Records())
	}
}

func binaryIterations(sealed []byte) uint32 {
	return uint32(sealed[8])<<24 | uint32(sealed[9])<<16 | uint32(sealed[10])<<8 | uint32(sealed[11])
}
