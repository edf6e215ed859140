//go:build !js

package sessionconv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// SQLiteToSnapshot reads device jid (the only device when jid is empty) of
// the sqlstore database at path and returns it as a wasmeow session
// snapshot named clientID, for the page's wm.importSession. The database is
// read from a private copy and never written.
func SQLiteToSnapshot(ctx context.Context, path string, jid types.JID, clientID string) ([]byte, types.JID, Counts, error) {
	tmp, err := os.MkdirTemp("", "wasmeow-session-")
	if err != nil {
		return nil, jid, nil, err
	}
	defer os.RemoveAll(tmp)
	cp, err := copySQLite(ctx, path, tmp)
	if err != nil {
		return nil, jid, nil, err
	}
	db, err := openSQLite(ctx, cp, "")
	if err != nil {
		return nil, jid, nil, fmt.Errorf("%w (%s)", err, path)
	}
	defer db.Close()
	return db.snapshot(ctx, jid, clientID)
}

// SnapshotToSQLite writes device jid (the only device when jid is empty) of
// a wasmeow session snapshot into a new sqlstore database at path, which
// must not exist. The file appears only once complete.
func SnapshotToSQLite(ctx context.Context, blob []byte, path string, jid types.JID) (types.JID, Counts, error) {
	if _, err := os.Lstat(path); err == nil {
		return jid, nil, fmt.Errorf("%w: %s", ErrExists, path)
	}
	rows, err := readSnapshot(ctx, blob, jid)
	if err != nil {
		return jid, nil, err
	}
	jid = *rows.Device.ID
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return jid, nil, err
	}
	tmpPath := tmp.Name()
	_ = tmp.Close()
	defer os.Remove(tmpPath)
	db, err := openSQLite(ctx, tmpPath, "&_journal_mode=DELETE")
	if err != nil {
		return jid, nil, err
	}
	rawFor := func(*store.Device) rawWriter { return sqlRaw{db.db} }
	if _, err := writeRows(ctx, db.container, rows, rawFor); err != nil {
		_ = db.Close()
		return jid, nil, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return jid, nil, err
	}
	if err := os.Link(tmpPath, path); err != nil { // fails, rather than replaces, if path appeared meanwhile
		if errors.Is(err, os.ErrExist) {
			err = fmt.Errorf("%w: %s", ErrExists, path)
		}
		return jid, nil, err
	}
	return jid, countRows(rows), nil
}
