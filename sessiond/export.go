package sessiond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/sessionconv"
)

// indexType is kv/jskv's IndexType: the custom strategy's list of ids per
// table, which a snapshot does not carry (kv/jskv builds on js/wasm only).
const indexType = "wasmeow-index"

// SessionSnapshot is a native tenant's session as a wasmeow session
// snapshot (docs/SNAPSHOT.md), whichever strategy wrote it. The custom
// strategy's values and creds are kept as httpKeyStore sends them: Baileys'
// BufferJSON text. A key store with wasmeow's id lists is the custom
// strategy's Baileys-shaped layout (sessionconv.KeyStoreToSnapshot); other
// creds with a noiseKey are a store Baileys itself wrote, converted through
// sessionconv.BaileysToSnapshot. Otherwise they are wasmeow's first custom
// layout, where a key type is an idbstore table, an id its key, and the
// creds the device table. The remote strategy's snapshot is returned as
// saved. From there sessionconv.SnapshotToSQLStore (PostgreSQL) or
// SnapshotToSQLite makes a whatsmeow sqlstore of it, so a native whatsmeow
// can take the session over (wasmeow-sessiond export). Take the session's
// lease first, so no page writes it meanwhile.
func (s *Service) SessionSnapshot(ctx context.Context, tenant, session string) ([]byte, error) {
	var mode string
	if err := s.pool.QueryRow(ctx, `SELECT mode FROM sessiond_tenants WHERE name = $1`, tenant).Scan(&mode); err != nil {
		return nil, fmt.Errorf("tenant %q: %w", tenant, err)
	}
	if mode != ModeNative {
		return nil, fmt.Errorf("tenant %q is end-to-end encrypted: the service holds ciphertext only and cannot convert its sessions", tenant)
	}
	keys := map[string]map[string]json.RawMessage{}
	rows, err := s.pool.Query(ctx, `SELECT type, id, value FROM sessiond_keys WHERE tenant = $1 AND session = $2 AND type <> $3`, tenant, session, []byte(indexType))
	if err != nil {
		return nil, err
	}
	var typ, id, value []byte
	if _, err := pgx.ForEachRow(rows, []any{&typ, &id, &value}, func() error {
		if keys[string(typ)] == nil {
			keys[string(typ)] = map[string]json.RawMessage{}
		}
		keys[string(typ)][string(id)] = json.RawMessage(bytes.Clone(value))
		return nil
	}); err != nil {
		return nil, err
	}
	creds, err := s.Creds(ctx, tenant, session)
	var api *APIError
	if errors.As(err, &api) && api.Status == http.StatusNotFound {
		// No key store session: the remote strategy's snapshot, if any.
		if len(keys) > 0 {
			return nil, fmt.Errorf("session %q has keys but no creds: it was never paired, or was logged out", session)
		}
		return s.Snapshot(ctx, tenant, session)
	}
	if err != nil {
		return nil, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(creds, &probe); err != nil {
		return nil, fmt.Errorf("session %q: the creds are not httpKeyStore's JSON: %w", session, err)
	}
	if sessionconv.IsWasmeowKeyStore(keys) {
		// The page's custom strategy wrote it: Baileys' shapes around
		// whatsmeow's own Signal records.
		return sessionconv.KeyStoreToSnapshot(ctx, creds, keys, session)
	}
	if _, ok := probe["noiseKey"]; ok {
		// Baileys wrote it (libsignal-node's records).
		st := &sessionconv.BaileysState{Keys: keys}
		if err := json.Unmarshal(creds, &st.Creds); err != nil {
			return nil, fmt.Errorf("session %q: Baileys creds: %w", session, err)
		}
		blob, _, _, _, err := sessionconv.BaileysToSnapshot(ctx, st, session)
		return blob, err
	}
	return legacySnapshot(ctx, session, probe, keys)
}

// bufferJSON is Baileys' encoding of bytes in JSON, as httpKeyStore writes it.
type bufferJSON struct {
	Type string `json:"type"`
	Data []byte `json:"data"` // base64
}

func fromBufferJSON(raw json.RawMessage) ([]byte, error) {
	var b bufferJSON
	if err := json.Unmarshal(raw, &b); err != nil || b.Type != "Buffer" {
		return nil, fmt.Errorf("not Baileys' BufferJSON bytes (%d bytes: %.40q)", len(raw), string(raw))
	}
	return b.Data, nil
}

// legacySnapshot is a session of the first custom layout: kv tables.
func legacySnapshot(ctx context.Context, session string, creds map[string]json.RawMessage, keys map[string]map[string]json.RawMessage) ([]byte, error) {
	var ops []kv.Op
	add := func(table, key string, raw json.RawMessage) error {
		v, err := fromBufferJSON(raw)
		if err != nil {
			return fmt.Errorf("session %q, %s/%q: %w", session, table, key, err)
		}
		ops = append(ops, kv.Op{Table: table, Key: key, Value: v})
		return nil
	}
	for table, m := range keys {
		for k, raw := range m {
			if err := add(table, k, raw); err != nil {
				return nil, err
			}
		}
	}
	for table, raw := range creds {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("session %q: creds table %s: %w", session, table, err)
		}
		for k, v := range m {
			if err := add(table, k, v); err != nil {
				return nil, err
			}
		}
	}
	return sessionconv.OpsToSnapshot(ctx, ops, session)
}
