package sessiond

import (
	"context"
	"errors"
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
	for {
		done, err := upgradeStep(ctx, pool)
		if err != nil || done {
			return err
		}
	}
}

// upgradeStep applies the next step, if any, in one transaction that holds
// the upgrade lock. The lock is transaction-level (pg_advisory_xact_lock,
// released by the commit): nothing here outlives a transaction, so the
// service works through a pooler in transaction mode such as PgBouncer's,
// which gives each transaction whichever server connection is free.
func upgradeStep(ctx context.Context, pool *pgxpool.Pool) (done bool, err error) {
	next := 0
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, upgradeLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS sessiond_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		version := 0
		err := tx.QueryRow(ctx, `SELECT version FROM sessiond_version`).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO sessiond_version (version) VALUES (0)`)
		}
		if err != nil {
			return fmt.Errorf("reading the version: %w", err)
		}
		if version > SchemaVersion {
			return fmt.Errorf("the database is at version %d, newer than this program's %d", version, SchemaVersion)
		}
		if done = version == SchemaVersion; done {
			return nil
		}
		next = version + 1
		if err := upgrades[version](ctx, tx); err != nil {
			return fmt.Errorf("to version %d: %w", next, err)
		}
		_, err = tx.Exec(ctx, `UPDATE sessiond_version SET version = $1`, next)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("schema upgrade: %w", err)
	}
	return done, nil
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
