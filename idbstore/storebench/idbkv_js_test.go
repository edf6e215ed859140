//go:build js

package storebench_test

import (
	"testing"

	"github.com/wasmeow/wasmeow/idbstore/storebench"
	"github.com/wasmeow/wasmeow/idbstore/tracetest"
)

func idbOpener(tb testing.TB) tracetest.Opener { return tracetest.IndexedDBOpener(tb, "storebench") }

func TestWorkloadsOnIDBStoreIndexedDB(t *testing.T) {
	checkWorkloads(t, func(t *testing.T) tracetest.Opener { return idbOpener(t) })
}

// BenchmarkStores is the browser line of cmd/bench: idbstore on IndexedDB.
func BenchmarkStores(b *testing.B) {
	storebench.Run(b, func(b *testing.B) tracetest.Opener { return idbOpener(b) })
}
