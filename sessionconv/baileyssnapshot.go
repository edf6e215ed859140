package sessionconv

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/baileysauth/libsignalnode"
)

// BaileysToSnapshot converts a Baileys auth state into a wasmeow session
// snapshot named clientID, for the page's wm.importSession. What could not
// be converted is in the returned Dropped (the retry receipt path covers
// it).
func BaileysToSnapshot(ctx context.Context, st *BaileysState, clientID string) ([]byte, types.JID, Counts, libsignalnode.Dropped, error) {
	rows, dropped, err := BaileysToRows(st)
	if err != nil {
		return nil, types.EmptyJID, nil, nil, err
	}
	jid := *rows.Device.ID
	blob, err := writeSnapshot(ctx, rows, clientID)
	if err != nil {
		return nil, jid, nil, dropped, fmt.Errorf("building the snapshot of %s: %w", jid, err)
	}
	return blob, jid, countRows(rows), dropped, nil
}

// SnapshotToBaileys converts device jid (the only one when empty) of a
// wasmeow session snapshot into a Baileys auth state.
func SnapshotToBaileys(ctx context.Context, blob []byte, jid types.JID) (*BaileysState, types.JID, Counts, libsignalnode.Dropped, error) {
	rows, err := readSnapshot(ctx, blob, jid)
	if err != nil {
		return nil, jid, nil, nil, err
	}
	jid = *rows.Device.ID
	st, dropped, err := RowsToBaileys(rows, time.Now())
	if err != nil {
		return nil, jid, nil, nil, fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	return st, jid, countRows(rows), dropped, nil
}
