package sessiond

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// A lease gives one holder a session for a time to live. Each acquisition
// by a new holder (or after a release or expiry) increments the session's
// fence; every write names the fence it was made under and is refused
// unless that is still the current one, so a holder that lost its lease
// (paused, cut off, taken over) can no longer write, even if its request
// arrives late. Times are the database's clock, shared by every instance of
// the service.

// Lease is the state of a session's lease.
type Lease struct {
	Holder    string `json:"holder"`
	Fence     int64  `json:"fence"`
	ExpiresAt int64  `json:"expiresAt"` // ms since the epoch
	Held      bool   `json:"held"`      // a holder and not expired
}

type leaseRow struct {
	holder  string
	fence   int64
	expires time.Time
	now     time.Time
}

func (l leaseRow) live() bool { return l.holder != "" && l.expires.After(l.now) }

func (l leaseRow) view() Lease {
	return Lease{Holder: l.holder, Fence: l.fence, ExpiresAt: l.expires.UnixMilli(), Held: l.live()}
}

// lockLease reads a session's lease row: FOR UPDATE to change it, FOR SHARE
// to write under it (a takeover then waits for writes in flight, and a
// write after it sees the new fence). found is false when none exists.
func lockLease(ctx context.Context, tx pgx.Tx, tenant, session, mode string) (l leaseRow, found bool, err error) {
	err = tx.QueryRow(ctx, `SELECT holder, fence, expires_at, clock_timestamp() FROM sessiond_leases
		WHERE tenant = $1 AND session = $2 FOR `+mode, tenant, session).Scan(&l.holder, &l.fence, &l.expires, &l.now)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, false, nil
	}
	return l, err == nil, err
}

func lockedBy(l leaseRow, session string) *APIError {
	e := apiErr(http.StatusConflict, CodeSessionLocked, "session %q is held by %q until its lease expires (or it releases it); pass takeover to take it anyway", session, l.holder)
	e.Holder, e.Fence, e.ExpiresAt = l.holder, l.fence, l.expires.UnixMilli()
	return e
}

func lost(l leaseRow, session string, fence int64) *APIError {
	e := apiErr(http.StatusConflict, CodeLeaseLost, "the lease of session %q under fence %d is gone: it is now fence %d, held by %q", session, fence, l.fence, l.holder)
	e.Holder, e.Fence, e.ExpiresAt = l.holder, l.fence, l.expires.UnixMilli()
	if !l.live() {
		e.Holder = ""
	}
	return e
}

// Acquire gives session to holder for ttl. A holder that already has the
// live lease keeps its fence (and the new expiry); anyone else gets it when
// it is free or expired, or with takeover, under a new fence. Otherwise
// session_locked names the holder.
func (s *Service) Acquire(ctx context.Context, tenant, session, holder string, ttl time.Duration, takeover bool) (Lease, error) {
	var out Lease
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Make sure a row exists to lock (fence 0: never held).
		if _, err := tx.Exec(ctx, `INSERT INTO sessiond_leases (tenant, session, holder, fence, expires_at)
			VALUES ($1, $2, '', 0, clock_timestamp()) ON CONFLICT DO NOTHING`, tenant, session); err != nil {
			return err
		}
		l, _, err := lockLease(ctx, tx, tenant, session, "UPDATE")
		if err != nil {
			return err
		}
		fence := l.fence
		switch {
		case l.live() && l.holder == holder:
		case l.live() && !takeover:
			return lockedBy(l, session)
		default:
			fence++
		}
		err = tx.QueryRow(ctx, `UPDATE sessiond_leases SET holder = $3, fence = $4, expires_at = clock_timestamp() + $5::interval
			WHERE tenant = $1 AND session = $2 RETURNING expires_at`, tenant, session, holder, fence, ttl).Scan(&l.expires)
		out = Lease{Holder: holder, Fence: fence, ExpiresAt: l.expires.UnixMilli(), Held: true}
		return err
	})
	return out, err
}

// Renew extends the lease holder has under fence; lease_lost when it is no
// longer that holder's (expired and taken, or taken over). A lease that
// expired but that nobody took is renewed: no one else wrote meanwhile.
func (s *Service) Renew(ctx context.Context, tenant, session, holder string, fence int64, ttl time.Duration) (Lease, error) {
	var out Lease
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		l, found, err := lockLease(ctx, tx, tenant, session, "UPDATE")
		if err != nil {
			return err
		}
		if !found || l.fence != fence || l.holder != holder {
			return lost(l, session, fence)
		}
		err = tx.QueryRow(ctx, `UPDATE sessiond_leases SET expires_at = clock_timestamp() + $3::interval
			WHERE tenant = $1 AND session = $2 RETURNING expires_at`, tenant, session, ttl).Scan(&l.expires)
		out = Lease{Holder: holder, Fence: fence, ExpiresAt: l.expires.UnixMilli(), Held: true}
		return err
	})
	return out, err
}

// Release ends holder's lease under fence at once, so the next client need
// not wait for the time to live; releasing a lease one no longer has is a
// no-op.
func (s *Service) Release(ctx context.Context, tenant, session, holder string, fence int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE sessiond_leases SET holder = '', expires_at = clock_timestamp()
		WHERE tenant = $1 AND session = $2 AND holder = $3 AND fence = $4`, tenant, session, holder, fence)
	return err
}

// LeaseInfo is the session's lease as it stands (fence 0: never held).
func (s *Service) LeaseInfo(ctx context.Context, tenant, session string) (Lease, error) {
	var l leaseRow
	err := s.pool.QueryRow(ctx, `SELECT holder, fence, expires_at, clock_timestamp() FROM sessiond_leases
		WHERE tenant = $1 AND session = $2`, tenant, session).Scan(&l.holder, &l.fence, &l.expires, &l.now)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lease{}, nil
	}
	return l.view(), err
}

// fenced runs write in a transaction if fence is still the session's
// current one and not released (an expired lease nobody took yet still
// counts: no one else can have written); the lease row stays share-locked
// until it commits.
func (s *Service) fenced(ctx context.Context, tenant, session string, fence int64, write func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		l, found, err := lockLease(ctx, tx, tenant, session, "SHARE")
		if err != nil {
			return err
		}
		if !found || l.fence == 0 {
			return apiErr(http.StatusConflict, CodeLeaseRequired, "session %q has never been leased: acquire its lease before writing", session)
		}
		if l.fence != fence || l.holder == "" {
			return lost(l, session, fence)
		}
		return write(tx)
	})
}
