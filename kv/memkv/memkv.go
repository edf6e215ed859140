// Package memkv is an in-memory kv.Backend: wasmeow's "none" strategy, and the
// fast native stand-in for IndexedDB in tests.
package memkv

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/wasmeow/wasmeow/kv"
)

// Backend keeps every table in maps; it is lost with the process.
type Backend struct {
	mu     sync.RWMutex
	tables map[string]map[string][]byte
	closed bool
}

var _ kv.Backend = (*Backend)(nil)

// New returns an empty backend.
func New() *Backend {
	return &Backend{tables: make(map[string]map[string][]byte)}
}

func (b *Backend) Get(_ context.Context, table string, keys []string) ([][]byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, fmt.Errorf("memkv get %s: %w", table, kv.ErrClosed)
	}
	out := make([][]byte, len(keys))
	t := b.tables[table]
	for i, k := range keys {
		if v, ok := t[k]; ok {
			out[i] = slices.Clone(v)
		}
	}
	return out, nil
}

func (b *Backend) Scan(_ context.Context, table, prefix string) ([]kv.Pair, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, fmt.Errorf("memkv scan %s: %w", table, kv.ErrClosed)
	}
	var out []kv.Pair
	for k, v := range b.tables[table] {
		if strings.HasPrefix(k, prefix) {
			out = append(out, kv.Pair{Key: k, Value: slices.Clone(v)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (b *Backend) Commit(_ context.Context, ops []kv.Op) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("memkv commit: %w", kv.ErrClosed)
	}
	for _, op := range ops {
		t := b.tables[op.Table]
		if op.Delete {
			delete(t, op.Key)
			continue
		}
		if t == nil {
			t = make(map[string][]byte)
			b.tables[op.Table] = t
		}
		t[op.Key] = slices.Clone(op.Value)
	}
	return nil
}

func (b *Backend) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}
