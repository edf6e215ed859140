package libsignalnode

import "fmt"

// IdentityToWhatsmeow converts an identity key as Baileys stores it (the 33
// bytes of a prekey message's identityKey, type byte first) into the 32-byte
// key whatsmeow's IdentityStore keeps. A bare 32-byte key is taken as is.
func IdentityToWhatsmeow(key []byte) ([32]byte, error) {
	var out [32]byte
	switch {
	case len(key) == publicKeyLength && key[0] == curve25519Type:
		copy(out[:], key[1:])
	case len(key) == 32:
		copy(out[:], key)
	default:
		return out, fmt.Errorf("an identity key has 33 bytes starting with %#x (or 32), not %d", curve25519Type, len(key))
	}
	return out, nil
}

// IdentityFromWhatsmeow is the 33-byte form Baileys stores.
func IdentityFromWhatsmeow(key [32]byte) []byte {
	return append([]byte{curve25519Type}, key[:]...)
}
