//go:build js

package tracetest_test

import (
	"cmp"
	"os"
	"testing"

	"github.com/wasmeow/wasmeow/idbstore/tracetest"
)

// wasmbrowsertest gives the test binary the files of the machine (relative to
// the package directory), so the committed traces are read as they are;
// TRACE_DIR selects others.
var traceDir = cmp.Or(os.Getenv("TRACE_DIR"), "../testdata/traces")

func idbOpener(t *testing.T) tracetest.Opener { return tracetest.IndexedDBOpener(t, "tracetest") }

// idbstore on IndexedDB in the browser must give sqlstore's results call for
// call, across closes and reopens of the database.
func TestReplayTracesOnIDBStoreIndexedDB(t *testing.T) {
	tracetest.ReplayDir(t, idbOpener, traceDir)
}
