package tracetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// Mismatch is one call whose result differs from the trace.
type Mismatch struct {
	File    string
	Line    int // line of the trace file (the header is line 1)
	Call    Line
	Got     json.RawMessage
	GotErr  string
	Harness error // the call could not be run at all
}

func (m *Mismatch) Error() string {
	args := string(m.Call.Args)
	if len(args) > 400 {
		args = args[:400] + "…"
	}
	if m.Harness != nil {
		return fmt.Sprintf("%s:%d: call %d %s(dev %d, %s) could not run: %v", m.File, m.Line, m.Call.N, m.Call.Op, m.Call.Dev, args, m.Harness)
	}
	return fmt.Sprintf("%s:%d: call %d %s(dev %d, %s) differs\n  got:  %s err=%q\n  want: %s err=%q",
		m.File, m.Line, m.Call.N, m.Call.Op, m.Call.Dev, args, clip(m.Got), m.GotErr, clip(m.Call.Res), m.Call.Err)
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// Equal reports whether a result matches the recorded one: the same canonical
// JSON, and an error exactly when the trace has one (error texts differ
// between stores and are not compared).
func Equal(want Line, got json.RawMessage, gotErr string) bool {
	if (want.Err != "") != (gotErr != "") {
		return false
	}
	var a, b bytes.Buffer
	if json.Compact(&a, want.Res) != nil || json.Compact(&b, got) != nil {
		return false
	}
	return bytes.Equal(a.Bytes(), b.Bytes())
}

// Check replays the trace file at path against the store that open returns and
// returns the mismatches, stopping after max of them (max <= 0: the first).
// After a mismatch the two stores' states may have drifted apart, so only the
// first one is certain; later ones are a survey.
func Check(ctx context.Context, open Opener, path string, max int) ([]*Mismatch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	h, lines, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return CheckLines(ctx, open, filepath.Base(path), h, lines, max)
}

// CheckLines is Check on a trace already read.
func CheckLines(ctx context.Context, open Opener, name string, h Header, lines []Line, max int) (out []*Mismatch, err error) {
	if max <= 0 {
		max = 1
	}
	e, err := NewEnv(ctx, open, len(h.Slots))
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := e.Close(); cerr != nil && err == nil && len(out) == 0 {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()
	for _, l := range lines {
		res, errText, herr := e.Exec(ctx, l.Op, l.Dev, l.Args)
		if herr != nil || !Equal(l, res, errText) {
			out = append(out, &Mismatch{File: name, Line: l.LineNo, Call: l, Got: res, GotErr: errText, Harness: herr})
			if len(out) >= max || herr != nil {
				return out, nil
			}
		}
	}
	return out, nil
}

// Replay replays the trace file at path against the store that open returns
// and fails t at the first call whose result differs, naming the file line,
// the call and both results.
func Replay(t testing.TB, open Opener, path string) {
	t.Helper()
	ms, err := Check(context.Background(), open, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) > 0 {
		t.Fatal(ms[0].Error())
	}
}

// Files lists the trace files (*.jsonl) of dir, sorted.
func Files(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

// ReplayDir runs Replay on every trace file of dir as a subtest.
func ReplayDir(t *testing.T, open func(t *testing.T) Opener, dir string) {
	t.Helper()
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no trace files in %s", dir)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			Replay(t, open(t), path)
		})
	}
}
