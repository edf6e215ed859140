// Command sessiond-bench measures wasmeow-sessiond under many sessions at
// once: the service in-process on real HTTP over loopback, on a throwaway
// PostgreSQL (or -dsn), and one Go client per session playing what a page's
// httpKeyStore sends while its client receives messages: the lease (taken,
// then renewed every third of its TTL) and, per message, one keys.set (the
// Signal session record and an event-buffer entry, as the write barrier
// commits them) and, one message in ten, a keys.get of two records (a cache
// miss). It prints operations per second and latency percentiles.
//
//	go run ./cmd/sessiond-bench [-sessions 200] [-duration 20s] [-rate 0] [-pool 20]
//
// Not part of `make test`: `make bench-sessiond`.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/wasmeow/wasmeow/sessiond"
	"github.com/wasmeow/wasmeow/sessiond/pgtest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sessiond-bench:", err)
		os.Exit(1)
	}
}

// recorder keeps every latency of each kind of call.
type recorder struct {
	mu    sync.Mutex
	lat   map[string][]time.Duration
	fails map[string]int
}

func (r *recorder) add(kind string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.fails[kind]++
		return
	}
	r.lat[kind] = append(r.lat[kind], d)
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

func run() error {
	sessions := flag.Int("sessions", 200, "sessions, one client each")
	duration := flag.Duration("duration", 20*time.Second, "how long to measure")
	rate := flag.Float64("rate", 0, "messages per second per session (0: as fast as each client can)")
	pool := flag.Int("pool", 20, "PostgreSQL connections of the service (pool_max_conns)")
	dsn := flag.String("dsn", "", "an existing PostgreSQL (default: a throwaway one)")
	flag.Parse()
	ctx := context.Background()
	if *dsn == "" {
		pg, err := pgtest.Start(ctx)
		if err != nil {
			return err
		}
		defer pg.Stop()
		*dsn = pg.DSN()
	}
	svc, err := sessiond.Open(ctx, fmt.Sprintf("%s pool_max_conns=%d", *dsn, *pool))
	if err != nil {
		return err
	}
	defer svc.Close()
	token, err := svc.AddTenant(ctx, fmt.Sprintf("bench%d", time.Now().UnixNano()), sessiond.ModeNative)
	if err != nil {
		return err
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *sessions + 10}}
	call := func(path string, fence int64, body any) ([]byte, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+"/v1/sessions/"+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		if fence != 0 {
			req.Header.Set(sessiond.FenceHeader, fmt.Sprint(fence))
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			return nil, fmt.Errorf("%s: %d %s", path, res.StatusCode, out)
		}
		return out, nil
	}
	rec := &recorder{lat: map[string][]time.Duration{}, fails: map[string]int{}}
	timed := func(kind, path string, fence int64, body any) []byte {
		t := time.Now()
		out, err := call(path, fence, body)
		rec.add(kind, time.Since(t), err)
		return out
	}
	const ttl = 30000
	record := bytes.Repeat([]byte{0xa5}, 2048)
	event := bytes.Repeat([]byte{0x5a}, 300)
	end := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for i := range *sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("s%d", i)
			holder := map[string]any{"holder": "bench-" + name, "ttlMs": ttl}
			var lease sessiond.Lease
			if err := json.Unmarshal(timed("lease", name+"/lease", 0, holder), &lease); err != nil {
				return
			}
			fence := lease.Fence
			rnd := rand.New(rand.NewPCG(uint64(i), 1))
			nextRenew := time.Now().Add(ttl / 3 * time.Millisecond)
			for n := 0; time.Now().Before(end); n++ {
				if time.Now().After(nextRenew) {
					timed("renew", name+"/lease/renew", 0, map[string]any{"holder": "bench-" + name, "fence": fence, "ttlMs": ttl})
					nextRenew = time.Now().Add(ttl / 3 * time.Millisecond)
				}
				peer := fmt.Sprintf("1555%07d:%d@s.whatsapp.net", rnd.IntN(500), rnd.IntN(3))
				timed("keys.set", name+"/keys/set", fence, map[string]any{"data": map[string]map[string][]byte{
					"session":      {"our\x00" + peer: record},
					"event_buffer": {fmt.Sprintf("our\x00%016x", rnd.Uint64()): event},
				}})
				if n%10 == 0 {
					timed("keys.get", name+"/keys/get", 0, map[string]any{"type": "session", "ids": []string{"our\x00" + peer, "our\x00missing"}})
				}
				if *rate > 0 {
					time.Sleep(time.Duration(float64(time.Second) / *rate * (0.5 + rnd.Float64())))
				}
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("wasmeow-sessiond: %d sessions for %v (rate %v msg/s per session, 0 = unthrottled), %d PostgreSQL connections, %d CPUs\n",
		*sessions, elapsed.Round(time.Millisecond), *rate, *pool, runtime.NumCPU())
	total := 0
	for _, kind := range []string{"keys.set", "keys.get", "renew", "lease"} {
		ds := rec.lat[kind]
		slices.Sort(ds)
		total += len(ds)
		fmt.Printf("  %-9s %8d ok %5d failed %9.0f ops/s   p50 %7v  p95 %7v  p99 %7v  max %7v\n", kind, len(ds), rec.fails[kind],
			float64(len(ds))/elapsed.Seconds(), pct(ds, .5).Round(10*time.Microsecond), pct(ds, .95).Round(10*time.Microsecond),
			pct(ds, .99).Round(10*time.Microsecond), pct(ds, 1).Round(10*time.Microsecond))
	}
	fmt.Printf("  all       %8d ok %20.0f ops/s\n", total, float64(total)/elapsed.Seconds())
	return nil
}
