//go:build !js

package core

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// keptStorage outlives its clients, as a browser's IndexedDB outlives a
// page: a client destroyed and made again finds the session (a reload).
// failCommits makes every commit fail (a full quota, a closed database).
type keptStorage struct {
	mu          sync.Mutex
	b           *memkv.Backend
	failCommits atomic.Bool
	opened      atomic.Int32
	onScan      atomic.Pointer[func(table string)] // told of every Scan
}

func newKeptStorage() *keptStorage { return &keptStorage{b: memkv.New()} }

var errQuota = errors.New("QuotaExceededError: the quota has been exceeded")

type keptBackend struct {
	*memkv.Backend
	s *keptStorage
}

func (k keptBackend) Commit(ctx context.Context, ops []kv.Op) error {
	if k.s.failCommits.Load() {
		return errQuota
	}
	return k.Backend.Commit(ctx, ops)
}

func (k keptBackend) Scan(ctx context.Context, table, prefix string) ([]kv.Pair, error) {
	if f := k.s.onScan.Load(); f != nil {
		(*f)(table)
	}
	return k.Backend.Scan(ctx, table, prefix)
}

func (keptBackend) Close() error { return nil } // the data stays for the next client

func (s *keptStorage) Open(context.Context) (kv.Backend, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opened.Add(1)
	return keptBackend{s.b, s}, nil
}

func (s *keptStorage) Clear(context.Context) error { return nil }

func (s *keptStorage) Remove(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = memkv.New()
	return nil
}

func (s *keptStorage) Release() {}

// empty reports whether the storage holds no record of any table.
func (s *keptStorage) empty() bool {
	s.mu.Lock()
	b := s.b
	s.mu.Unlock()
	for _, table := range idbstore.Tables {
		if pairs, err := b.Scan(context.Background(), table, ""); err != nil || len(pairs) > 0 {
			return false
		}
	}
	return true
}
