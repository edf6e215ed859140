package sessiond

import (
	"crypto/subtle"
	"maps"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics counts the API's calls per operation (keys.get, keys.set,
// lease.renew, ...) with their errors by code and a latency histogram, as
// seen by the service: from the request routed to the answer written,
// tenant lookup and database transaction included. Always on (a few
// atomic adds per call); GET /metrics shows them when the service has a
// MetricsToken (docs/FLEET.md).
type Metrics struct {
	start  time.Time
	mu     sync.Mutex
	ops    map[string]*opStats
	protos map[string]int64 // calls by HTTP version (HTTP/1.1, HTTP/2.0)
}

// Buckets of the latency histogram: bucket i holds latencies up to
// histBase * histGrowth^i, so a percentile read from it is at most 19%
// above the true one; the last bucket takes everything longer.
const (
	histBase    = 50 * time.Microsecond
	histBuckets = 96 // 50 µs × 2^(95/4) ≈ 690 s
)

var histGrowth = math.Pow(2, 0.25)

type opStats struct {
	count   atomic.Int64
	sumNs   atomic.Int64
	maxNs   atomic.Int64
	buckets [histBuckets]atomic.Int64
	errMu   sync.Mutex
	errors  map[string]int64
}

func newMetrics() *Metrics {
	return &Metrics{start: time.Now(), ops: map[string]*opStats{}, protos: map[string]int64{}}
}

func (m *Metrics) op(name, proto string) *opStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.protos[proto]++
	o := m.ops[name]
	if o == nil {
		o = &opStats{errors: map[string]int64{}}
		m.ops[name] = o
	}
	return o
}

// bucketOf is the histogram bucket of a latency.
func bucketOf(d time.Duration) int {
	if d <= histBase {
		return 0
	}
	i := int(math.Ceil(math.Log(float64(d)/float64(histBase)) / math.Log(histGrowth)))
	return min(i, histBuckets-1)
}

// bucketTop is the longest latency bucket i holds.
func bucketTop(i int) time.Duration {
	return time.Duration(float64(histBase) * math.Pow(histGrowth, float64(i)))
}

// Observe records one call of op over HTTP version proto that took d and
// failed with code ("" when it succeeded).
func (m *Metrics) Observe(op, proto string, d time.Duration, code string) {
	o := m.op(op, proto)
	o.count.Add(1)
	o.sumNs.Add(int64(d))
	o.buckets[bucketOf(d)].Add(1)
	for {
		cur := o.maxNs.Load()
		if int64(d) <= cur || o.maxNs.CompareAndSwap(cur, int64(d)) {
			break
		}
	}
	if code != "" {
		o.errMu.Lock()
		o.errors[code]++
		o.errMu.Unlock()
	}
}

// OpMetrics is one operation's figures: latencies in milliseconds, the
// percentiles read from the histogram (the top of the bucket they fall in).
type OpMetrics struct {
	Count  int64            `json:"count"`
	Errors map[string]int64 `json:"errors,omitempty"`
	MeanMs float64          `json:"meanMs"`
	P50Ms  float64          `json:"p50Ms"`
	P95Ms  float64          `json:"p95Ms"`
	P99Ms  float64          `json:"p99Ms"`
	MaxMs  float64          `json:"maxMs"`
}

// MetricsSnapshot is what GET /metrics answers.
type MetricsSnapshot struct {
	SinceMs int64                `json:"sinceMs"` // ms since the counters started (or were reset)
	Ops     map[string]OpMetrics `json:"ops"`
	Protos  map[string]int64     `json:"protos"` // calls by HTTP version: browsers speak HTTP/2 only over TLS
	Pool    PoolMetrics          `json:"pool"`
}

// PoolMetrics is the database pool as it stands (pgxpool.Stat).
type PoolMetrics struct {
	MaxConns          int32   `json:"maxConns"`
	TotalConns        int32   `json:"totalConns"`
	AcquiredConns     int32   `json:"acquiredConns"`
	IdleConns         int32   `json:"idleConns"`
	AcquireCount      int64   `json:"acquireCount"`
	EmptyAcquireCount int64   `json:"emptyAcquireCount"` // acquisitions that had to wait for a connection
	AcquireWaitMs     float64 `json:"acquireWaitMs"`     // total time spent acquiring
}

const msPerNs = 1e-6

// Snapshot reads the counters; with reset, it zeroes them after (calls in
// flight meanwhile may land on either side).
func (m *Metrics) Snapshot(reset bool) MetricsSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := MetricsSnapshot{SinceMs: time.Since(m.start).Milliseconds(), Ops: map[string]OpMetrics{}, Protos: maps.Clone(m.protos)}
	for name, o := range m.ops {
		var counts [histBuckets]int64
		var total int64
		for i := range counts {
			counts[i] = o.buckets[i].Load()
			total += counts[i]
		}
		om := OpMetrics{Count: o.count.Load(), MaxMs: float64(o.maxNs.Load()) * msPerNs}
		if om.Count > 0 {
			om.MeanMs = float64(o.sumNs.Load()) * msPerNs / float64(om.Count)
		}
		pct := func(q float64) float64 {
			if total == 0 {
				return 0
			}
			rank := int64(math.Ceil(q * float64(total)))
			var seen int64
			for i, c := range counts {
				if seen += c; seen >= rank {
					return math.Min(float64(bucketTop(i))*msPerNs, om.MaxMs)
				}
			}
			return om.MaxMs
		}
		om.P50Ms, om.P95Ms, om.P99Ms = pct(0.50), pct(0.95), pct(0.99)
		o.errMu.Lock()
		if len(o.errors) > 0 {
			om.Errors = make(map[string]int64, len(o.errors))
			for k, v := range o.errors {
				om.Errors[k] = v
			}
		}
		o.errMu.Unlock()
		out.Ops[name] = om
	}
	if reset {
		m.ops = map[string]*opStats{}
		m.protos = map[string]int64{}
		m.start = time.Now()
	}
	return out
}

// getMetrics answers the metrics to the bearer of MetricsToken; ?reset
// zeroes the counters after reading them (a benchmark's measured phase).
func (s *Service) getMetrics(w http.ResponseWriter, r *http.Request) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.MetricsToken)) != 1 {
		writeError(w, apiErr(http.StatusUnauthorized, CodeUnauthorized, "GET /metrics needs the service's metrics token (serve -metrics-token) as Authorization: Bearer <token>"))
		return
	}
	snap := s.metrics.Snapshot(r.URL.Query().Has("reset"))
	st := s.pool.Stat()
	snap.Pool = PoolMetrics{
		MaxConns: st.MaxConns(), TotalConns: st.TotalConns(), AcquiredConns: st.AcquiredConns(), IdleConns: st.IdleConns(),
		AcquireCount: st.AcquireCount(), EmptyAcquireCount: st.EmptyAcquireCount(), AcquireWaitMs: float64(st.AcquireDuration()) * msPerNs,
	}
	writeJSON(w, snap)
}
