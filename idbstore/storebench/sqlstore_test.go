//go:build !js

package storebench_test

import (
	"testing"

	"github.com/wasmeow/wasmeow/idbstore/storebench"
	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/idbstore/tracetest/sqlref"
)

func TestWorkloadsOnSQLStore(t *testing.T) {
	checkWorkloads(t, func(t *testing.T) tracetest.Opener { return sqlref.Opener(t.TempDir()) })
}

// BenchmarkStores is the reference line of cmd/bench: whatsmeow's sqlstore
// on a SQLite file (WAL) in a temporary directory.
func BenchmarkStores(b *testing.B) {
	storebench.Run(b, func(b *testing.B) tracetest.Opener { return sqlref.Opener(b.TempDir()) })
}
