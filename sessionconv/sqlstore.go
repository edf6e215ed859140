//go:build !js

package sessionconv

import (
	"context"
	"database/sql"
	"fmt"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// SnapshotToSQLStore writes device jid (the only device when jid is empty)
// of a wasmeow session snapshot into the whatsmeow sqlstore in db, of
// dialect "postgres" (whatsmeow's sqlstore on PostgreSQL, opened with the
// "pgx" driver) or "sqlite3": the schema is created or upgraded first, and
// a database that already holds the device is refused (ErrExists). Unlike
// SnapshotToSQLite it writes into a database that others may use: the rows
// land through the store interfaces, one device at a time.
func SnapshotToSQLStore(ctx context.Context, blob []byte, db *sql.DB, dialect string, jid types.JID) (types.JID, Counts, error) {
	rows, err := readSnapshot(ctx, blob, jid)
	if err != nil {
		return jid, nil, err
	}
	jid = *rows.Device.ID
	c := sqlstore.NewWithDB(db, dialect, waLog.Noop)
	if err := c.Upgrade(ctx); err != nil {
		return jid, nil, fmt.Errorf("upgrading the sqlstore schema: %w", err)
	}
	have, err := c.GetDevice(ctx, jid)
	if err != nil {
		return jid, nil, err
	}
	if have != nil {
		return jid, nil, fmt.Errorf("%w: the sqlstore already holds device %s", ErrExists, jid)
	}
	rawFor := func(*store.Device) rawWriter { return sqlRaw{db} }
	if _, err := writeRows(ctx, c, rows, rawFor); err != nil {
		return jid, nil, fmt.Errorf("writing device %s: %w", jid, err)
	}
	return jid, countRows(rows), nil
}

// SQLStoreToSnapshot reads device jid (the only device when jid is empty)
// of the whatsmeow sqlstore in db, of dialect "postgres" or "sqlite3", and
// returns it as a wasmeow session snapshot named clientID: the way from a
// native whatsmeow back into a page or the session service. Unlike
// SQLiteToSnapshot it reads the user's database in place and never writes
// it (no schema upgrade: a schema sqlstore has not created is refused), so
// stop the native client first: a client still running could store a
// newer Signal state than the one read.
func SQLStoreToSnapshot(ctx context.Context, db *sql.DB, dialect string, jid types.JID, clientID string) ([]byte, types.JID, Counts, error) {
	s := &storeDB{db: db, container: sqlstore.NewWithDB(db, dialect, waLog.Noop)}
	return s.snapshot(ctx, jid, clientID)
}

// DeleteSQLStoreDevice removes device jid and everything sqlstore keeps for
// it from the sqlstore in db: whatsmeow's own Device.Delete (the device row,
// whose foreign keys take every other table's rows with them), then the
// privacy tokens, the one per-device table of sqlstore's schema without a
// foreign key to the device, which Delete leaves behind. Once a device's
// session lives elsewhere, no native client may run it again.
func DeleteSQLStoreDevice(ctx context.Context, db *sql.DB, dialect string, jid types.JID) error {
	dev, err := sqlstore.NewWithDB(db, dialect, waLog.Noop).GetDevice(ctx, jid)
	if err != nil {
		return fmt.Errorf("%w: reading device %s: %v", ErrSQLite, jid, err)
	}
	if dev == nil {
		return fmt.Errorf("%w: %s", ErrNoDevice, jid)
	}
	if err := dev.Delete(ctx); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "DELETE FROM whatsmeow_privacy_tokens WHERE our_jid = $1", jid.String())
	return err
}
