// Command bench runs the store benchmarks of idbstore/storebench twice in one
// go, natively on whatsmeow's sqlstore (SQLite, WAL, in a temporary directory)
// and in headless chromium on idbstore over IndexedDB (a wasm test binary run
// by wasmbrowsertest, on chromium's on-disk profile), and prints one table:
// workload, sqlstore native, idbstore in chromium, ratio.
//
//	go run ./cmd/bench [-benchtime 10x] [-markdown]
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const pkg = "./idbstore/storebench/"

func main() {
	benchtime := flag.String("benchtime", "10x", "go test -benchtime for both runs")
	runner := flag.String("wasmbrowsertest", "", "wasmbrowsertest binary (default: .tools/bin, then GOPATH/bin, then PATH)")
	markdown := flag.Bool("markdown", false, "print the table as markdown")
	timeout := flag.Duration("timeout", 30*time.Minute, "limit for each run")
	flag.Parse()

	exe, err := findRunner(*runner)
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	fmt.Fprintln(os.Stderr, "bench: sqlstore, native …")
	native, err := runBench(ctx, *timeout, nil, *benchtime, "")
	if err != nil {
		fail(fmt.Errorf("native run: %w", err))
	}
	fmt.Fprintln(os.Stderr, "bench: idbstore in chromium (wasmbrowsertest) …")
	browser, err := runBench(ctx, *timeout, []string{"GOOS=js", "GOARCH=wasm"}, *benchtime, exe)
	if err != nil {
		fail(fmt.Errorf("browser run: %w", err))
	}
	fmt.Printf("benchtime %s, one op = the whole workload; sqlstore: SQLite WAL in a temporary directory; idbstore: %s, headless, on-disk profile, strict durability\n",
		*benchtime, browserVersion())
	printTable(native, browser, *markdown)
}

// browserVersion names the chromium the figures come from.
func browserVersion() string {
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if out, err := exec.Command(name, "--version").Output(); err == nil {
			return strings.TrimSpace(string(out))
		}
	}
	return "chromium (version unknown)"
}

// result is one parsed benchmark line: bench is "Stores" (the store on its
// real backend) or "StoresMemKV" (idbstore on memory: the CPU share).
type result struct {
	bench string
	name  string
	ns    float64
}

// Both runs use -cpu 1 (wasm has one thread anyway), so names carry no
// GOMAXPROCS suffix that could be confused with a workload's size.
var benchLine = regexp.MustCompile(`^Benchmark(Stores|StoresMemKV)/(\S+)\s+\d+\s+([\d.]+) ns/op`)

// parse reads `go test -bench` output and returns the BenchmarkStores lines
// in their order.
func parse(out []byte) []result {
	var rs []result
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		rs = append(rs, result{m[1], m[2], ns})
	}
	return rs
}

func runBench(ctx context.Context, timeout time.Duration, env []string, benchtime, execWith string) ([]result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	benches := "^BenchmarkStores$"
	if execWith != "" {
		// In the browser also idbstore on memory: how much of the time is
		// wasm CPU rather than IndexedDB.
		benches = "^BenchmarkStores(MemKV)?$"
	}
	args := []string{"test", "-count=1", "-run", "^$", "-bench", benches, "-benchtime", benchtime, "-cpu", "1", "-timeout", timeout.String()}
	if execWith != "" {
		args = append(args, "-exec", execWith)
	}
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	rs := parse(out)
	if err != nil || len(rs) == 0 {
		if err == nil {
			err = errors.New("no benchmark lines in the output")
		}
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(out, 40))
	}
	return rs, nil
}

// tail returns the last n lines of out, without wasmbrowsertest's chatter.
func tail(out []byte, n int) string {
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.Contains(l, "could not unmarshal event") {
			keep = append(keep, l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}

func findRunner(flagValue string) (string, error) {
	if flagValue != "" {
		return filepath.Abs(flagValue)
	}
	var candidates []string
	if wd, err := os.Getwd(); err == nil {
		candidates = append(candidates, filepath.Join(wd, ".tools", "bin", "wasmbrowsertest"))
	}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		candidates = append(candidates, filepath.Join(strings.TrimSpace(string(gopath)), "bin", "wasmbrowsertest"))
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	if p, err := exec.LookPath("wasmbrowsertest"); err == nil {
		return p, nil
	}
	return "", errors.New("wasmbrowsertest not found: run `make deps` or pass -wasmbrowsertest")
}

func printTable(native, browser []result, markdown bool) {
	idb, mem := map[string]float64{}, map[string]float64{}
	for _, r := range browser {
		if r.bench == "Stores" {
			idb[r.name] = r.ns
		} else {
			mem[r.name] = r.ns
		}
	}
	header := []string{"workload", "sqlstore native", "idbstore chromium", "ratio", "same on memkv (wasm CPU)"}
	rows := [][]string{}
	for _, r := range native {
		if r.bench != "Stores" {
			continue
		}
		row := []string{r.name, ms(r.ns), "-", "-", "-"}
		if b, ok := idb[r.name]; ok {
			row[2], row[3] = ms(b), fmt.Sprintf("%.2fx", b/r.ns)
		}
		if m, ok := mem[r.name]; ok {
			row[4] = ms(m)
		}
		rows = append(rows, row)
	}
	if markdown {
		fmt.Println("| " + strings.Join(header, " | ") + " |")
		fmt.Println("|---|---:|---:|---:|---:|")
		for _, row := range rows {
			fmt.Println("| " + strings.Join(row, " | ") + " |")
		}
		return
	}
	fmt.Printf("%-26s %16s %18s %8s %26s\n", header[0], header[1], header[2], header[3], header[4])
	for _, row := range rows {
		fmt.Printf("%-26s %16s %18s %8s %26s\n", row[0], row[1], row[2], row[3], row[4])
	}
}

func ms(ns float64) string { return fmt.Sprintf("%.2f ms", ns/1e6) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
