package sessiond

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrSessionExists: an import names a session that already holds data.
var ErrSessionExists = errors.New("the session already holds a snapshot, keys or creds")

// ImportSnapshot is the way back from a native whatsmeow: a wasmeow session
// snapshot (sessionconv.SQLStoreToSnapshot) becomes session's saved
// snapshot, which a page's remote strategy on httpRemoteStore restores
// (no QR). Only native tenants: an e2e tenant's snapshots are sealed by
// the page with a key the service never sees. The session must hold
// nothing yet (checked in the write's own transaction, under the fence of
// the caller's lease), so an import never replaces a session some page
// runs or ran.
func (s *Service) ImportSnapshot(ctx context.Context, tenant, session string, fence int64, blob []byte) error {
	var mode string
	if err := s.pool.QueryRow(ctx, `SELECT mode FROM sessiond_tenants WHERE name = $1`, tenant).Scan(&mode); err != nil {
		return fmt.Errorf("tenant %q: %w", tenant, err)
	}
	if mode != ModeNative {
		return fmt.Errorf("tenant %q is end-to-end encrypted: its pages seal snapshots with a key the service never sees, so it cannot import one", tenant)
	}
	return s.fenced(ctx, tenant, session, fence, func(tx pgx.Tx) error {
		var held bool
		if err := tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM sessiond_snapshots WHERE tenant = $1 AND session = $2) OR
			EXISTS (SELECT 1 FROM sessiond_keys WHERE tenant = $1 AND session = $2) OR
			EXISTS (SELECT 1 FROM sessiond_creds WHERE tenant = $1 AND session = $2)`, tenant, session).Scan(&held); err != nil {
			return err
		}
		if held {
			return fmt.Errorf("%w: %q (delete it first, or import under another name)", ErrSessionExists, session)
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessiond_snapshots (tenant, session, data, fence) VALUES ($1, $2, $3, $4)`, tenant, session, blob, fence)
		return err
	})
}
