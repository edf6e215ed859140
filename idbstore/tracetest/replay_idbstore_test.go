//go:build !js

package tracetest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// keepOpen lets a container close its backend without losing the data, so
// that Reopen finds it again (what IndexedDB does across a page reload).
type keepOpen struct{ kv.Backend }

func (keepOpen) Close() error { return nil }

func memOpener(t *testing.T) tracetest.Opener {
	mem := memkv.New()
	t.Cleanup(func() { mem.Close() })
	return func(ctx context.Context) (tracetest.Container, error) {
		return idbstore.New(ctx, keepOpen{mem}, nil)
	}
}

// idbstore on the memory backend must give sqlstore's results call for call.
func TestReplayTracesOnIDBStoreMemKV(t *testing.T) {
	tracetest.ReplayDir(t, memOpener, traceDir)
}

// slowBackend delays every backend call a little, as IndexedDB's event-loop
// round trips do, so that group commits overlap with later calls and reads of
// the backend race with writes still queued: the cache must stay coherent.
type slowBackend struct {
	kv.Backend
	n atomic.Uint64
}

func (s *slowBackend) pause(max time.Duration) {
	// A cheap deterministic jitter: every call a different delay.
	d := time.Duration(s.n.Add(0x9e3779b97f4a7c15)>>40) % max
	time.Sleep(d)
}

func (s *slowBackend) Get(ctx context.Context, table string, keys []string) ([][]byte, error) {
	s.pause(300 * time.Microsecond)
	return s.Backend.Get(ctx, table, keys)
}

func (s *slowBackend) Scan(ctx context.Context, table, prefix string) ([]kv.Pair, error) {
	s.pause(300 * time.Microsecond)
	return s.Backend.Scan(ctx, table, prefix)
}

func (s *slowBackend) Commit(ctx context.Context, ops []kv.Op) error {
	s.pause(2 * time.Millisecond)
	return s.Backend.Commit(ctx, ops)
}

func (s *slowBackend) Close() error { return nil }

func TestReplayTracesOnIDBStoreSlowBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	tracetest.ReplayDir(t, func(t *testing.T) tracetest.Opener {
		mem := memkv.New()
		t.Cleanup(func() { mem.Close() })
		slow := &slowBackend{Backend: mem}
		return func(ctx context.Context) (tracetest.Container, error) {
			return idbstore.New(ctx, slow, nil)
		}
	}, traceDir)
}
