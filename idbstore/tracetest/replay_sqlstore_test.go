//go:build !js

package tracetest_test

import (
	"cmp"
	"os"
	"testing"

	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/idbstore/tracetest/sqlref"
)

// traceDir is the committed traces, or TRACE_DIR when set (to replay traces
// made with other seeds: go run ./cmd/tracegen -seeds 6-50 -out /tmp/traces).
var traceDir = cmp.Or(os.Getenv("TRACE_DIR"), "../testdata/traces")

// The reference replays its own traces: this proves the harness (recording
// and replay are deterministic, nothing random leaks into a result).
func TestReplayTracesOnSQLStore(t *testing.T) {
	tracetest.ReplayDir(t, func(t *testing.T) tracetest.Opener { return sqlref.Opener(t.TempDir()) }, traceDir)
}
