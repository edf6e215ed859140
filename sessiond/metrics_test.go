package sessiond

import (
	"encoding/json"
	"testing"
	"time"
)

func TestMetricsPercentilesFromTheHistogram(t *testing.T) {
	m := newMetrics()
	for range 98 {
		m.Observe("keys.set", "HTTP/1.1", time.Millisecond, "")
	}
	m.Observe("keys.set", "HTTP/1.1", 100*time.Millisecond, "")
	m.Observe("keys.set", "HTTP/2.0", time.Second, "lease_lost")
	m.Observe("keys.get", "HTTP/2.0", 10*time.Microsecond, "")
	snap := m.Snapshot(false)
	if snap.Protos["HTTP/1.1"] != 99 || snap.Protos["HTTP/2.0"] != 2 {
		t.Fatalf("calls by HTTP version: %v", snap.Protos)
	}
	s := snap.Ops
	set := s["keys.set"]
	// A percentile is the top of its bucket: at most 2^(1/4) above the true one.
	within := func(got, want float64) bool { return got >= want && got <= want*1.19 }
	if set.Count != 100 || !within(set.P50Ms, 1) || !within(set.P95Ms, 1) || !within(set.P99Ms, 100) || set.MaxMs != 1000 {
		t.Fatalf("keys.set: %+v", set)
	}
	if mean := (98*1 + 100 + 1000) / 100.0; set.MeanMs < mean*0.999 || set.MeanMs > mean*1.001 {
		t.Fatalf("mean %v, want %v", set.MeanMs, mean)
	}
	if len(set.Errors) != 1 || set.Errors["lease_lost"] != 1 {
		t.Fatalf("errors: %v", set.Errors)
	}
	if g := s["keys.get"]; g.Count != 1 || g.P99Ms != 0.01 || g.MaxMs != 0.01 {
		t.Fatalf("keys.get: %+v (a percentile is never above the max)", g)
	}
	if bucketOf(time.Hour) != histBuckets-1 || bucketOf(0) != 0 {
		t.Fatal("the histogram's ends")
	}
	m.Snapshot(true)
	if after := m.Snapshot(false); len(after.Ops) != 0 || len(after.Protos) != 0 {
		t.Fatalf("after a reset: %+v", after)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	s := openService(t)
	_, token := newTenant(t, s, ModeNative)
	// No token, no route.
	serveAPI(t, s, "").do("GET", "/metrics", 0, nil).want(t, 404, CodeNotFound)
	s.MetricsToken = "metrics-secret"
	a := serveAPI(t, s, token)
	l := a.acquire("m", "h", 5000)
	a.set("m", l.Fence, map[string]map[string][]byte{"session": {"a": {1}}}).want(t, 204, "")
	a.set("m", l.Fence+1, map[string]map[string][]byte{"session": {"a": {2}}}).want(t, 409, CodeLeaseLost)
	a.get("m", "session", "a")
	a.do("POST", "/v1/sessions/m/lease/renew", 0, map[string]any{"holder": "h", "fence": l.Fence, "ttlMs": 5000}).want(t, 200, "")
	// A tenant's token does not open the metrics.
	a.do("GET", "/metrics", 0, nil).want(t, 401, CodeUnauthorized)
	admin := serveAPI(t, s, "metrics-secret")
	var snap MetricsSnapshot
	if err := json.Unmarshal(admin.do("GET", "/metrics?reset", 0, nil).want(t, 200, "").body, &snap); err != nil {
		t.Fatal(err)
	}
	for op, want := range map[string]int64{"lease.acquire": 1, "keys.set": 2, "keys.get": 1, "lease.renew": 1} {
		o := snap.Ops[op]
		if o.Count != want || o.P50Ms <= 0 || o.P50Ms > o.P95Ms || o.P95Ms > o.P99Ms || o.P99Ms > o.MaxMs {
			t.Fatalf("%s: %+v, want %d calls with ordered latencies", op, o, want)
		}
	}
	if snap.Protos["HTTP/1.1"] != 5 {
		t.Fatalf("calls by HTTP version: %v", snap.Protos)
	}
	if e := snap.Ops["keys.set"].Errors; len(e) != 1 || e[CodeLeaseLost] != 1 {
		t.Fatalf("keys.set errors: %v", e)
	}
	if snap.Pool.MaxConns < 1 || snap.Pool.TotalConns < 1 || snap.Pool.AcquireCount < 5 {
		t.Fatalf("pool: %+v", snap.Pool)
	}
	var after MetricsSnapshot
	if err := json.Unmarshal(admin.do("GET", "/metrics", 0, nil).want(t, 200, "").body, &after); err != nil {
		t.Fatal(err)
	}
	if len(after.Ops) != 0 {
		t.Fatalf("?reset did not zero the counters: %v", after.Ops)
	}
}
