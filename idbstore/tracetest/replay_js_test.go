//go:build js

package tracetest_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/kv/idbkv"
)

// wasmbrowsertest gives the test binary the files of the machine (relative to
// the package directory), so the committed traces are read as they are;
// TRACE_DIR selects others.
var traceDir = cmp.Or(os.Getenv("TRACE_DIR"), "../testdata/traces")

var dbSeq atomic.Int64

// idbOpener opens idbstore on a fresh IndexedDB database; every Reopen opens
// the same database again, as a page reload does.
func idbOpener(t *testing.T) tracetest.Opener {
	name := fmt.Sprintf("tracetest:%s:%d:%d", t.Name(), time.Now().UnixNano(), dbSeq.Add(1))
	t.Cleanup(func() {
		if err := idbkv.Delete(context.Background(), name); err != nil {
			t.Errorf("delete database %s: %v", name, err)
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

// idbstore on IndexedDB in the browser must give sqlstore's results call for
// call, across closes and reopens of the database.
func TestReplayTracesOnIDBStoreIndexedDB(t *testing.T) {
	tracetest.ReplayDir(t, idbOpener, traceDir)
}
