// Package sessiond is wasmeow's session service for a fleet of browsers:
// the remote strategy's snapshot store and the custom strategy's key store
// over HTTP, per tenant with bearer tokens, on PostgreSQL, with leases so
// that a session runs in one place at a time (docs/FLEET.md).
package sessiond

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Limits bound what one request may carry.
type Limits struct {
	MaxBody    int64         // bytes of a request body (a snapshot, creds, a keys batch as JSON)
	MaxValue   int           // bytes of one key value
	MaxBatch   int           // entries of one keys.set or ids of one keys.get
	MaxIDLen   int           // bytes of a key id
	MaxTypeLen int           // bytes of a key type
	MinTTL     time.Duration // shortest lease time to live
	MaxTTL     time.Duration // longest lease time to live
}

// DefaultLimits fit a WhatsApp session: a snapshot of a busy account is a
// few MB, the largest values (app-state MAC patches) tens of kB.
var DefaultLimits = Limits{
	MaxBody:    32 << 20,
	MaxValue:   4 << 20,
	MaxBatch:   50000,
	MaxIDLen:   512,
	MaxTypeLen: 64,
	MinTTL:     500 * time.Millisecond,
	MaxTTL:     10 * time.Minute,
}

// Service is the session service over one database.
type Service struct {
	pool   *pgxpool.Pool
	Limits Limits
	// AllowOrigin is the Access-Control-Allow-Origin answered to browsers
	// ("*" by default: requests carry a bearer token, never cookies).
	AllowOrigin string
	// MetricsToken, when set, is the bearer token of GET /metrics (the
	// service's counters and latencies); without it there is no such route.
	MetricsToken string
	metrics      *Metrics
}

// Open connects to the database at dsn (a PostgreSQL URL or key=value
// string; pool size by pool_max_conns) and upgrades its schema.
func Open(ctx context.Context, dsn string) (*Service, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database address: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	if err := Upgrade(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Service{pool: pool, Limits: DefaultLimits, AllowOrigin: "*", metrics: newMetrics()}, nil
}

// Close closes the database pool.
func (s *Service) Close() { s.pool.Close() }
