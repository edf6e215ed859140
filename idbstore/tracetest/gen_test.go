//go:build !js

package tracetest_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/idbstore/tracetest/sqlref"
)

// A seed fixes the whole trace: two runs on two fresh databases write the
// same bytes, and a different seed writes a different trace.
func TestGenerateIsDeterministic(t *testing.T) {
	ctx := context.Background()
	gen := func(seed uint64) []byte {
		var buf bytes.Buffer
		if _, err := tracetest.Generate(ctx, sqlref.Opener(t.TempDir()), seed, 400, sqlref.Reference, &buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b, c := gen(77), gen(77), gen(78)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different traces")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same trace")
	}
}

// The committed traces are what the generator writes today: if the generator
// changes, the traces must be regenerated (make traces).
func TestCommittedTracesAreCurrent(t *testing.T) {
	if os.Getenv("TRACE_DIR") != "" {
		t.Skip("TRACE_DIR set")
	}
	want, err := os.ReadFile(traceDir + "/seed-0003.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := tracetest.Generate(context.Background(), sqlref.Opener(t.TempDir()), 3, 2000, sqlref.Reference, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("seed-0003.jsonl differs from what cmd/tracegen writes now: regenerate the traces (make traces)")
	}
}
