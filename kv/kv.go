// Package kv is the small storage contract under wasmeow's whatsmeow stores:
// named tables of ordered string keys and opaque byte values, read by key or
// by prefix, written in atomic batches. idbstore implements whatsmeow's store
// semantics once, on top of it; the backends are memory (memkv), IndexedDB
// (idbkv) and a user's Baileys-shaped JS key store (jskv).
package kv

import (
	"context"
	"errors"
)

// Pair is one record of a table.
type Pair struct {
	Key   string
	Value []byte
}

// Op is one write of a batch: Value is stored under Table/Key, or, when
// Delete is set, the record is removed (deleting a missing key is no error).
type Op struct {
	Table  string
	Key    string
	Value  []byte
	Delete bool
}

// Backend stores tables. Keys order bytewise. Implementations must be safe
// for concurrent use and must not keep references to the slices they are
// given or return.
type Backend interface {
	// Get returns the values of keys in table, in the same order, with nil
	// where a key is absent.
	Get(ctx context.Context, table string, keys []string) ([][]byte, error)
	// Scan returns every record of table whose key starts with prefix
	// ("" for all), in key order.
	Scan(ctx context.Context, table, prefix string) ([]Pair, error)
	// Commit applies ops atomically and durably: all of them or none.
	Commit(ctx context.Context, ops []Op) error
	// Close releases the backend; later calls fail with ErrClosed.
	Close() error
}

// ErrClosed is returned (wrapped) by calls on a closed backend.
var ErrClosed = errors.New("kv: backend is closed")
