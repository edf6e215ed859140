package snapshot

import (
	"bytes"
	"errors"
	"os"
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
}

// The format is the page's: a snapshot web/wasmeow.js sealed (a paired
// fakewa test account, exportSession({passphrase: 'wasmeow test vector'}))
// opens here and decodes as a session.
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
