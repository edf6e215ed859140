//go:build js

package storebench_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/idbstore/storebench"
	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/kv/idbkv"
)

var dbSeq atomic.Int64

// idbOpener opens idbstore on a fresh IndexedDB database (strict durability,
// the default), deleted when the test ends.
func idbOpener(tb testing.TB) tracetest.Opener {
	name := fmt.Sprintf("storebench:%s:%d:%d", tb.Name(), time.Now().UnixNano(), dbSeq.Add(1))
	tb.Cleanup(func() {
		if err := idbkv.Delete(context.Background(), name); err != nil {
			tb.Errorf("delete database %s: %v", name, err)
		}
	})
	return func(ctx context.Context) (tracetest.Container, error) {
		b, err := idbkv.Open(ctx, idbkv.Options{Name: name, Tables: idbstore.Tables})
		if err != nil {
			return nil, err
		}
		c, err := idbstore.New(ctx, b, nil)
		if err != nil {
			b.Close()
			return nil, err
		}
		return c, nil
	}
}

func TestWorkloadsOnIDBStoreIndexedDB(t *testing.T) {
	checkWorkloads(t, func(t *testing.T) tracetest.Opener { return idbOpener(t) })
}

// BenchmarkStores is the browser line of cmd/bench: idbstore on IndexedDB.
func BenchmarkStores(b *testing.B) {
	storebench.Run(b, func(b *testing.B) tracetest.Opener { return idbOpener(b) })
}
