//go:build !js

package tracetest_test

import (
	"context"
	"testing"

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
