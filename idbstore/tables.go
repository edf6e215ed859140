package idbstore

import (
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// kv table names. Each mirrors one sqlstore table; device-scoped tables key
// their records by our device JID first, like sqlstore's our_jid column.
const (
	tDevice          = "device"             // jid -> device record
	tIdentity        = "identity"           // our|their address -> identity key
	tSession         = "session"            // our|their address -> session
	tPreKey          = "prekey"             // our|key id (8 hex) -> prekey
	tPreKeyMark      = "prekey_uploaded"    // our -> every prekey with an ID up to this one is uploaded
	tSenderKey       = "sender_key"         // our|chat|sender -> sender key
	tAppStateSyncKey = "app_state_sync_key" // our|hex(key id) -> sync key
	tAppStateVersion = "app_state_version"  // our|name -> version and hash
	// our|name|version (16 hex) -> the (index MAC, value MAC) pairs of that patch
	tAppStateMACPatch = "app_state_mac_patch"
	tContact          = "contact_bucket" // our|bucket (2 hex) -> names of the contacts hashed to it
	tChatSettings     = "chat_settings"  // our|chat jid -> muted, pinned, archived
	tMsgSecret        = "message_secret" // our|chat|sender|message id -> secret
	tPrivacyToken     = "privacy_token"  // our|their jid -> token and timestamp
	tEventBuffer      = "event_buffer"   // our|hex(ciphertext hash) -> buffered event
	tLIDByLID         = "lid_map"        // lid user -> pn user (global, like whatsmeow_lid_map)
	tLIDByPN          = "lid_map_pn"     // pn user -> lid user (the UNIQUE(pn) index)
)

// DeviceTable is the table of device records, one per paired device: what a
// caller checks to know whether a backend holds a session at all.
const DeviceTable = tDevice

// Tables lists the data tables of today's layout. Backends must also hold
// the layout record (BackendTables); snapshots dump DumpTables.
var Tables = []string{
	tDevice, tIdentity, tSession, tPreKey, tPreKeyMark, tSenderKey, tAppStateSyncKey,
	tAppStateVersion, tAppStateMACPatch, tContact, tChatSettings, tMsgSecret,
	tPrivacyToken, tEventBuffer, tLIDByLID, tLIDByPN,
}

// deviceTables are the tables whose records sqlstore deletes with the device
// (ON DELETE CASCADE on our_jid). Privacy tokens have no such foreign key in
// sqlstore and survive DeleteDevice there, so they do here too.
var deviceTables = []string{
	tIdentity, tSession, tPreKey, tPreKeyMark, tSenderKey, tAppStateSyncKey,
	tAppStateVersion, tAppStateMACPatch, tContact, tChatSettings, tMsgSecret, tEventBuffer,
}

// sep ends every key component but the last. Components are escaped so that
// keys are valid UTF-8 (IndexedDB keys are JS strings) and a component never
// contains sep: the encoding is injective and prefix scans per component are
// exact.
const sep = '\x00'

// escapeComponent maps s to valid UTF-8 without NUL: \x00 -> \x01\x01,
// \x01 -> \x01\x02, an invalid UTF-8 byte b -> \x01 'x' hex(b).
func escapeComponent(s string) string {
	clean := utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && strings.IndexByte(s, 1) < 0
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString("\x01x")
			b.WriteString(hex.EncodeToString([]byte{s[i]}))
		case r == 0:
			b.WriteString("\x01\x01")
		case r == 1:
			b.WriteString("\x01\x02")
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unescapeComponent inverts escapeComponent.
func unescapeComponent(s string) (string, error) {
	if strings.IndexByte(s, 1) < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != 1 {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("truncated escape in key component %q", s)
		}
		switch s[i+1] {
		case 1:
			b.WriteByte(0)
			i++
		case 2:
			b.WriteByte(1)
			i++
		case 'x':
			if i+4 > len(s) {
				return "", fmt.Errorf("truncated escape in key component %q", s)
			}
			v, err := hex.DecodeString(s[i+2 : i+4])
			if err != nil {
				return "", fmt.Errorf("bad escape in key component %q: %w", s, err)
			}
			b.WriteByte(v[0])
			i += 3
		default:
			return "", fmt.Errorf("bad escape in key component %q", s)
		}
	}
	return b.String(), nil
}

// key joins components: all but the last end with sep.
func key(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		b.WriteString(escapeComponent(p))
		if i < len(parts)-1 {
			b.WriteByte(sep)
		}
	}
	return b.String()
}

// prefix is the scan prefix of every key whose first components are parts.
func prefix(parts ...string) string {
	return key(parts...) + string(sep)
}

// splitKey returns the components of a key made by key().
func splitKey(k string) ([]string, error) {
	raw := strings.Split(k, string(sep))
	for i, r := range raw {
		v, err := unescapeComponent(r)
		if err != nil {
			return nil, err
		}
		raw[i] = v
	}
	return raw, nil
}

// lastComponent returns the unescaped last component of k after prefix p.
func lastComponent(k, p string) (string, error) {
	return unescapeComponent(strings.TrimPrefix(k, p))
}
