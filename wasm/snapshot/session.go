package snapshot

import (
	"errors"
	"fmt"

	"github.com/wasmeow/wasmeow/idbstore"
)

// DecodeSession decodes a snapshot of an idbstore session for restoring:
// only idbstore's tables, a device present, every record decoding with
// idbstore's codecs (so nothing is written before all of it passed, and a
// bad snapshot leaves no half-restored session), and a snapshot of an
// earlier layout readied for the upgrade New runs once it is restored.
// Restore the result into an empty backend, then open it with idbstore.New.
// This is what the page's importSession and the remote restore do, and what
// the native converter (sessionconv) does.
func DecodeSession(blob []byte) (*Snapshot, error) {
	snap, err := Decode(blob, idbstore.DumpTables)
	if err != nil {
		return nil, err
	}
	if !idbstore.DumpHasDevice(snap.Tables) {
		return nil, errors.New("the snapshot holds no device (it was taken before pairing)")
	}
	if err := snap.Validate(idbstore.ValidateRecord); err != nil {
		return nil, fmt.Errorf("the snapshot holds a corrupt record: %w", err)
	}
	idbstore.PrepareRestore(snap.Tables)
	return snap, nil
}
