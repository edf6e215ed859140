package sessionconv

import (
	"errors"
	"fmt"

	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
)

// Errors, wrapped by every failure so that callers (the command's exit
// codes) can tell them apart.
var (
	ErrSQLite   = errors.New("not a usable whatsmeow sqlstore database")
	ErrSnapshot = errors.New("cannot read the snapshot")
	ErrNoDevice = errors.New("no such device")
	ErrExists   = errors.New("the output file exists")
)

// chooseDevice is jid if it is among ids, or the only one of ids when jid
// is empty.
func chooseDevice(ids []types.JID, jid types.JID) (types.JID, error) {
	if !jid.IsEmpty() {
		for _, id := range ids {
			if id == jid {
				return jid, nil
			}
		}
		return jid, fmt.Errorf("%w: %s (the store holds %v)", ErrNoDevice, jid, ids)
	}
	switch len(ids) {
	case 0:
		return jid, fmt.Errorf("%w: the store holds no paired device", ErrNoDevice)
	case 1:
		return ids[0], nil
	}
	return jid, fmt.Errorf("%w: the store holds %d devices %v; choose one", ErrNoDevice, len(ids), ids)
}

// Counts is how many rows of each kind a conversion carried.
type Counts map[string]int

func countRows(r *idbstore.DeviceRows) Counts {
	return Counts{
		"identities": len(r.Identities), "sessions": len(r.Sessions), "prekeys": len(r.PreKeys),
		"sender_keys": len(r.SenderKeys), "app_state_sync_keys": len(r.AppStateSyncKeys),
		"app_state_versions": len(r.AppStateVersions), "app_state_macs": len(r.AppStateMACs),
		"contacts": len(r.Contacts), "chat_settings": len(r.ChatSettings), "message_secrets": len(r.MessageSecrets),
		"privacy_tokens": len(r.PrivacyTokens), "event_buffer": len(r.BufferedEvents), "lid_mappings": len(r.LIDMappings),
	}
}
