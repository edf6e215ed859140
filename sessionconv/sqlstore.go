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
