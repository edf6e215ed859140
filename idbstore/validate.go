package idbstore

import (
	"fmt"

	"go.mau.fi/whatsmeow/types"
)

// ValidateRecord decodes one stored record of table with the codec that
// reads it, without using it: what an import checks of every record of a
// snapshot before committing any. A failure is a *CorruptError naming the
// table and the record.
func ValidateRecord(table, key string, value []byte) error {
	var err error
	switch table {
	case tDevice:
		var r *deviceRecord
		if r, err = decodeDeviceRecord(key, value); err == nil {
			err = checkDeviceJIDs(key, r)
		}
	case tIdentity:
		_, err = decodeIdentity(key, value)
	case tSession, tSenderKey:
		_, err = decodeBlob(table, key, value)
	case tPreKey:
		var parts []string
		if parts, err = splitKey(key); err == nil {
			_, err = decodePreKey(key, escapeComponent(parts[len(parts)-1]), value)
		}
	case tPreKeyMark:
		_, err = decodeUploadMark(key, value)
	case tAppStateSyncKey:
		_, err = decodeSyncKey(key, value)
	case tAppStateVersion:
		_, _, err = decodeAppStateVersion(key, value)
	case tAppStateMACPatch:
		_, err = decodeMACPatch(key, value)
	case tContact:
		_, err = decodeContactBucket(key, value)
	case tChatSettings:
		_, err = decodeChatSettings(key, value)
	case tMsgSecret:
		_, err = decodeMsgSecret(key, value)
	case tPrivacyToken:
		_, _, err = decodePrivacyToken(key, value)
	case tEventBuffer:
		_, err = decodeBufferedEvent(key, value)
	case tLIDByLID, tLIDByPN:
		_, err = decodeLIDUser(table, key, value)
	case tLayout:
		_, err = decodeLayout(key, value)
	case tLegacyContact:
		_, err = decodeLegacyContact(key, value)
	default:
		return fmt.Errorf("idbstore: no table %q", table)
	}
	if err != nil {
		if _, ok := err.(*CorruptError); !ok {
			err = decodeError(table, key, fmt.Errorf("%w: %w", errCorrupt, err))
		}
	}
	return err
}

// checkDeviceJIDs is the part of loading a device record that can fail
// beyond its codec: the JIDs it names must parse.
func checkDeviceJIDs(key string, r *deviceRecord) error {
	for i, j := range []string{r.jid, r.lid} {
		if i == 1 && j == "" {
			continue // no LID yet
		}
		if _, err := types.ParseJID(j); err != nil {
			return decodeError(tDevice, key, fmt.Errorf("%w: JID %q: %w", errCorrupt, j, err))
		}
	}
	return nil
}
