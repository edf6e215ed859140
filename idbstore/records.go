package idbstore

import (
	"go.mau.fi/whatsmeow/store"
)

// The record codecs, for code that keeps idbstore's tables in another shape
// (baileysauth's Baileys key store): the key joins and the value encodings
// of the tables it translates. Everything else stays opaque bytes.

// Table names, for the tables such code translates.
const (
	TableDevice          = tDevice
	TableIdentity        = tIdentity
	TableSession         = tSession
	TablePreKey          = tPreKey
	TablePreKeyMark      = tPreKeyMark
	TableSenderKey       = tSenderKey
	TableAppStateSyncKey = tAppStateSyncKey
	TableAppStateVersion = tAppStateVersion
	TableAppStateMACs    = tAppStateMACPatch
	TablePrivacyToken    = tPrivacyToken
	TableLIDByLID        = tLIDByLID
	TableLIDByPN         = tLIDByPN
	TableLayout          = tLayout
)

// JoinKey is the kv key of these components; SplitKey inverts it.
func JoinKey(parts ...string) string { return key(parts...) }

// SplitKey returns the components of a kv key.
func SplitKey(k string) ([]string, error) { return splitKey(k) }

// DecodeDevice reads a device record: the device (stores not set) and its
// insertion sequence number.
func DecodeDevice(k string, v []byte) (*store.Device, uint64, error) {
	r, err := decodeDeviceRecord(k, v)
	if err != nil {
		return nil, 0, err
	}
	d, err := r.device()
	return d, r.seq, err
}

// EncodeDevice is the record of d (ErrConstraint for what sqlstore's schema refuses).
func EncodeDevice(d *store.Device, seq uint64) ([]byte, error) {
	r, err := recordFromDevice(d)
	if err != nil {
		return nil, err
	}
	r.seq = seq
	return r.encode(), nil
}

func DecodeIdentity(k string, v []byte) ([32]byte, error) { return decodeIdentity(k, v) }
func EncodeIdentity(key [32]byte) []byte                  { return encodeIdentity(key) }

// DecodeBlob reads a session or sender key record: nil for a NULL one.
func DecodeBlob(table, k string, v []byte) ([]byte, error) { return decodeBlob(table, k, v) }
func EncodeBlob(p []byte) []byte                           { return encodeBlob(p) }

// DecodePreKey reads a prekey record's value (its ID is in its key).
func DecodePreKey(k string, v []byte) (priv, pub [32]byte, uploaded bool, err error) {
	d := newDecoder(v)
	uploaded = d.boolean()
	copy(priv[:], d.fixed(32))
	copy(pub[:], d.fixed(32))
	return priv, pub, uploaded, d.finish(tPreKey, k)
}

func EncodePreKey(priv, pub [32]byte, uploaded bool) []byte {
	return encodePreKey(priv[:], pub[:], uploaded)
}

// PreKeyID is the key component of a prekey ID.
func PreKeyID(id uint32) string { return preKeyID(id) }

func DecodeUploadMark(k string, v []byte) (uint64, error) { return decodeUploadMark(k, v) }
func EncodeUploadMark(mark uint64) []byte                 { return newEncoder(8).uvarint(mark).done() }

func DecodeSyncKey(k string, v []byte) (*store.AppStateSyncKey, error) { return decodeSyncKey(k, v) }
func EncodeSyncKey(key store.AppStateSyncKey) []byte                   { return encodeSyncKey(key) }

func DecodeAppStateVersion(k string, v []byte) (uint64, [128]byte, error) {
	return decodeAppStateVersion(k, v)
}
func EncodeAppStateVersion(version uint64, hash [128]byte) []byte {
	return encodeAppStateVersion(version, hash)
}

// DecodePrivacyToken reads a token record: Unix seconds and the token.
func DecodePrivacyToken(k string, v []byte) (int64, []byte, error) { return decodePrivacyToken(k, v) }
func EncodePrivacyToken(ts int64, token []byte) []byte {
	return newEncoder(len(token) + 10).varint(ts).bytes(token).done()
}

// DecodeLIDUser reads a record of either LID map table: the other user.
func DecodeLIDUser(table, k string, v []byte) (string, error) { return decodeLIDUser(table, k, v) }
func EncodeLIDUser(user string) []byte                        { return encodeLIDUser(user) }

// MAC is one (index MAC, value MAC) pair of a mutation MAC patch record.
type MAC struct{ Index, Value []byte }

// DecodeMACPatch reads a mutation MAC patch record (its key is our, the
// collection name and the version in 16 hex digits).
func DecodeMACPatch(k string, v []byte) ([]MAC, error) {
	entries, err := decodeMACPatch(k, v)
	if err != nil {
		return nil, err
	}
	out := make([]MAC, len(entries))
	for i, e := range entries {
		out[i] = MAC{Index: e.index, Value: e.value}
	}
	return out, nil
}
