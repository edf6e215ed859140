package idbstore

import (
	"context"
	"encoding/hex"
	"fmt"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"

	"github.com/wasmeow/wasmeow/kv"
)

// Converting a device to and from another whatsmeow store (sessionconv).
// whatsmeow's store interfaces can write nearly every record but list
// almost none (no interface lists sessions, identities, prekeys, sender
// keys, sync keys, MACs, chat settings, secrets, tokens, buffered events or
// LID mappings; identities cannot even be read back), so a converter reads
// a device through ExportRows and writes it through the interfaces, plus
// the two Import methods for what the interfaces cannot write as stored.

// DeviceRows is every stored record of one device, in the shape of the
// rows of whatsmeow's sqlstore (one field per table, its columns as fields;
// JIDs as the text sqlstore stores).
type DeviceRows struct {
	Device           *store.Device
	Identities       []IdentityRow
	Sessions         []SessionRow
	PreKeys          []PreKeyRow
	SenderKeys       []SenderKeyRow
	AppStateSyncKeys []AppStateSyncKeyRow
	AppStateVersions []AppStateVersionRow
	AppStateMACs     []AppStateMACRow
	Contacts         []ContactRow
	ChatSettings     []ChatSettingsRow
	MessageSecrets   []MessageSecretRow
	PrivacyTokens    []PrivacyTokenRow
	BufferedEvents   []BufferedEventRow
	LIDMappings      []LIDMappingRow // container-wide, like whatsmeow_lid_map
}

type (
	IdentityRow struct {
		Address string
		Key     [32]byte
	}
	SessionRow struct {
		Address string
		Session []byte // nil for a NULL column
	}
	PreKeyRow struct {
		Key      keys.PreKey
		Uploaded bool
	}
	SenderKeyRow struct {
		Chat, Sender string
		Key          []byte
	}
	AppStateSyncKeyRow struct {
		ID  []byte
		Key store.AppStateSyncKey
	}
	AppStateVersionRow struct {
		Name    string
		Version uint64
		Hash    [128]byte
	}
	AppStateMACRow struct {
		Name               string
		Version            uint64
		IndexMAC, ValueMAC []byte
	}
	ContactRow struct {
		JID                                                        string
		FirstName, FullName, PushName, BusinessName, RedactedPhone string
	}
	ChatSettingsRow struct {
		Chat             string
		MutedUntil       int64 // sqlstore's column: -1 forever, 0 not muted, else Unix seconds
		Pinned, Archived bool
	}
	MessageSecretRow struct {
		Chat, Sender, ID string
		Secret           []byte
	}
	PrivacyTokenRow struct {
		User      string
		Token     []byte
		Timestamp int64 // Unix seconds
	}
	BufferedEventRow struct {
		Hash            [32]byte
		Plaintext       []byte // nil once cleared
		ServerTimestamp int64  // Unix seconds
		InsertTimeMS    int64  // Unix milliseconds
	}
	LIDMappingRow struct{ LID, PN string } // users, as whatsmeow_lid_map holds them
)

// ExportRows reads every record of device jid, and the container's LID map.
// It returns nil, nil when the container has no such device.
func (c *Container) ExportRows(ctx context.Context, jid types.JID) (_ *DeviceRows, err error) {
	defer c.reported(&err)
	dev, err := c.GetDevice(ctx, jid)
	if err != nil || dev == nil {
		return nil, err
	}
	s := newStore(c, *dev.ID) // not dev.Sessions: a device hook may have wrapped it
	rows := &DeviceRows{Device: dev}
	steps := []struct {
		table string
		parts int // key components after our JID
		row   func(parts []string, k string, v []byte) error
	}{
		{tIdentity, 1, func(p []string, k string, v []byte) error {
			key, err := decodeIdentity(k, v)
			rows.Identities = append(rows.Identities, IdentityRow{p[0], key})
			return err
		}},
		{tSession, 1, func(p []string, k string, v []byte) error {
			sess, err := decodeBlob(tSession, k, v)
			rows.Sessions = append(rows.Sessions, SessionRow{p[0], sess})
			return err
		}},
		{tSenderKey, 2, func(p []string, k string, v []byte) error {
			key, err := decodeBlob(tSenderKey, k, v)
			rows.SenderKeys = append(rows.SenderKeys, SenderKeyRow{p[0], p[1], key})
			return err
		}},
		{tAppStateSyncKey, 1, func(p []string, k string, v []byte) error {
			id, err := hex.DecodeString(p[0])
			if err != nil {
				return decodeError(tAppStateSyncKey, k, fmt.Errorf("%w: key ID: %w", errCorrupt, err))
			}
			key, err := decodeSyncKey(k, v)
			if err != nil {
				return err
			}
			rows.AppStateSyncKeys = append(rows.AppStateSyncKeys, AppStateSyncKeyRow{id, *key})
			return nil
		}},
		{tAppStateVersion, 1, func(p []string, k string, v []byte) error {
			ver, hash, err := decodeAppStateVersion(k, v)
			rows.AppStateVersions = append(rows.AppStateVersions, AppStateVersionRow{p[0], ver, hash})
			return err
		}},
		{tAppStateMACPatch, 2, func(p []string, k string, v []byte) error {
			var ver uint64
			if _, err := fmt.Sscanf(p[1], "%016x", &ver); err != nil || len(p[1]) != 16 {
				return decodeError(tAppStateMACPatch, k, fmt.Errorf("%w: bad version %q", errCorrupt, p[1]))
			}
			entries, err := decodeMACPatch(k, v)
			for _, m := range entries {
				rows.AppStateMACs = append(rows.AppStateMACs, AppStateMACRow{p[0], ver, m.index, m.value})
			}
			return err
		}},
		{tContact, 1, func(_ []string, k string, v []byte) error {
			b, err := decodeContactBucket(k, v)
			for jid, r := range b {
				rows.Contacts = append(rows.Contacts, ContactRow{jid, r.first, r.full, r.push, r.business, r.redacted})
			}
			return err
		}},
		{tChatSettings, 1, func(p []string, k string, v []byte) error {
			r, err := decodeChatSettings(k, v)
			rows.ChatSettings = append(rows.ChatSettings, ChatSettingsRow{p[0], r.mutedUntil, r.pinned, r.archived})
			return err
		}},
		{tMsgSecret, 3, func(p []string, k string, v []byte) error {
			secret, err := decodeMsgSecret(k, v)
			rows.MessageSecrets = append(rows.MessageSecrets, MessageSecretRow{p[0], p[1], p[2], secret})
			return err
		}},
		{tPrivacyToken, 1, func(p []string, k string, v []byte) error {
			ts, token, err := decodePrivacyToken(k, v)
			rows.PrivacyTokens = append(rows.PrivacyTokens, PrivacyTokenRow{p[0], token, ts})
			return err
		}},
		{tEventBuffer, 1, func(p []string, k string, v []byte) error {
			hash, err := hex.DecodeString(p[0])
			if err != nil || len(hash) != 32 {
				return decodeError(tEventBuffer, k, fmt.Errorf("%w: bad ciphertext hash %q", errCorrupt, p[0]))
			}
			r, err := decodeBufferedEvent(k, v)
			rows.BufferedEvents = append(rows.BufferedEvents, BufferedEventRow{[32]byte(hash), r.plaintext, r.serverTS, r.insertTimeMS})
			return err
		}},
	}
	for _, st := range steps {
		pairs, err := c.e.scan(ctx, c.e.txnFrom(ctx), st.table, s.all(), false)
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			parts, err := splitKey(p.Key)
			if err != nil || len(parts) != st.parts+1 {
				return nil, decodeError(st.table, p.Key, fmt.Errorf("%w: key has %d components, want %d", errCorrupt, len(parts), st.parts+1))
			}
			if err := st.row(parts[1:], p.Key, p.Value); err != nil {
				return nil, err
			}
		}
	}
	all, _, err := s.allPreKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, pk := range all {
		rows.PreKeys = append(rows.PreKeys, PreKeyRow{*pk.key(), pk.uploaded})
	}
	lids, err := c.e.scan(ctx, c.e.txnFrom(ctx), tLIDByLID, "", false)
	if err != nil {
		return nil, err
	}
	for _, p := range lids {
		lid, err := unescapeComponent(p.Key)
		if err != nil {
			return nil, decodeError(tLIDByLID, p.Key, err)
		}
		pn, err := decodeLIDUser(tLIDByLID, p.Key, p.Value)
		if err != nil {
			return nil, err
		}
		rows.LIDMappings = append(rows.LIDMappings, LIDMappingRow{lid, pn})
	}
	return rows, nil
}

// ImportPreKeys stores prekeys as they are, with their uploaded flags: the
// interface can only generate new keys, and a migrated device must keep the
// ones the server hands out to its contacts. One atomic write.
func (s *Store) ImportPreKeys(ctx context.Context, rows []PreKeyRow) (err error) {
	defer s.c.reported(&err)
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: import prekeys: %w", err)
	}
	ops := make([]kv.Op, 0, len(rows))
	for _, r := range rows {
		if r.Key.Priv == nil || r.Key.Pub == nil || r.Key.KeyID > maxPreKeyID {
			return fmt.Errorf("%w: prekey %d lacks its key pair or is out of range", ErrConstraint, r.Key.KeyID)
		}
		ops = append(ops, kv.Op{Table: tPreKey, Key: s.k(preKeyID(r.Key.KeyID)), Value: encodePreKey(r.Key.Priv[:], r.Key.Pub[:], r.Uploaded)})
	}
	return s.e.write(ctx, ops...)
}

// ImportBufferedEvents stores buffered events with their insert times
// (PutBufferedEvent stamps now, which would restart their 14-day expiry).
// One atomic write.
func (s *Store) ImportBufferedEvents(ctx context.Context, rows []BufferedEventRow) (err error) {
	defer s.c.reported(&err)
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: import buffered events: %w", err)
	}
	ops := make([]kv.Op, 0, len(rows))
	for _, r := range rows {
		rec := bufferedEventRecord{plaintext: r.Plaintext, serverTS: r.ServerTimestamp, insertTimeMS: r.InsertTimeMS}
		ops = append(ops, kv.Op{Table: tEventBuffer, Key: s.eventKey(r.Hash), Value: rec.encode()})
	}
	return s.e.write(ctx, ops...)
}
