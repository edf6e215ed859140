//go:build js

package tracetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv/idbkv"
)

var indexedDBSeq atomic.Int64

// IndexedDBOpener opens idbstore on a fresh IndexedDB database named after
// prefix and the test (strict durability, idbkv's default), deleted when the
// test ends. Every call of the Opener opens the same database again, as a
// page reload does.
func IndexedDBOpener(tb testing.TB, prefix string) Opener {
	name := fmt.Sprintf("%s:%s:%d:%d", prefix, tb.Name(), time.Now().UnixNano(), indexedDBSeq.Add(1))
	tb.Cleanup(func() {
		if err := idbkv.Delete(context.Background(), name); err != nil {
			tb.Errorf("delete database %s: %v", name, err)
		}
	})
	return func(ctx context.Context) (Container, error) {
		b, err := idbkv.Open(ctx, idbkv.Options{Name: name, Tables: idbstore.BackendTables})
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
