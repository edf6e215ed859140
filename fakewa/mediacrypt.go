//go:build !js

package fakewa

import (
	"bytes"
	"crypto/aes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/util/cbcutil"
	"go.mau.fi/whatsmeow/util/hkdfutil"
)

// WhatsApp's media encryption, as every client does it (whatsmeow upload.go
// and download.go, Baileys Utils/messages-media.ts): the 32-byte media key is
// expanded with HKDF-SHA256 and the per-type info string (whatsmeow.MediaType,
// e.g. "WhatsApp Image Keys") to 112 bytes: IV (16), AES-256-CBC key (32),
// HMAC key (32), ref key (32). The blob is the PKCS#7-padded ciphertext
// followed by the first 10 bytes of HMAC-SHA256(IV || ciphertext).
// file_sha256 is over the plaintext, file_enc_sha256 over the whole blob.

const mediaMACLength = 10

// encryptedMedia is one encrypted file and what a message says about it.
type encryptedMedia struct {
	mediaKey      []byte
	blob          []byte
	fileSHA256    []byte
	fileEncSHA256 []byte
	fileLength    uint64
}

var (
	errMediaTooShort = errors.New("media blob is too short to hold a MAC")
	errMediaEncHash  = errors.New("media blob does not match file_enc_sha256")
	errMediaMAC      = errors.New("media blob MAC does not verify")
	errMediaHash     = errors.New("decrypted media does not match file_sha256")
	errMediaLength   = errors.New("decrypted media length differs from file_length")
	errMediaBlocks   = errors.New("media ciphertext is not a whole number of AES blocks")
)

func mediaKeys(mediaKey []byte, kind whatsmeow.MediaType) (iv, cipherKey, macKey []byte) {
	expanded := hkdfutil.SHA256(mediaKey, nil, []byte(kind), 112)
	return expanded[:16], expanded[16:48], expanded[48:80]
}

// encryptMedia encrypts plaintext under a new random media key.
func encryptMedia(plaintext []byte, kind whatsmeow.MediaType) (*encryptedMedia, error) {
	mediaKey := make([]byte, 32)
	if _, err := rand.Read(mediaKey); err != nil {
		return nil, err
	}
	iv, cipherKey, macKey := mediaKeys(mediaKey, kind)
	ciphertext, err := cbcutil.Encrypt(cipherKey, iv, plaintext)
	if err != nil {
		return nil, fmt.Errorf("encrypting media: %w", err)
	}
	mac := hmac.New(sha256.New, macKey)
	mac.Write(iv)
	mac.Write(ciphertext)
	blob := append(ciphertext, mac.Sum(nil)[:mediaMACLength]...)
	plainSum, encSum := sha256.Sum256(plaintext), sha256.Sum256(blob)
	return &encryptedMedia{mediaKey: mediaKey, blob: blob, fileSHA256: plainSum[:], fileEncSHA256: encSum[:], fileLength: uint64(len(plaintext))}, nil
}

// decryptMedia checks a downloaded blob against the hashes a message names
// (an empty hash or a negative length is not checked) and decrypts it.
func decryptMedia(blob, mediaKey []byte, kind whatsmeow.MediaType, fileEncSHA256, fileSHA256 []byte, fileLength int64) ([]byte, error) {
	if len(blob) <= mediaMACLength {
		return nil, errMediaTooShort
	}
	if sum := sha256.Sum256(blob); len(fileEncSHA256) > 0 && !hmac.Equal(sum[:], fileEncSHA256) {
		return nil, errMediaEncHash
	}
	iv, cipherKey, macKey := mediaKeys(mediaKey, kind)
	ciphertext, tag := blob[:len(blob)-mediaMACLength], blob[len(blob)-mediaMACLength:]
	mac := hmac.New(sha256.New, macKey)
	mac.Write(iv)
	mac.Write(ciphertext)
	if !hmac.Equal(mac.Sum(nil)[:mediaMACLength], tag) {
		return nil, errMediaMAC
	}
	if len(ciphertext)%aes.BlockSize != 0 {
		return nil, errMediaBlocks // CryptBlocks would panic
	}
	// Decrypt works in place: not on the caller's blob.
	plain, err := cbcutil.Decrypt(cipherKey, iv, bytes.Clone(ciphertext))
	if err != nil {
		return nil, fmt.Errorf("decrypting media: %w", err)
	}
	if sum := sha256.Sum256(plain); len(fileSHA256) > 0 && !hmac.Equal(sum[:], fileSHA256) {
		return nil, errMediaHash
	}
	if fileLength >= 0 && int64(len(plain)) != fileLength {
		return nil, errMediaLength
	}
	return plain, nil
}
