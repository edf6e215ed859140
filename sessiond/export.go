package sessiond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// indexType is kv/jskv's IndexType: the custom strategy's list of ids per
// table, which a snapshot does not carry (kv/jskv builds on js/wasm only).
const indexType = "wasmeow-index"

// SessionSnapshot is a native tenant's session as a wasmeow session
// snapshot (docs/SNAPSHOT.md), whichever strategy wrote it: the custom
// strategy's keys and creds are the kv tables of idbstore (a key type is a
// table, an id a key; the creds, as httpKeyStore encodes them, the device
// table), the remote strategy's snapshot is returned as saved. From there
// sessionconv.SnapshotToSQLStore (PostgreSQL) or SnapshotToSQLite makes a
// whatsmeow sqlstore of it, so a native whatsmeow can take the session over
// (wasmeow-sessiond export). Take the session's lease first, so no page writes it
// meanwhile.
func (s *Service) SessionSnapshot(ctx context.Context, tenant, session string) ([]byte, error) {
	var mode string
	if err := s.pool.QueryRow(ctx, `SELECT mode FROM sessiond_tenants WHERE name = $1`, tenant).Scan(&mode); err != nil {
		return nil, fmt.Errorf("tenant %q: %w", tenant, err)
	}
	if mode != ModeNative {
		return nil, fmt.Errorf("tenant %q is end-to-end encrypted: the service holds ciphertext only and cannot convert its sessions", tenant)
	}
	b := memkv.New()
	var ops []kv.Op
	rows, err := s.pool.Query(ctx, `SELECT type, id, value FROM sessiond_keys WHERE tenant = $1 AND session = $2 AND type <> $3`, tenant, session, []byte(indexType))
	if err != nil {
		return nil, err
	}
	var typ, id, value []byte
	if _, err := pgx.ForEachRow(rows, []any{&typ, &id, &value}, func() error {
		ops = append(ops, kv.Op{Table: string(typ), Key: string(id), Value: value})
		return nil
	}); err != nil {
		return nil, err
	}
	creds, err := s.Creds(ctx, tenant, session)
	var api *APIError
	if errors.As(err, &api) && api.Status == http.StatusNotFound {
		// No key store session: the remote strategy's snapshot, if any.
		if len(ops) > 0 {
			return nil, fmt.Errorf("session %q has keys but no creds: it was never paired, or was logged out", session)
		}
		return s.Snapshot(ctx, tenant, session)
	}
	if err != nil {
		return nil, err
	}
	var tables map[string]map[string][]byte // what httpKeyStore's creds.save sends: base64 in JSON
	if err := json.Unmarshal(creds, &tables); err != nil {
		return nil, fmt.Errorf("session %q: the creds are not httpKeyStore's JSON: %w", session, err)
	}
	for table, m := range tables {
		for k, v := range m {
			ops = append(ops, kv.Op{Table: table, Key: k, Value: v})
		}
	}
	if err := b.Commit(ctx, ops); err != nil {
		return nil, err
	}
	snap, err := snapshot.Capture(ctx, b, session, idbstore.DumpTables)
	if err != nil {
		return nil, err
	}
	return snap.Encode()
}
