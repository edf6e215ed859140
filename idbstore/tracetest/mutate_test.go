//go:build !js

package tracetest_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/idbstore/tracetest/sqlref"
)

// committedTraces are the traces in the repository: the harness tests below
// read them whatever TRACE_DIR says.
const committedTraces = "../testdata/traces"

// The harness must be able to fail: a trace with one result changed has to be
// reported at exactly that line, against the very store that recorded it.
func TestReplayReportsMutatedLine(t *testing.T) {
	src := filepath.Join(committedTraces, "seed-0001.jsonl")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		pick   func(l tracetest.Line) bool
		mutate func(l *tracetest.Line)
	}{
		{"session bytes", func(l tracetest.Line) bool {
			return l.Op == "GetSession" && string(l.Res) != "null" && l.N > 500
		}, func(l *tracetest.Line) {
			s := string(l.Res)
			c := "0"
			if s[1] == '0' {
				c = "1"
			}
			l.Res = json.RawMessage(`"` + c + s[2:])
		}},
		{"count", func(l tracetest.Line) bool { return l.Op == "UploadedPreKeyCount" && l.N > 300 }, func(l *tracetest.Line) {
			l.Res = json.RawMessage("123456")
		}},
		{"error expected", func(l tracetest.Line) bool { return l.Op == "PutSession" && l.N > 1000 }, func(l *tracetest.Line) {
			l.Err = "some failure"
		}},
		{"error not expected", func(l tracetest.Line) bool { return l.Op == "DoDecryptionTxn" && l.Err != "" }, func(l *tracetest.Line) {
			l.Err = ""
		}},
		{"device record", func(l tracetest.Line) bool { return l.Op == "GetAllDevices" && l.N > 100 }, func(l *tracetest.Line) {
			l.Res = json.RawMessage(strings.Replace(string(l.Res), `"platform":"`, `"platform":"x`, 1))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text, lineNo := mutate(t, raw, tc.pick, tc.mutate)
			path := filepath.Join(t.TempDir(), "mutated.jsonl")
			if err := os.WriteFile(path, text, 0o644); err != nil {
				t.Fatal(err)
			}
			ms, err := tracetest.Check(context.Background(), sqlref.Opener(t.TempDir()), path, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 {
				t.Fatalf("mutated line %d not reported", lineNo)
			}
			if ms[0].Line != lineNo {
				t.Fatalf("reported line %d, mutated line %d: %v", ms[0].Line, lineNo, ms[0])
			}
			msg := ms[0].Error()
			if !strings.Contains(msg, "mutated.jsonl:") || !strings.Contains(msg, ms[0].Call.Op) || !strings.Contains(msg, "want:") {
				t.Fatalf("report does not name the file, call and results: %s", msg)
			}
		})
	}
}

// A call the replayer cannot run (unknown method) is reported, not skipped.
func TestReplayReportsUnknownMethod(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(committedTraces, "seed-0002.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	text, lineNo := mutate(t, raw, func(l tracetest.Line) bool { return l.N == 50 }, func(l *tracetest.Line) { l.Op = "NoSuchMethod" })
	path := filepath.Join(t.TempDir(), "unknown.jsonl")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	ms, err := tracetest.Check(context.Background(), sqlref.Opener(t.TempDir()), path, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Line != lineNo || ms[0].Harness == nil {
		t.Fatalf("want one harness failure at line %d, got %v", lineNo, ms)
	}
}

func TestReadRejectsOtherVersion(t *testing.T) {
	_, _, err := tracetest.Read(strings.NewReader(`{"format":"wasmeow-store-trace","version":99}` + "\n"))
	if err == nil {
		t.Fatal("trace of another version accepted")
	}
	_, _, err = tracetest.Read(strings.NewReader(""))
	if err == nil {
		t.Fatal("empty trace accepted")
	}
}

// Coverage: the committed traces call every method at least once.
func TestTracesCoverEveryMethod(t *testing.T) {
	files, err := tracetest.Files(committedTraces)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("%d trace files, want at least 5", len(files))
	}
	count := map[string]int{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		h, lines, err := tracetest.Read(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) < 2000 || h.Calls != len(lines) {
			t.Fatalf("%s: %d calls (header says %d), want 2000 or more", path, len(lines), h.Calls)
		}
		for _, l := range lines {
			count[l.Op]++
		}
	}
	if err := tracetest.CheckCoverage(count); err != nil {
		t.Fatal(err)
	}
}

// mutate rewrites the first call that pick selects and returns the new file
// and the mutated line number.
func mutate(t *testing.T, raw []byte, pick func(tracetest.Line) bool, change func(*tracetest.Line)) ([]byte, int) {
	t.Helper()
	rows := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	for i := 1; i < len(rows); i++ {
		var l tracetest.Line
		if err := json.Unmarshal([]byte(rows[i]), &l); err != nil {
			t.Fatal(err)
		}
		if !pick(l) {
			continue
		}
		change(&l)
		out, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = string(out)
		return []byte(strings.Join(rows, "\n") + "\n"), i + 1
	}
	t.Fatal("no line to mutate")
	return nil, 0
}
