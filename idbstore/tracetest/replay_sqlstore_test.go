//go:build !js

package tracetest_test

import (
	"testing"

	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/idbstore/tracetest/sqlref"
)

const traceDir = "../testdata/traces"

// The reference replays its own traces: this proves the harness (recording
// and replay are deterministic, nothing random leaks into a result).
func TestReplayTracesOnSQLStore(t *testing.T) {
	tracetest.ReplayDir(t, func(t *testing.T) tracetest.Opener { return sqlref.Opener(t.TempDir()) }, traceDir)
}
