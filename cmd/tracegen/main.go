// Command tracegen records store traces: it drives whatsmeow's sqlstore (the
// reference, on SQLite in a temporary directory) with a seeded random
// sequence of calls covering every store method and writes each call with its
// result to <out>/seed-<N>.jsonl. The replayer in idbstore/tracetest checks
// other stores against these files. The trace format is described in
// idbstore/tracetest/doc.go.
//
//	go run ./cmd/tracegen -seed 6 -calls 2000 -out idbstore/testdata/traces
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/idbstore/tracetest/sqlref"
)

func main() {
	seed := flag.Uint64("seed", 0, "seed of a single trace (0: every seed of -seeds)")
	seeds := flag.String("seeds", "1-5", "range of seeds, FROM-TO, used when -seed is 0")
	calls := flag.Int("calls", 2000, "calls per trace")
	out := flag.String("out", "idbstore/testdata/traces", "directory the trace files are written to")
	flag.Parse()

	list := []uint64{*seed}
	if *seed == 0 {
		var err error
		if list, err = parseRange(*seeds); err != nil {
			fail(err)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	total := map[string]int{}
	for _, s := range list {
		count, err := generate(s, *calls, *out)
		if err != nil {
			fail(fmt.Errorf("seed %d: %w", s, err))
		}
		for k, v := range count {
			total[k] += v
		}
	}
	fmt.Printf("calls per method over %d trace(s):\n", len(list))
	for _, m := range tracetest.Methods() {
		fmt.Printf("  %-28s %6d\n", m, total[m])
	}
	if err := tracetest.CheckCoverage(total); err != nil {
		fail(err)
	}
}

func generate(seed uint64, calls int, outDir string) (map[string]int, error) {
	dir, err := os.MkdirTemp("", "tracegen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(outDir, fmt.Sprintf("seed-%04d.jsonl", seed))
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	count, err := tracetest.Generate(context.Background(), sqlref.Opener(dir), seed, calls, sqlref.Reference, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return count, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return count, err
	}
	fmt.Printf("wrote %s (%d calls)\n", path, calls)
	return count, nil
}

func parseRange(s string) ([]uint64, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		to = from
	}
	a, err1 := strconv.ParseUint(from, 10, 64)
	b, err2 := strconv.ParseUint(to, 10, 64)
	if err1 != nil || err2 != nil || a == 0 || b < a {
		return nil, fmt.Errorf("bad -seeds %q: want FROM-TO with 1 <= FROM <= TO", s)
	}
	var out []uint64
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tracegen:", err)
	os.Exit(1)
}
