//go:build !js

// Package sqlref opens whatsmeow's own sqlstore on a SQLite file: the
// reference implementation that traces are recorded from and that the
// replayer checks itself against.
package sqlref

import (
	"context"
	"fmt"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver sqlstore uses here
	"go.mau.fi/whatsmeow/store/sqlstore"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/idbstore/tracetest"
)

// Reference names the reference store in trace headers.
const Reference = "go.mau.fi/whatsmeow@v0.0.0-20251217143725-11cf47c62d32 store/sqlstore, sqlite3 (WAL)"

// Opener returns a tracetest.Opener for a SQLite database at dir/store.db,
// in WAL mode with foreign keys on, as whatsmeow recommends. Every call
// opens the same file again.
func Opener(dir string) tracetest.Opener {
	return func(ctx context.Context) (tracetest.Container, error) {
		return Open(ctx, filepath.Join(dir, "store.db"))
	}
}

// Open opens (creating or upgrading) a sqlstore container on the file path.
func Open(ctx context.Context, path string) (*sqlstore.Container, error) {
	c, err := sqlstore.New(ctx, "sqlite3", "file:"+path+"?_foreign_keys=on&_journal_mode=WAL", waLog.Noop)
	if err != nil {
		return nil, fmt.Errorf("sqlstore on %s: %w", path, err)
	}
	return c, nil
}
