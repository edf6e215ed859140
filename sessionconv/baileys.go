package sessionconv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"

	"github.com/wasmeow/wasmeow/baileysauth"
	"github.com/wasmeow/wasmeow/baileysauth/libsignalnode"
	"github.com/wasmeow/wasmeow/idbstore"
)

// Moving a device between Baileys' auth state and whatsmeow's stores.
// Baileys' key store types and value shapes are those of its
// src/Types/Auth.ts SignalDataTypeMap (7.0.0-rc14), as its libsignal.js,
// lid-mapping.js, chat-utils.js and process-message.js write them.

// ErrBaileys is wrapped by every failure to read a Baileys auth state as a
// whole (its creds); a single key that cannot be converted is left out and
// reported instead.
var ErrBaileys = errors.New("not a usable Baileys auth state")

// BaileysState is a Baileys auth state: its AuthenticationCreds and every
// record of its key store by type and id (the SignalDataSet shape that
// keys.set receives), values as Baileys keeps them, in any JSON form of
// their bytes.
type BaileysState struct {
	Creds *baileysauth.Creds                    `json:"creds"`
	Keys  map[string]map[string]json.RawMessage `json:"keys"`
}

// Baileys' key store types (SignalDataTypeMap): baileysauth's, and the two
// caches the custom strategy has no use for.
const (
	bPreKey          = baileysauth.TypePreKey
	bSession         = baileysauth.TypeSession
	bSenderKey       = baileysauth.TypeSenderKey
	bSenderKeyMemory = "sender-key-memory"
	bSyncKey         = baileysauth.TypeAppStateSyncKey
	bSyncVersion     = baileysauth.TypeAppStateVersion
	bLIDMapping      = baileysauth.TypeLIDMapping
	bDeviceList      = "device-list"
	bTCToken         = baileysauth.TypeTCToken
	bIdentityKey     = baileysauth.TypeIdentityKey
)

// BaileysTypes is every type Baileys' key store has, in the order files
// are best matched (longer names first: "sender-key-memory" before
// "sender-key").
var BaileysTypes = []string{bSenderKeyMemory, bSyncVersion, bSyncKey, bIdentityKey, bLIDMapping, bDeviceList, bSenderKey, bPreKey, bSession, bTCToken}

const (
	lidReverseSuffix = "_reverse" // lid-mapping.js: "<lid user>_reverse" -> PN user
	tcTokenIndexID   = "__index"  // tc-token-utils.js: the JIDs with a token, for pruning
)

// Baileys' value shapes.
type (
	bKeyPair struct {
		Public  baileysauth.Bytes `json:"public"`
		Private baileysauth.Bytes `json:"private"`
	}
	bSyncKeyData struct {
		KeyData     baileysauth.Bytes `json:"keyData"`
		Fingerprint *bFingerprint     `json:"fingerprint,omitempty"`
		Timestamp   baileysauth.Int64 `json:"timestamp"`
	}
	bFingerprint struct {
		RawID         *uint32  `json:"rawId,omitempty"`
		CurrentIndex  *uint32  `json:"currentIndex,omitempty"`
		DeviceIndexes []uint32 `json:"deviceIndexes,omitempty"`
	}
	bLTHash struct {
		Version       baileysauth.Int64      `json:"version"`
		Hash          baileysauth.Bytes      `json:"hash"`
		IndexValueMap map[string]bIndexValue `json:"indexValueMap"`
	}
	bIndexValue struct {
		ValueMac baileysauth.Bytes `json:"valueMac"`
	}
	bTCTokenValue struct {
		Token     baileysauth.Bytes       `json:"token"`
		Timestamp baileysauth.Int64String `json:"timestamp,omitempty"`
	}
)

// BaileysToRows converts a Baileys auth state into the rows of a whatsmeow
// device. Every record whatsmeow has a place for is converted; what cannot
// be (a session that never talked, a broken record, Baileys' caches) is
// left out and listed in the returned Dropped.
func BaileysToRows(st *BaileysState) (*idbstore.DeviceRows, libsignalnode.Dropped, error) {
	if st == nil || st.Creds == nil {
		return nil, nil, fmt.Errorf("%w: no creds", ErrBaileys)
	}
	dev, err := st.Creds.Device()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBaileys, err)
	}
	rows := &idbstore.DeviceRows{Device: dev}
	local := libsignalnode.Local{IdentityKey: *dev.IdentityKey.Pub, RegistrationID: dev.RegistrationID}
	var dropped libsignalnode.Dropped
	identities := map[string]bool{}
	lids := map[string]string{} // LID user -> PN user
	if len(st.Creds.Rest) > 0 {
		dropped.Add("creds fields whatsmeow has no place for: %s", strings.Join(slices.Sorted(maps.Keys(st.Creds.Rest)), ", "))
	}
	for _, typ := range slices.Sorted(maps.Keys(st.Keys)) {
		records := st.Keys[typ]
		if why, whole := wholeTypeLeftOut(typ); whole {
			dropped.Add("%s: %d records, %s", typ, len(records), why)
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(records)) {
			raw := records[id]
			if len(raw) == 0 || string(raw) == "null" {
				continue // keys.set's null deletes
			}
			if err := importRecord(rows, typ, id, raw, st.Creds, local, identities, lids, &dropped); err != nil {
				dropped.Add("%s %s: %v", typ, id, err)
			}
		}
	}
	// The primary device's identity, trusted at pairing (Baileys keeps it in
	// creds.signalIdentities; whatsmeow in the identity store).
	for _, si := range st.Creds.SignalIdentities {
		jid, err := types.ParseJID(si.Identifier.Name)
		if err != nil {
			dropped.Add("creds.signalIdentities %q: %v", si.Identifier.Name, err)
			continue
		}
		jid.Device = uint16(si.Identifier.DeviceID)
		addr := jid.SignalAddress().String()
		key, err := libsignalnode.IdentityToWhatsmeow(si.IdentifierKey)
		if err != nil {
			dropped.Add("creds.signalIdentities %q: %v", si.Identifier.Name, err)
		} else if !identities[addr] {
			identities[addr] = true
			rows.Identities = append(rows.Identities, idbstore.IdentityRow{Address: addr, Key: key})
		}
	}
	for _, lid := range slices.Sorted(maps.Keys(lids)) {
		rows.LIDMappings = append(rows.LIDMappings, idbstore.LIDMappingRow{LID: lid, PN: lids[lid]})
	}
	return rows, dropped, nil
}

func importRecord(rows *idbstore.DeviceRows, typ, id string, raw json.RawMessage, creds *baileysauth.Creds,
	local libsignalnode.Local, identities map[string]bool, lids map[string]string, dropped *libsignalnode.Dropped) error {
	switch typ {
	case bPreKey:
		n, err := strconv.ParseUint(id, 10, 32)
		if err != nil {
			return errors.New("not a decimal key id")
		}
		var kp bKeyPair
		if err := json.Unmarshal(raw, &kp); err != nil {
			return err
		}
		pair, err := checkedPair(kp)
		if err != nil {
			return err
		}
		// Baileys uploads keys in id order and counts the first one it has
		// not uploaded yet (creds.firstUnuploadedPreKeyId).
		rows.PreKeys = append(rows.PreKeys, idbstore.PreKeyRow{Key: keys.PreKey{KeyPair: *pair, KeyID: uint32(n)}, Uploaded: uint32(n) < creds.FirstUnuploadedPreKeyID})
	case bSession:
		addr, err := whatsmeowAddress(id)
		if err != nil {
			return err
		}
		rec, err := jsonValue(raw)
		if err != nil {
			return err
		}
		goRec, why, err := libsignalnode.SessionToWhatsmeow(rec, local)
		for _, w := range why {
			dropped.Add("session %s: %s", id, w)
		}
		if err != nil {
			return fmt.Errorf("%w; the peer's next message will ask for a retry", err)
		}
		rows.Sessions = append(rows.Sessions, idbstore.SessionRow{Address: addr, Session: goRec})
	case bSenderKey:
		chat, sender, err := senderKeyID(id)
		if err != nil {
			return err
		}
		rec, err := jsonValue(raw)
		if err != nil {
			return err
		}
		goRec, err := libsignalnode.SenderKeyToWhatsmeow(rec)
		if err != nil {
			return fmt.Errorf("%w; the sender's next group message will ask for a retry", err)
		}
		rows.SenderKeys = append(rows.SenderKeys, idbstore.SenderKeyRow{Chat: chat, Sender: sender, Key: goRec})
	case bIdentityKey:
		addr, err := whatsmeowAddress(id)
		if err != nil {
			return err
		}
		var b baileysauth.Bytes
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		key, err := libsignalnode.IdentityToWhatsmeow(b)
		if err != nil {
			return err
		}
		identities[addr] = true
		rows.Identities = append(rows.Identities, idbstore.IdentityRow{Address: addr, Key: key})
	case bSyncKey:
		keyID, err := base64.StdEncoding.DecodeString(id)
		if err != nil {
			return errors.New("the id is not base64")
		}
		var v bSyncKeyData
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if len(v.KeyData) == 0 {
			return errors.New("no keyData")
		}
		var fp []byte
		if v.Fingerprint != nil {
			if fp, err = proto.Marshal(&waE2E.AppStateSyncKeyFingerprint{RawID: v.Fingerprint.RawID, CurrentIndex: v.Fingerprint.CurrentIndex, DeviceIndexes: v.Fingerprint.DeviceIndexes}); err != nil {
				return err
			}
		}
		rows.AppStateSyncKeys = append(rows.AppStateSyncKeys, idbstore.AppStateSyncKeyRow{ID: keyID, Key: store.AppStateSyncKey{Data: v.KeyData, Fingerprint: fp, Timestamp: int64(v.Timestamp)}})
	case bSyncVersion:
		var v bLTHash
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if len(v.Hash) != 128 || v.Version < 0 {
			return fmt.Errorf("version %d with a hash of %d bytes, want 128", v.Version, len(v.Hash))
		}
		rows.AppStateVersions = append(rows.AppStateVersions, idbstore.AppStateVersionRow{Name: id, Version: uint64(v.Version), Hash: [128]byte(v.Hash)})
		// Baileys keeps only the latest value MAC of each index, not the
		// patch it came with: they are filed under the current version,
		// which is what whatsmeow looks them up by (the latest).
		for _, idx := range slices.Sorted(maps.Keys(v.IndexValueMap)) {
			indexMAC, err := base64.StdEncoding.DecodeString(idx)
			if err != nil || len(v.IndexValueMap[idx].ValueMac) == 0 {
				dropped.Add("app-state-sync-version %s: index %q has no usable MAC", id, idx)
				continue
			}
			rows.AppStateMACs = append(rows.AppStateMACs, idbstore.AppStateMACRow{Name: id, Version: uint64(v.Version), IndexMAC: indexMAC, ValueMAC: v.IndexValueMap[idx].ValueMac})
		}
	case bLIDMapping:
		var other string
		if err := json.Unmarshal(raw, &other); err != nil {
			return err
		}
		if lid, ok := strings.CutSuffix(id, lidReverseSuffix); ok {
			lids[lid] = other
		} else {
			lids[other] = id
		}
	case bTCToken:
		if id == tcTokenIndexID {
			return nil // Baileys' own index of the JIDs below
		}
		if _, err := types.ParseJID(id); err != nil {
			return err
		}
		var v bTCTokenValue
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		rows.PrivacyTokens = append(rows.PrivacyTokens, idbstore.PrivacyTokenRow{User: id, Token: v.Token, Timestamp: int64(v.Timestamp)})
	default:
		return fmt.Errorf("no conversion for type %s", typ)
	}
	return nil
}

// wholeTypeLeftOut says why a whole type is not converted, if it is not.
func wholeTypeLeftOut(typ string) (string, bool) {
	switch {
	case typ == bDeviceList:
		return "a cache whatsmeow does not keep (it fetches device lists again)", true
	case typ == bSenderKeyMemory:
		return "a cache whatsmeow does not keep (it sends its sender key to every participant with each group message)", true
	case !slices.Contains(BaileysTypes, typ):
		return "a type Baileys does not have", true
	}
	return "", false
}

// checkedPair is a Baileys key pair whose public key matches its private one.
func checkedPair(kp bKeyPair) (*keys.KeyPair, error) {
	if len(kp.Private) != 32 {
		return nil, fmt.Errorf("a private key of %d bytes", len(kp.Private))
	}
	pair := keys.NewKeyPairFromPrivateKey([32]byte(kp.Private))
	pub := []byte(kp.Public)
	if len(pub) == 33 && pub[0] == 0x05 {
		pub = pub[1:]
	}
	if !bytes.Equal(pub, pair.Pub[:]) {
		return nil, errors.New("the public key is not the private key's")
	}
	return pair, nil
}

// jsonValue is a record kept as a JSON value, or as the bytes of its JSON
// text (a sender key is stored as a Buffer; an adapter may do the same
// with a session).
func jsonValue(raw json.RawMessage) ([]byte, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		if t, ok := obj["type"]; !ok || string(t) != `"Buffer"` {
			return raw, nil // the record itself
		}
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[{")) {
		return raw, nil // a sender key record as parsed JSON
	}
	var b baileysauth.Bytes
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	return b, nil
}

// whatsmeowAddress is whatsmeow's "user:device" (user_1 for a LID) of
// libsignal-node's ProtocolAddress "user.device".
func whatsmeowAddress(id string) (string, error) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 || strings.ContainsAny(id[:i], ".:") {
		return "", errors.New("not a signal address user.device")
	}
	if _, err := strconv.ParseUint(id[i+1:], 10, 16); err != nil {
		return "", errors.New("not a signal address user.device")
	}
	return id[:i] + ":" + id[i+1:], nil
}

// baileysAddress is the reverse of whatsmeowAddress.
func baileysAddress(addr string) (string, error) {
	i := strings.LastIndexByte(addr, ':')
	if i <= 0 || strings.ContainsAny(addr[:i], ".:") {
		return "", fmt.Errorf("%q is not a signal address user:device", addr)
	}
	if _, err := strconv.ParseUint(addr[i+1:], 10, 16); err != nil {
		return "", fmt.Errorf("%q is not a signal address user:device", addr)
	}
	return addr[:i] + "." + addr[i+1:], nil
}

// senderKeyID splits Baileys' SenderKeyName "group::user::device" into
// whatsmeow's chat and sender address.
func senderKeyID(id string) (chat, sender string, err error) {
	parts := strings.Split(id, "::")
	if len(parts) != 3 || parts[0] == "" {
		return "", "", errors.New("not group::user::device")
	}
	sender, err = whatsmeowAddress(parts[1] + "." + parts[2])
	return parts[0], sender, err
}

// RowsToBaileys converts the rows of a whatsmeow device into a Baileys auth
// state. What Baileys' auth state has no place for (contacts, chat
// settings, message secrets, buffered events: a Baileys app keeps those in
// its own store) and what libsignal-node's records cannot hold are listed
// in the returned Dropped. now stamps the session times libsignal-node
// keeps and whatsmeow does not.
func RowsToBaileys(rows *idbstore.DeviceRows, now time.Time) (*BaileysState, libsignalnode.Dropped, error) {
	creds, err := baileysauth.FromDevice(rows.Device, nil)
	if err != nil {
		return nil, nil, err
	}
	var dropped libsignalnode.Dropped
	out := &BaileysState{Creds: creds, Keys: map[string]map[string]json.RawMessage{}}
	put := func(typ, id string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			dropped.Add("%s %s: %v", typ, id, err)
			return
		}
		if out.Keys[typ] == nil {
			out.Keys[typ] = map[string]json.RawMessage{}
		}
		out.Keys[typ][id] = b
	}
	for _, r := range rows.Identities {
		if id, err := baileysAddress(r.Address); err != nil {
			dropped.Add("identity %s: %v", r.Address, err)
		} else {
			put(bIdentityKey, id, baileysauth.Bytes(libsignalnode.IdentityFromWhatsmeow(r.Key)))
		}
	}
	for _, r := range rows.Sessions {
		id, err := baileysAddress(r.Address)
		if err == nil && r.Session == nil {
			err = errors.New("an empty (NULL) record")
		}
		var rec []byte
		var why libsignalnode.Dropped
		if err == nil {
			rec, why, err = libsignalnode.SessionFromWhatsmeow(r.Session, now)
		}
		for _, w := range why {
			dropped.Add("session %s: %s", r.Address, w)
		}
		if err != nil {
			dropped.Add("session %s: %v; the peer's next message will ask for a retry", r.Address, err)
			continue
		}
		put(bSession, id, json.RawMessage(rec))
	}
	var maxID, maxUploaded uint32
	for _, r := range rows.PreKeys {
		put(bPreKey, strconv.FormatUint(uint64(r.Key.KeyID), 10), bKeyPair{Public: r.Key.Pub[:], Private: r.Key.Priv[:]})
		maxID = max(maxID, r.Key.KeyID)
		if r.Uploaded {
			maxUploaded = max(maxUploaded, r.Key.KeyID)
		}
	}
	// Baileys' counters: keys below firstUnuploadedPreKeyId are on the
	// server, nextPreKeyId is the next to generate.
	creds.FirstUnuploadedPreKeyID = maxUploaded + 1
	creds.NextPreKeyID = max(maxID, maxUploaded) + 1
	for _, r := range rows.SenderKeys {
		sender, err := baileysAddress(r.Sender)
		var rec []byte
		if err == nil {
			rec, err = libsignalnode.SenderKeyFromWhatsmeow(r.Key)
		}
		if err != nil {
			dropped.Add("sender key %s %s: %v; their next group message will ask for a retry", r.Chat, r.Sender, err)
			continue
		}
		put(bSenderKey, r.Chat+"::"+strings.Replace(sender, ".", "::", 1), baileysauth.Bytes(rec))
	}
	for _, r := range rows.AppStateSyncKeys {
		v := bSyncKeyData{KeyData: r.Key.Data, Timestamp: baileysauth.Int64(r.Key.Timestamp)}
		var fp waE2E.AppStateSyncKeyFingerprint
		if len(r.Key.Fingerprint) > 0 && proto.Unmarshal(r.Key.Fingerprint, &fp) == nil {
			v.Fingerprint = &bFingerprint{RawID: fp.RawID, CurrentIndex: fp.CurrentIndex, DeviceIndexes: fp.DeviceIndexes}
		}
		put(bSyncKey, base64.StdEncoding.EncodeToString(r.ID), v)
	}
	// The latest value MAC of each index, as Baileys' indexValueMap holds them.
	macs := map[string]map[string]baileysauth.Bytes{}
	latest := map[string]uint64{}
	for _, r := range rows.AppStateMACs {
		k := r.Name + "\x00" + string(r.IndexMAC)
		if v, seen := latest[k]; seen && v > r.Version {
			continue
		}
		latest[k] = r.Version
		if macs[r.Name] == nil {
			macs[r.Name] = map[string]baileysauth.Bytes{}
		}
		macs[r.Name][base64.StdEncoding.EncodeToString(r.IndexMAC)] = r.ValueMAC
	}
	for _, r := range rows.AppStateVersions {
		v := bLTHash{Version: baileysauth.Int64(r.Version), Hash: r.Hash[:], IndexValueMap: map[string]bIndexValue{}}
		for idx, mac := range macs[r.Name] {
			v.IndexValueMap[idx] = bIndexValue{ValueMac: mac}
		}
		put(bSyncVersion, r.Name, v)
	}
	for _, r := range rows.LIDMappings {
		put(bLIDMapping, r.PN, r.LID)
		put(bLIDMapping, r.LID+lidReverseSuffix, r.PN)
	}
	var tokenJIDs []string
	for _, r := range rows.PrivacyTokens {
		// Baileys writes the timestamp as a decimal string (process-message.js).
		put(bTCToken, r.User, bTCTokenValue{Token: r.Token, Timestamp: baileysauth.Int64String(r.Timestamp)})
		tokenJIDs = append(tokenJIDs, r.User)
	}
	if len(tokenJIDs) > 0 {
		list, _ := json.Marshal(tokenJIDs)
		put(bTCToken, tcTokenIndexID, bTCTokenValue{Token: list})
	}
	for what, n := range map[string]int{"contacts": len(rows.Contacts), "chat settings": len(rows.ChatSettings),
		"message secrets": len(rows.MessageSecrets), "buffered events": len(rows.BufferedEvents)} {
		if n > 0 {
			dropped.Add("%d %s: Baileys' auth state has no place for them (a Baileys app keeps them in its own store)", n, what)
		}
	}
	sort.Strings(dropped)
	return out, dropped, nil
}
