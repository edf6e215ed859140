package sessiond

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// The two strategies' data: the remote strategy's snapshots (one blob per
// session) and the custom strategy's key store (type, id -> value) with its
// creds (one blob per session). Reads need no lease; every write goes
// through fenced.

// SessionInfo says what the service holds of a session.
type SessionInfo struct {
	Snapshot      bool  `json:"snapshot"`
	SnapshotBytes int64 `json:"snapshotBytes"`
	SavedAt       int64 `json:"savedAt,omitempty"` // ms since the epoch
	Keys          int64 `json:"keys"`
	Creds         bool  `json:"creds"`
	Lease         Lease `json:"lease"`
}

// Info is the remote strategy's sessionExists (Snapshot), and more.
func (s *Service) Info(ctx context.Context, tenant, session string) (SessionInfo, error) {
	var in SessionInfo
	var saved *time.Time
	err := s.pool.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM sessiond_snapshots WHERE tenant = $1 AND session = $2),
		COALESCE((SELECT length(data) FROM sessiond_snapshots WHERE tenant = $1 AND session = $2), 0),
		(SELECT saved_at FROM sessiond_snapshots WHERE tenant = $1 AND session = $2),
		(SELECT count(*) FROM sessiond_keys WHERE tenant = $1 AND session = $2),
		EXISTS (SELECT 1 FROM sessiond_creds WHERE tenant = $1 AND session = $2)`, tenant, session).
		Scan(&in.Snapshot, &in.SnapshotBytes, &saved, &in.Keys, &in.Creds)
	if err != nil {
		return in, err
	}
	if saved != nil {
		in.SavedAt = saved.UnixMilli()
	}
	in.Lease, err = s.LeaseInfo(ctx, tenant, session)
	return in, err
}

func notFound(what, session string) error {
	return apiErr(http.StatusNotFound, CodeNotFound, "session %q has no %s", session, what)
}

// Snapshot is the remote strategy's extract.
func (s *Service) Snapshot(ctx context.Context, tenant, session string) ([]byte, error) {
	return s.blob(ctx, "sessiond_snapshots", "snapshot", tenant, session)
}

// blob reads a session's data from table (snapshots, creds).
func (s *Service) blob(ctx context.Context, table, what, tenant, session string) ([]byte, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM `+table+` WHERE tenant = $1 AND session = $2`, tenant, session).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(what, session)
	}
	return data, err
}

// SaveSnapshot is the remote strategy's save.
func (s *Service) SaveSnapshot(ctx context.Context, tenant, session string, fence int64, data []byte) error {
	return s.fenced(ctx, tenant, session, fence, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessiond_snapshots (tenant, session, data, fence) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant, session) DO UPDATE SET data = EXCLUDED.data, fence = EXCLUDED.fence, saved_at = now()`,
			tenant, session, data, fence)
		return err
	})
}

// DeleteSession is the remote strategy's delete: the snapshot, keys and
// creds go; the lease row stays so that the fence keeps growing.
func (s *Service) DeleteSession(ctx context.Context, tenant, session string, fence int64) error {
	return s.fenced(ctx, tenant, session, fence, func(tx pgx.Tx) error {
		for _, table := range []string{"sessiond_snapshots", "sessiond_keys", "sessiond_creds"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE tenant = $1 AND session = $2`, tenant, session); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetKeys is the key store's get: the values of ids that exist.
func (s *Service) GetKeys(ctx context.Context, tenant, session, typ string, ids []string) (map[string][]byte, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, value FROM sessiond_keys WHERE tenant = $1 AND session = $2 AND type = $3 AND id = ANY($4)`,
		tenant, session, []byte(typ), asBytes(ids))
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(ids))
	var id, v []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
		out[string(id)] = v
		return nil
	})
	return out, err
}

// SetKeys is the key store's set, in one transaction: a nil value deletes.
func (s *Service) SetKeys(ctx context.Context, tenant, session string, fence int64, data map[string]map[string][]byte) error {
	return s.fenced(ctx, tenant, session, fence, func(tx pgx.Tx) error {
		var types, ids, values, delTypes, delIDs [][]byte
		for typ, m := range data {
			for id, v := range m {
				if v == nil {
					delTypes, delIDs = append(delTypes, []byte(typ)), append(delIDs, []byte(id))
					continue
				}
				types, ids, values = append(types, []byte(typ)), append(ids, []byte(id)), append(values, v)
			}
		}
		// Two statements whatever the batch size: unnest the arrays.
		if len(delIDs) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM sessiond_keys k USING unnest($3::bytea[], $4::bytea[]) AS d(type, id)
				WHERE k.tenant = $1 AND k.session = $2 AND k.type = d.type AND k.id = d.id`, tenant, session, delTypes, delIDs); err != nil {
				return err
			}
		}
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO sessiond_keys (tenant, session, type, id, value)
				SELECT $1, $2, u.type, u.id, u.value FROM unnest($3::bytea[], $4::bytea[], $5::bytea[]) AS u(type, id, value)
				ON CONFLICT (tenant, session, type, id) DO UPDATE SET value = EXCLUDED.value`, tenant, session, types, ids, values); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClearKeys is the key store's clear: every key of the session.
func (s *Service) ClearKeys(ctx context.Context, tenant, session string, fence int64) error {
	return s.fenced(ctx, tenant, session, fence, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM sessiond_keys WHERE tenant = $1 AND session = $2`, tenant, session)
		return err
	})
}

// Creds is the creds store's load (opaque bytes: the page's encoding).
func (s *Service) Creds(ctx context.Context, tenant, session string) ([]byte, error) {
	return s.blob(ctx, "sessiond_creds", "creds", tenant, session)
}

// SaveCreds is the creds store's save; nil data (save(null)) deletes.
func (s *Service) SaveCreds(ctx context.Context, tenant, session string, fence int64, data []byte) error {
	return s.fenced(ctx, tenant, session, fence, func(tx pgx.Tx) error {
		if data == nil {
			_, err := tx.Exec(ctx, `DELETE FROM sessiond_creds WHERE tenant = $1 AND session = $2`, tenant, session)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessiond_creds (tenant, session, data) VALUES ($1, $2, $3)
			ON CONFLICT (tenant, session) DO UPDATE SET data = EXCLUDED.data, saved_at = now()`, tenant, session, data)
		return err
	})
}

// asBytes is ids as the bytea the keys table keeps them in.
func asBytes(ids []string) [][]byte {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = []byte(id)
	}
	return out
}
