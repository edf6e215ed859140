// Package snapshot captures a wasmeow session (every record of every kv
// table) into one versioned, self-describing blob and restores it. The
// remote auth strategy saves these blobs to the user's store; the format is
// documented in docs/SNAPSHOT.md, and a change to it must bump Version.
package snapshot

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/wasmeow/wasmeow/kv"
)

// Format names the blob so that a wrong file is recognised as such.
const Format = "wasmeow-session"

// Version is the current format version; Decode refuses any other.
const Version = 1

// maxDecoded bounds decompression so a hostile blob cannot exhaust memory.
const maxDecoded = 256 << 20

// Snapshot is one session at one moment.
type Snapshot struct {
	Format   string                 `json:"format"`
	Version  int                    `json:"version"`
	ClientID string                 `json:"clientId"`
	SavedAt  time.Time              `json:"savedAt"`
	Tables   map[string][]kv.Pair   `json:"-"`
	Raw      map[string][][2][]byte `json:"tables"` // table -> [[key, value], ...] (JSON: base64 strings)
}

// ErrFormat is wrapped by every Decode error about the blob's content.
var ErrFormat = errors.New("not a valid wasmeow session snapshot")

// Capture reads every record of tables from b.
func Capture(ctx context.Context, b kv.Backend, clientID string, tables []string) (*Snapshot, error) {
	s := &Snapshot{Format: Format, Version: Version, ClientID: clientID, SavedAt: time.Now().UTC(), Tables: map[string][]kv.Pair{}}
	for _, t := range tables {
		pairs, err := b.Scan(ctx, t, "")
		if err != nil {
			return nil, fmt.Errorf("snapshot: reading table %s: %w", t, err)
		}
		if len(pairs) > 0 {
			s.Tables[t] = pairs
		}
	}
	return s, nil
}

// Records counts the records in s.
func (s *Snapshot) Records() int {
	n := 0
	for _, ps := range s.Tables {
		n += len(ps)
	}
	return n
}

// Encode serialises s as gzip-compressed JSON.
func (s *Snapshot) Encode() ([]byte, error) {
	out := *s
	out.Format, out.Version = Format, Version
	out.Raw = make(map[string][][2][]byte, len(s.Tables))
	for t, ps := range s.Tables {
		recs := make([][2][]byte, len(ps))
		for i, p := range ps {
			recs[i] = [2][]byte{[]byte(p.Key), p.Value}
		}
		out.Raw[t] = recs
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(&out); err != nil {
		return nil, fmt.Errorf("snapshot: encoding: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("snapshot: compressing: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode parses a blob made by Encode, checking its format name, version and
// that every table is one of known (when known is not nil).
func Decode(data []byte, known []string) (*Snapshot, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip data (%d bytes): %v", ErrFormat, len(data), err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxDecoded+1))
	if err != nil {
		return nil, fmt.Errorf("%w: decompressing: %v", ErrFormat, err)
	}
	if len(raw) > maxDecoded {
		return nil, fmt.Errorf("%w: larger than %d bytes decompressed", ErrFormat, maxDecoded)
	}
	var s Snapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: decoding JSON: %v", ErrFormat, err)
	}
	if s.Format != Format {
		return nil, fmt.Errorf("%w: format is %q, want %q", ErrFormat, s.Format, Format)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("%w: version %d is not supported (this build reads version %d)", ErrFormat, s.Version, Version)
	}
	s.Tables = make(map[string][]kv.Pair, len(s.Raw))
	for t, recs := range s.Raw {
		if known != nil && !slices.Contains(known, t) {
			return nil, fmt.Errorf("%w: unknown table %q", ErrFormat, t)
		}
		ps := make([]kv.Pair, len(recs))
		for i, r := range recs {
			if r[1] == nil {
				r[1] = []byte{}
			}
			ps[i] = kv.Pair{Key: string(r[0]), Value: r[1]}
		}
		s.Tables[t] = ps
	}
	s.Raw = nil
	return &s, nil
}

// Restore writes every record of s into b in one atomic commit.
func (s *Snapshot) Restore(ctx context.Context, b kv.Backend) error {
	var ops []kv.Op
	_ = s.Validate(func(t, k string, v []byte) error {
		ops = append(ops, kv.Op{Table: t, Key: k, Value: v})
		return nil
	})
	if len(ops) == 0 {
		return nil
	}
	if err := b.Commit(ctx, ops); err != nil {
		return fmt.Errorf("snapshot: restoring %d records: %w", len(ops), err)
	}
	return nil
}

// Validate calls check on every record (tables in name order), and returns
// the first error: an import decodes everything before it commits anything.
func (s *Snapshot) Validate(check func(table, key string, value []byte) error) error {
	tables := make([]string, 0, len(s.Tables))
	for t := range s.Tables {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		for _, p := range s.Tables[t] {
			if err := check(t, p.Key, p.Value); err != nil {
				return err
			}
		}
	}
	return nil
}
