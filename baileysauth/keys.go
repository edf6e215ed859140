package baileysauth

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"

	"github.com/wasmeow/wasmeow/idbstore"
)

// wasmeow's kv tables (idbstore) as records of Baileys' SignalKeyStore:
// a Baileys type where the data is the same kind, with Baileys' ids and
// value shapes (src/Types/Auth.ts SignalDataTypeMap, src/Signal/libsignal.ts
// and lid-mapping.ts in WhiskeySockets/Baileys); whatsmeow's other tables
// under types of their own, "wasmeow-<table>". The device record and the
// prekey upload mark are not here: they live in the creds (CredsTables).
//
// Ids drop the device JID that starts wasmeow's keys of device tables (one
// key store holds one device, as in Baileys) and never hold a NUL byte.

// Baileys' types.
const (
	TypePreKey          = "pre-key"
	TypeSession         = "session"
	TypeSenderKey       = "sender-key"
	TypeAppStateSyncKey = "app-state-sync-key"
	TypeAppStateVersion = "app-state-sync-version"
	TypeLIDMapping      = "lid-mapping"
	TypeTCToken         = "tctoken"
	TypeIdentityKey     = "identity-key"
	// OwnTypePrefix starts the types of whatsmeow's tables Baileys has no
	// type for; the rest of the name is the table's, '_' written '-'.
	OwnTypePrefix = "wasmeow-"
	// IDsType holds, per kv table, the ids of its records (a key store
	// cannot list itself): records "<table>/<bucket>" (or, first form,
	// "<table>"), each a JSON array of ids. Its presence marks a key store
	// wasmeow wrote (kv/jskv).
	IDsType = "wasmeow-ids"
)

// CredsTables are the kv tables kept in the creds rather than the key
// store: the device record and the prekey upload mark
// (firstUnuploadedPreKeyId).
var CredsTables = []string{idbstore.TableDevice, idbstore.TablePreKeyMark}

// baileysTables are the tables with a Baileys type; deviceScoped says the
// first key component is our JID, which the id leaves out.
var baileysTables = map[string]struct {
	typ          string
	deviceScoped bool
}{
	idbstore.TableIdentity:        {TypeIdentityKey, true},
	idbstore.TableSession:         {TypeSession, true},
	idbstore.TablePreKey:          {TypePreKey, true},
	idbstore.TableSenderKey:       {TypeSenderKey, true},
	idbstore.TableAppStateSyncKey: {TypeAppStateSyncKey, true},
	idbstore.TableAppStateVersion: {TypeAppStateVersion, true},
	idbstore.TablePrivacyToken:    {TypeTCToken, true},
	idbstore.TableLIDByLID:        {TypeLIDMapping, false},
	idbstore.TableLIDByPN:         {TypeLIDMapping, false},
}

// reverseSuffix marks Baileys' LID -> PN entries of lid-mapping.
const reverseSuffix = "_reverse"

// TypeOf is the key store type that holds the records of table.
func TypeOf(table string) string {
	if t, ok := baileysTables[table]; ok {
		return t.typ
	}
	return OwnTypePrefix + strings.ReplaceAll(table, "_", "-")
}

// DeviceScoped reports whether table's ids leave out our JID.
func DeviceScoped(table string) bool { return baileysTables[table].deviceScoped }

// ErrBadID is wrapped by errors about an id or key that has no counterpart.
var ErrBadID = errors.New("no such key store id")

// IDOf is the key store id of the kv key k of table.
func IDOf(table, k string) (string, error) {
	parts, err := idbstore.SplitKey(k)
	if err != nil {
		return "", fmt.Errorf("%w: %s key %q: %w", ErrBadID, table, k, err)
	}
	t, ok := baileysTables[table]
	if !ok {
		esc := make([]string, len(parts))
		for i, p := range parts {
			esc[i] = url.PathEscape(p)
		}
		return strings.Join(esc, "/"), nil
	}
	if t.deviceScoped {
		parts = parts[1:]
	}
	id, err := baileysID(table, parts)
	switch {
	case err != nil:
	case strings.IndexByte(id, 0) >= 0:
		err = errors.New("NUL byte")
	case !utf8.ValidString(id):
		// A JS string would hold U+FFFD instead: the record would be
		// stored under another id.
		err = errors.New("not valid UTF-8")
	}
	if err != nil {
		return "", fmt.Errorf("%w: %s key %q: %w", ErrBadID, table, k, err)
	}
	return id, nil
}

func baileysID(table string, parts []string) (string, error) {
	want := 1
	if table == idbstore.TableSenderKey {
		want = 2
	}
	if len(parts) != want {
		return "", fmt.Errorf("%d key components, want %d", len(parts), want)
	}
	switch table {
	case idbstore.TableIdentity, idbstore.TableSession:
		return signalAddress(parts[0])
	case idbstore.TableSenderKey:
		// libsignal-node's SenderKeyName.toString(): group::user::device.
		addr, err := signalAddress(parts[1])
		if err != nil {
			return "", err
		}
		return parts[0] + "::" + strings.Replace(addr, ".", "::", 1), nil
	case idbstore.TablePreKey:
		n, err := strconv.ParseUint(parts[0], 16, 32)
		if err != nil {
			return "", err
		}
		return strconv.FormatUint(n, 10), nil
	case idbstore.TableAppStateSyncKey:
		raw, err := hex.DecodeString(parts[0])
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(raw), nil
	case idbstore.TableLIDByLID:
		return parts[0] + reverseSuffix, nil
	}
	return parts[0], nil // app state name, tctoken JID, PN user
}

// signalAddress is libsignal-node's ProtocolAddress.toString() ("user.device",
// "user_1.device" for a LID) of whatsmeow's ("user:device", "user_1:device").
func signalAddress(a string) (string, error) {
	i := strings.LastIndexByte(a, ':')
	if i <= 0 || strings.ContainsAny(a[:i], ".:") {
		return "", fmt.Errorf("%q is not a signal address", a)
	}
	if _, err := strconv.ParseUint(a[i+1:], 10, 32); err != nil {
		return "", fmt.Errorf("%q is not a signal address", a)
	}
	return a[:i] + "." + a[i+1:], nil
}

// KeyOf is the kv key of table for the key store id; our is the JID of the
// device the store holds (used by device-scoped tables).
func KeyOf(table, id, our string) (string, error) {
	t, ok := baileysTables[table]
	if !ok {
		esc := strings.Split(id, "/")
		for i, p := range esc {
			v, err := url.PathUnescape(p)
			if err != nil {
				return "", fmt.Errorf("%w: %s id %q: %w", ErrBadID, TypeOf(table), id, err)
			}
			esc[i] = v
		}
		return idbstore.JoinKey(esc...), nil
	}
	parts, err := kvParts(table, id)
	if err != nil {
		return "", fmt.Errorf("%w: %s id %q: %w", ErrBadID, t.typ, id, err)
	}
	if t.deviceScoped {
		parts = append([]string{our}, parts...)
	}
	return idbstore.JoinKey(parts...), nil
}

func kvParts(table, id string) ([]string, error) {
	switch table {
	case idbstore.TableIdentity, idbstore.TableSession:
		a, err := whatsmeowAddress(id)
		return []string{a}, err
	case idbstore.TableSenderKey:
		i := strings.LastIndex(id, "::")
		if i < 0 {
			return nil, errors.New("not group::user::device")
		}
		j := strings.LastIndex(id[:i], "::")
		if j < 0 {
			return nil, errors.New("not group::user::device")
		}
		a, err := whatsmeowAddress(id[j+2:i] + "." + id[i+2:])
		return []string{id[:j], a}, err
	case idbstore.TablePreKey:
		n, err := strconv.ParseUint(id, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != id {
			return nil, errors.New("not a decimal key ID")
		}
		return []string{idbstore.PreKeyID(uint32(n))}, nil
	case idbstore.TableAppStateSyncKey:
		raw, err := base64.StdEncoding.DecodeString(id)
		return []string{hex.EncodeToString(raw)}, err
	case idbstore.TableLIDByLID:
		u, ok := strings.CutSuffix(id, reverseSuffix)
		if !ok {
			return nil, errors.New("a LID entry of lid-mapping ends in " + reverseSuffix)
		}
		return []string{u}, nil
	case idbstore.TableLIDByPN:
		if strings.HasSuffix(id, reverseSuffix) {
			return nil, errors.New("a PN entry of lid-mapping does not end in " + reverseSuffix)
		}
	}
	return []string{id}, nil
}

func whatsmeowAddress(id string) (string, error) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 {
		return "", errors.New("not user.device")
	}
	if _, err := strconv.ParseUint(id[i+1:], 10, 32); err != nil {
		return "", errors.New("not user.device")
	}
	return id[:i] + ":" + id[i+1:], nil
}

// The value shapes.
type (
	preKeyValue struct {
		Public  Bytes `json:"public"`
		Private Bytes `json:"private"`
		// Uploaded is whatsmeow's own flag of a key uploaded on its own
		// (keys up to firstUnuploadedPreKeyId - 1 are uploaded anyway).
		Uploaded bool `json:"uploaded,omitempty"`
	}
	syncKeyValue struct {
		KeyData     Bytes        `json:"keyData"`
		Fingerprint *fingerprint `json:"fingerprint,omitempty"`
		Timestamp   Int64        `json:"timestamp"`
		// RawFingerprint keeps whatsmeow's bytes when the object above
		// would not give them back exactly.
		RawFingerprint Bytes `json:"wasmeowFingerprint,omitempty"`
	}
	fingerprint struct {
		RawID         *uint32  `json:"rawId,omitempty"`
		CurrentIndex  *uint32  `json:"currentIndex,omitempty"`
		DeviceIndexes []uint32 `json:"deviceIndexes,omitempty"`
	}
	ltHashValue struct {
		Version Int64 `json:"version"`
		Hash    Bytes `json:"hash"`
		// IndexValueMap is base64(index MAC) -> {valueMac}, built from the
		// MAC patches (EncodeAppStateVersion). Reading ignores it: whatsmeow
		// keeps the MACs by patch, in the wasmeow-app-state-mac-patch type.
		IndexValueMap map[string]json.RawMessage `json:"indexValueMap"`
	}
	tcTokenValue struct {
		Token     Bytes       `json:"token"`
		Timestamp Int64String `json:"timestamp"`
	}
)

// ErrBadValue is wrapped by errors about a value that has no counterpart.
var ErrBadValue = errors.New("unusable key store value")

// ValueOf is the key store value of the kv record (k, v) of table: a value
// encoding/json marshals to the JSON form (byte strings as BufferJSON).
func ValueOf(table, k string, v []byte) (any, error) {
	out, err := valueOf(table, k, v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q: %w", ErrBadValue, table, k, err)
	}
	return out, nil
}

func valueOf(table, k string, v []byte) (any, error) {
	switch table {
	case idbstore.TableIdentity:
		key, err := idbstore.DecodeIdentity(k, v)
		if err != nil {
			return nil, err
		}
		return Bytes(append([]byte{0x05}, key[:]...)), nil
	case idbstore.TableSession, idbstore.TableSenderKey:
		b, err := idbstore.DecodeBlob(table, k, v)
		if err != nil {
			return nil, err
		}
		if b == nil {
			return nil, errors.New("a NULL record has no key store form (null deletes)")
		}
		return Bytes(b), nil
	case idbstore.TablePreKey:
		priv, pub, uploaded, err := idbstore.DecodePreKey(k, v)
		if err != nil {
			return nil, err
		}
		return preKeyValue{Public: pub[:], Private: priv[:], Uploaded: uploaded}, nil
	case idbstore.TableAppStateSyncKey:
		key, err := idbstore.DecodeSyncKey(k, v)
		if err != nil {
			return nil, err
		}
		out := syncKeyValue{KeyData: key.Data, Timestamp: Int64(key.Timestamp)}
		var fp waE2E.AppStateSyncKeyFingerprint
		if proto.Unmarshal(key.Fingerprint, &fp) == nil {
			out.Fingerprint = &fingerprint{RawID: fp.RawID, CurrentIndex: fp.CurrentIndex, DeviceIndexes: fp.DeviceIndexes}
		}
		if again, _ := out.Fingerprint.marshal(); !bytes.Equal(again, key.Fingerprint) {
			out.RawFingerprint = nonNil(key.Fingerprint)
		}
		return out, nil
	case idbstore.TableAppStateVersion:
		version, hash, err := idbstore.DecodeAppStateVersion(k, v)
		if err != nil {
			return nil, err
		}
		if version > maxSafeInteger {
			return nil, fmt.Errorf("version %d is beyond what a JS number holds exactly", version)
		}
		return ltHashValue{Version: Int64(version), Hash: hash[:], IndexValueMap: map[string]json.RawMessage{}}, nil
	case idbstore.TablePrivacyToken:
		ts, token, err := idbstore.DecodePrivacyToken(k, v)
		if err != nil {
			return nil, err
		}
		return tcTokenValue{Token: nonNil(token), Timestamp: Int64String(ts)}, nil
	case idbstore.TableLIDByLID, idbstore.TableLIDByPN:
		return idbstore.DecodeLIDUser(table, k, v)
	}
	return Bytes(nonNil(v)), nil
}

func (f *fingerprint) marshal() ([]byte, error) {
	if f == nil {
		return nil, errors.New("no fingerprint")
	}
	return proto.Marshal(&waE2E.AppStateSyncKeyFingerprint{RawID: f.RawID, CurrentIndex: f.CurrentIndex, DeviceIndexes: f.DeviceIndexes})
}

func nonNil(b []byte) Bytes {
	if b == nil {
		return Bytes{}
	}
	return b
}

// RecordOf is the kv value of table at key k for the JSON of a key store
// value (any form Bytes, Int64 and Int64String read).
func RecordOf(table, k string, raw []byte) ([]byte, error) {
	out, err := recordOf(table, k, raw)
	if err != nil {
		id, idErr := IDOf(table, k)
		if idErr != nil {
			id = "?"
		}
		return nil, fmt.Errorf("%w: %s %q (wasmeow key %q): %w", ErrBadValue, TypeOf(table), id, k, err)
	}
	return out, nil
}

func recordOf(table, k string, raw []byte) ([]byte, error) {
	switch table {
	case idbstore.TableIdentity:
		var b Bytes
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, err
		}
		if len(b) == 33 && b[0] == 0x05 {
			b = b[1:]
		}
		if len(b) != 32 {
			return nil, fmt.Errorf("an identity key of %d bytes", len(b))
		}
		return idbstore.EncodeIdentity([32]byte(b)), nil
	case idbstore.TablePreKey:
		var p preKeyValue
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		if len(p.Public) == 33 && p.Public[0] == 0x05 {
			p.Public = p.Public[1:]
		}
		if len(p.Public) != 32 || len(p.Private) != 32 {
			return nil, fmt.Errorf("a prekey of %d/%d bytes, want 32/32", len(p.Public), len(p.Private))
		}
		return idbstore.EncodePreKey([32]byte(p.Private), [32]byte(p.Public), p.Uploaded), nil
	case idbstore.TableAppStateSyncKey:
		var s syncKeyValue
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if len(s.KeyData) == 0 {
			// What an adapter that passes this type through protobuf.js'
			// AppStateSyncKeyData.fromObject (useMultiFileAuthState does)
			// gives back when the value was stored as plain JSON: fromObject
			// drops a keyData written {"0": b0, ...}. Keep BufferJSON.
			return nil, errors.New("no keyData (the store's adapter lost it: protobuf.js fromObject drops bytes stored as plain JSON {\"0\": …}; store values with BufferJSON)")
		}
		key := store.AppStateSyncKey{Data: nonNil(s.KeyData), Timestamp: int64(s.Timestamp), Fingerprint: s.RawFingerprint}
		if key.Fingerprint == nil {
			fp, err := s.Fingerprint.marshal()
			if err != nil {
				return nil, err
			}
			key.Fingerprint = nonNil(fp)
		}
		return idbstore.EncodeSyncKey(key), nil
	case idbstore.TableAppStateVersion:
		var l ltHashValue
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		if len(l.Hash) != 128 || l.Version < 0 {
			return nil, fmt.Errorf("an LTHash of %d bytes (want 128) or a negative version", len(l.Hash))
		}
		return idbstore.EncodeAppStateVersion(uint64(l.Version), [128]byte(l.Hash)), nil
	case idbstore.TablePrivacyToken:
		var t tcTokenValue
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, err
		}
		return idbstore.EncodePrivacyToken(int64(t.Timestamp), nonNil(t.Token)), nil
	case idbstore.TableLIDByLID, idbstore.TableLIDByPN:
		var user string
		if err := json.Unmarshal(raw, &user); err != nil {
			return nil, err
		}
		return idbstore.EncodeLIDUser(user), nil
	}
	var b Bytes
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	if table == idbstore.TableSession || table == idbstore.TableSenderKey {
		return idbstore.EncodeBlob(nonNil(b)), nil
	}
	return nonNil(b), nil
}
