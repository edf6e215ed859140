package snapshot

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/text/unicode/norm"
)

// Sealed snapshots: a snapshot encrypted with a passphrase, what
// client.exportSession({passphrase}) returns (web/wasmeow.js seals with
// WebCrypto; this is the same format for native tools). Layout and reasons:
// docs/SNAPSHOT.md, "Sealed snapshots".
const (
	// sealVersion 2: PBKDF2 derives 32 bytes once, HKDF splits them into
	// the key and the verifier, passphrases are NFC. Version 1 (64 bytes of
	// PBKDF2: two chains for the sealer, one for an attacker; passphrases as
	// typed) was never released and is refused.
	sealVersion       = 2
	sealKDFPBKDF2     = 1
	SealIterations    = 600000 // OWASP's 2023 figure for PBKDF2-HMAC-SHA256
	sealMinIterations = 100000
	sealMaxIterations = 10000000
	sealSalt          = 16
	sealNonce         = 12
	sealVerifier      = 32
	sealMagic         = "WMSEAL"
	sealHeader        = len(sealMagic) + 1 + 1 + 4 + sealSalt + sealNonce + sealVerifier
)

var (
	// ErrWrongPassphrase: the passphrase is not the one the snapshot was
	// sealed with (or the header was changed).
	ErrWrongPassphrase = errors.New("wrong passphrase for this sealed snapshot")
	// ErrSealedAltered: the passphrase is right but the sealed bytes were
	// changed, or the file is not a sealed snapshot this build reads.
	ErrSealedAltered = errors.New("the sealed snapshot is damaged or altered")
)

// IsSealed reports whether data is a sealed snapshot.
func IsSealed(data []byte) bool { return bytes.HasPrefix(data, []byte(sealMagic)) }

// HKDF info strings of the key and the verifier (docs/SNAPSHOT.md).
const (
	sealKeyInfo      = "wasmeow sealed snapshot v2 key"
	sealVerifierInfo = "wasmeow sealed snapshot v2 verifier"
)

// sealKeys derives the AES-256 key and the verifier: one PBKDF2-HMAC-SHA256
// run of 32 bytes over the NFC form of the passphrase (the same words typed
// on another system match), split by HKDF-SHA256 (no salt: PBKDF2's is in
// its input) into two independent 32-byte outputs.
func sealKeys(passphrase string, salt []byte, iterations int) (key, verifier []byte, err error) {
	prk, err := pbkdf2.Key(sha256.New, norm.NFC.String(passphrase), salt, iterations, 32)
	if err != nil {
		return nil, nil, err
	}
	if key, err = hkdf.Key(sha256.New, prk, nil, sealKeyInfo, 32); err != nil {
		return nil, nil, err
	}
	if verifier, err = hkdf.Key(sha256.New, prk, nil, sealVerifierInfo, 32); err != nil {
		return nil, nil, err
	}
	return key, verifier, nil
}

// Seal encrypts a snapshot with passphrase.
func Seal(data []byte, passphrase string) ([]byte, error) {
	return sealWith(data, passphrase, SealIterations)
}

func sealWith(data []byte, passphrase string, iterations uint32) ([]byte, error) {
	if passphrase == "" {
		return nil, errors.New("seal: empty passphrase")
	}
	header := make([]byte, 0, sealHeader)
	header = append(header, sealMagic...)
	header = append(header, sealVersion, sealKDFPBKDF2)
	header = binary.BigEndian.AppendUint32(header, iterations)
	salt, nonce := make([]byte, sealSalt), make([]byte, sealNonce)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	header = append(append(header, salt...), nonce...)
	key, verifier, err := sealKeys(passphrase, salt, int(iterations))
	if err != nil {
		return nil, err
	}
	header = append(header, verifier...)
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return gcm.Seal(header, nonce, data, header), nil
}

// Open decrypts a sealed snapshot: ErrWrongPassphrase or ErrSealedAltered
// (wrapped) when it cannot.
func Open(data []byte, passphrase string) ([]byte, error) {
	if !IsSealed(data) {
		return nil, fmt.Errorf("%w: not a sealed snapshot", ErrSealedAltered)
	}
	if len(data) < sealHeader+16 {
		return nil, fmt.Errorf("%w: truncated", ErrSealedAltered)
	}
	o := len(sealMagic)
	if v := data[o]; v == 1 {
		return nil, fmt.Errorf("%w: sealed snapshot version 1, a development format this build no longer reads (it reads %d): export the session again", ErrSealedAltered, sealVersion)
	} else if v != sealVersion {
		return nil, fmt.Errorf("%w: sealed snapshot version %d, this build reads %d", ErrSealedAltered, v, sealVersion)
	}
	if k := data[o+1]; k != sealKDFPBKDF2 {
		return nil, fmt.Errorf("%w: unknown key derivation %d", ErrSealedAltered, k)
	}
	iterations := binary.BigEndian.Uint32(data[o+2:])
	if iterations < sealMinIterations || iterations > sealMaxIterations {
		return nil, fmt.Errorf("%w: %d PBKDF2 iterations (accepted: %d to %d)", ErrSealedAltered, iterations, sealMinIterations, sealMaxIterations)
	}
	o += 6
	salt, nonce, stored := data[o:o+sealSalt], data[o+sealSalt:o+sealSalt+sealNonce], data[o+sealSalt+sealNonce:sealHeader]
	key, verifier, err := sealKeys(passphrase, salt, int(iterations))
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(verifier, stored) != 1 {
		return nil, ErrWrongPassphrase
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out, err := gcm.Open(nil, nonce, data[sealHeader:], data[:sealHeader])
	if err != nil {
		return nil, fmt.Errorf("%w: its authentication tag does not match", ErrSealedAltered)
	}
	return out, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
