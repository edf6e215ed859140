package relay

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// webWhatsApp stands in for https://web.whatsapp.com: it answers with a page
// carrying revision rev (status 200), or with status, and counts requests.
type webWhatsApp struct {
	srv    *httptest.Server
	hits   atomic.Int64
	status atomic.Int64
	rev    atomic.Int64
	gate   chan struct{} // when set, each request waits for it to close
}

func newWebWhatsApp(t *testing.T, rev int64, gate chan struct{}) *webWhatsApp {
	w := &webWhatsApp{gate: gate}
	w.rev.Store(rev)
	w.status.Store(http.StatusOK)
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.hits.Add(1)
		if w.gate != nil {
			<-w.gate
		}
		if s := int(w.status.Load()); s != http.StatusOK {
			http.Error(rw, "down", s)
			return
		}
		// The shape of the real page's bootstrap data that whatsmeow reads.
		_, _ = rw.Write([]byte(`<html><script>{"server_revision":1,"client_revision":` +
			jsonInt(w.rev.Load()) + `,"other":0}</script></html>`))
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// getVersion asks the relay's version handler, as a page of origin would.
func getVersion(t *testing.T, h http.Handler, origin string) (int, VersionInfo, http.Header) {
	t.Helper()
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/version", nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var info VersionInfo
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
			t.Fatalf("GET /version body %q: %v", rec.Body, err)
		}
	}
	return rec.Code, info, rec.Header()
}

func versionRelay(t *testing.T, vc VersionConfig) *Relay {
	t.Helper()
	r, err := New(Config{Upstream: "wss://web.whatsapp.com/ws/chat", AllowedOrigins: []string{"app.example"}, VersionConfig: vc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// The version is read from the service, served to allowed pages with CORS,
// and cached: concurrent and later requests cost one fetch.
func TestVersionFetchedOnceAndCached(t *testing.T) {
	gate := make(chan struct{})
	web := newWebWhatsApp(t, 1031999999, gate)
	r := versionRelay(t, VersionConfig{URL: web.srv.URL, Fallback: "2.3000.1"})
	h := r.VersionHandler()

	var wg sync.WaitGroup
	results := make([]VersionInfo, 8)
	for i := range results {
		wg.Go(func() {
			status, info, _ := getVersion(t, h, "")
			if status != http.StatusOK {
				t.Errorf("concurrent GET /version: status %d", status)
			}
			results[i] = info
		})
	}
	waitFor(t, func() bool { return web.hits.Load() >= 1 }, "the first fetch")
	close(gate) // every request is waiting, or has not started yet
	wg.Wait()
	for _, info := range results {
		if info.Version != "2.3000.1031999999" || info.Source != "service" || info.FetchedAt == nil {
			t.Errorf("GET /version = %+v; want 2.3000.1031999999 from the service", info)
		}
	}

	web.rev.Store(1032000000) // a new release, not seen before the TTL ends
	status, info, hdr := getVersion(t, h, "https://app.example")
	if status != http.StatusOK || info.Version != "2.3000.1031999999" {
		t.Errorf("cached GET /version: %d %+v", status, info)
	}
	if got := hdr.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Errorf("Access-Control-Allow-Origin %q for an allowed page", got)
	}
	if n := web.hits.Load(); n != 1 {
		t.Errorf("web.whatsapp.com asked %d times, want once", n)
	}
	if status, _, hdr := getVersion(t, h, "https://evil.example"); status != http.StatusForbidden || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign page: status %d, ACAO %q; want 403 without CORS", status, hdr.Get("Access-Control-Allow-Origin"))
	}
}

// After the TTL the version is fetched again.
func TestVersionRefetchedAfterTTL(t *testing.T) {
	web := newWebWhatsApp(t, 1031999999, nil)
	r := versionRelay(t, VersionConfig{URL: web.srv.URL, TTL: 50 * time.Millisecond})
	if _, info, _ := getVersion(t, r.VersionHandler(), ""); info.Version != "2.3000.1031999999" {
		t.Fatalf("first: %+v", info)
	}
	web.rev.Store(1032000000)
	time.Sleep(100 * time.Millisecond)
	if _, info, _ := getVersion(t, r.VersionHandler(), ""); info.Version != "2.3000.1032000000" {
		t.Errorf("after the TTL: %+v; want the new release", info)
	}
	if n := web.hits.Load(); n != 2 {
		t.Errorf("web.whatsapp.com asked %d times, want 2", n)
	}
}

// When the service cannot be read, the flag's version is served, saying why;
// once a version was fetched, a failed refresh keeps serving that one.
func TestVersionFallsBackToFlag(t *testing.T) {
	web := newWebWhatsApp(t, 1031999999, nil)
	web.status.Store(http.StatusBadGateway)
	r := versionRelay(t, VersionConfig{URL: web.srv.URL, Fallback: "2.3000.1031080782", TTL: time.Millisecond})
	status, info, _ := getVersion(t, r.VersionHandler(), "")
	if status != http.StatusOK || info.Version != "2.3000.1031080782" || info.Source != "flag" || info.FetchedAt != nil || info.Error == "" {
		t.Fatalf("GET /version with the service down: %d %+v; want the flag's version and the error", status, info)
	}

	web.status.Store(http.StatusOK)
	time.Sleep(5 * time.Millisecond) // past the (TTL-bounded) retry delay
	if _, info, _ = getVersion(t, r.VersionHandler(), ""); info.Source != "service" || info.Version != "2.3000.1031999999" {
		t.Fatalf("after the service came back: %+v", info)
	}
	web.status.Store(http.StatusServiceUnavailable)
	time.Sleep(5 * time.Millisecond)
	if _, info, _ = getVersion(t, r.VersionHandler(), ""); info.Source != "service" || info.Version != "2.3000.1031999999" || info.Error == "" {
		t.Errorf("failed refresh: %+v; want the last fetched version and the error", info)
	}
}

// Neither the service nor a flag: 503 with an error naming the flag.
func TestVersionUnavailableWithoutFallback(t *testing.T) {
	web := newWebWhatsApp(t, 0, nil)
	web.status.Store(http.StatusNotFound)
	r := versionRelay(t, VersionConfig{URL: web.srv.URL})
	req := httptest.NewRequest("GET", "http://127.0.0.1/version", nil)
	rec := httptest.NewRecorder()
	r.VersionHandler().ServeHTTP(rec, req)
	var body struct{ Error string }
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusServiceUnavailable || body.Error == "" {
		t.Fatalf("GET /version: %d %q; want 503 with an error", rec.Code, rec.Body)
	}
	if n := web.hits.Load(); n != 1 {
		t.Errorf("web.whatsapp.com asked %d times, want 1", n)
	}
	// A failure is not retried at once: the next request answers from it.
	rec = httptest.NewRecorder()
	r.VersionHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || web.hits.Load() != 1 {
		t.Errorf("second GET /version: %d after %d fetches; want 503 without a new fetch", rec.Code, web.hits.Load())
	}
}

func TestVersionConfigRejectsBadValues(t *testing.T) {
	for _, vc := range []VersionConfig{{Fallback: "2.3000"}, {Fallback: "x.y.z"}, {URL: "ftp://example.com"}} {
		if _, err := New(Config{Upstream: "wss://web.whatsapp.com/ws/chat", VersionConfig: vc}); err == nil {
			t.Errorf("New accepted %+v", vc)
		}
	}
}
