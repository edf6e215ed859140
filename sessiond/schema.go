package sessiond

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The schema is upgraded in numbered steps, each in its own transaction,
// the way whatsmeow's sqlstore does (sessiond_version holds the number of
// steps applied). Append new steps; never edit an applied one.
var upgrades = []func(context.Context, pgx.Tx) error{
	upgradeV1,
}

// SchemaVersion is the version a database has once Upgrade ran.
var SchemaVersion = len(upgrades)

// upgradeLock serialises Upgrade between services starting together.
const upgradeLock = 0x7761736d656f77 // "wasmeow"

// Upgrade brings the database to SchemaVersion; a database newer than this
// program is refused.
func Upgrade(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("schema upgrade: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, upgradeLock); err != nil {
		return fmt.Errorf("schema upgrade: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, upgradeLock) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS sessiond_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("schema upgrade: %w", err)
	}
	var version int
	err = conn.QueryRow(ctx, `SELECT version FROM sessiond_version`).Scan(&version)
	if err == pgx.ErrNoRows {
		if _, err = conn.Exec(ctx, `INSERT INTO sessiond_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("schema upgrade: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("schema upgrade: reading the version: %w", err)
	}
	if version > SchemaVersion {
		return fmt.Errorf("schema upgrade: the database is at version %d, newer than this program's %d", version, SchemaVersion)
	}
	for v := version; v < SchemaVersion; v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if err := upgrades[v](ctx, tx); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE sessiond_version SET version = $1`, v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("schema upgrade to version %d: %w", v+1, err)
		}
	}
	return nil
}

// upgradeV1: tenants, leases and the two strategies' data. A lease row is
// never deleted, so a session's fence only ever grows.
func upgradeV1(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `
CREATE TABLE sessiond_tenants (
	name         TEXT PRIMARY KEY,
	token_sha256 BYTEA NOT NULL UNIQUE,
	mode         TEXT NOT NULL CHECK (mode IN ('native', 'e2e')),
	created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE sessiond_leases (
	tenant     TEXT NOT NULL REFERENCES sessiond_tenants(name) ON DELETE CASCADE,
	session    TEXT NOT NULL,
	holder     TEXT NOT NULL,
	fence      BIGINT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant, session)
);
CREATE TABLE sessiond_snapshots (
	tenant   TEXT NOT NULL REFERENCES sessiond_tenants(name) ON DELETE CASCADE,
	session  TEXT NOT NULL,
	data     BYTEA NOT NULL,
	fence    BIGINT NOT NULL,
	saved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant, session)
);
CREATE TABLE sessiond_keys (
	tenant  TEXT NOT NULL REFERENCES sessiond_tenants(name) ON DELETE CASCADE,
	session TEXT NOT NULL,
	type    BYTEA NOT NULL, -- bytes: wasmeow's ids join their parts with NUL,
	id      BYTEA NOT NULL, -- which TEXT cannot hold
	value   BYTEA NOT NULL,
	PRIMARY KEY (tenant, session, type, id)
);
CREATE TABLE sessiond_creds (
	tenant   TEXT NOT NULL REFERENCES sessiond_tenants(name) ON DELETE CASCADE,
	session  TEXT NOT NULL,
	data     BYTEA NOT NULL,
	saved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant, session)
);`)
	return err
}
