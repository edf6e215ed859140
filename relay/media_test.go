package relay

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// mediaUpstream is a test media host: it records each request it gets and
// answers with handle.
type mediaUpstream struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recordedRequest
}

type recordedRequest struct {
	method, host, uri string
	header            http.Header
	body              []byte
	bodyErr           error
}

func newMediaUpstream(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *mediaUpstream {
	t.Helper()
	u := &mediaUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, recordedRequest{r.Method, r.Host, r.RequestURI, r.Header.Clone(), body, err})
		u.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *mediaUpstream) requests() []recordedRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]recordedRequest(nil), u.reqs...)
}

// newMediaRelay runs a relay whose media proxy reaches up for every host,
// mounted as cmd/relay mounts it; it returns the proxy's base URL.
func newMediaRelay(t *testing.T, up *mediaUpstream, cfg Config) (*Relay, string) {
	t.Helper()
	cfg.MediaTransport = DialEverything(strings.TrimPrefix(up.srv.URL, "http://"))
	return serveMedia(t, cfg)
}

// serveMedia runs a relay's media proxy only.
func serveMedia(t *testing.T, cfg Config) (*Relay, string) {
	t.Helper()
	cfg.Upstream = "ws://127.0.0.1:1/ws/chat" // unused
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(MediaPrefix, r.MediaHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { _ = r.Close(); srv.Close() })
	return r, srv.URL + MediaPrefix
}

type answer struct {
	status int
	header http.Header
	body   string
	err    error
}

func do(t *testing.T, method, url, origin string, body io.Reader, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b), err}
}

const directPath = "/v/t62.7118-24/123_456_n.enc?ccb=11-4&oh=01_Q5Aa%2B-x_y&oe=6A77D5A9&_nc_sid=5e03e0&hash=abc%3D&mms-type=image&__wa-mms="

// A download keeps its path and query byte for byte, reaches the media host
// with WhatsApp's Origin and Referer, and neither cookies nor hop-by-hop
// headers cross the relay either way; the page gets CORS headers.
func TestMediaDownloadForwardsTheRightHeaders(t *testing.T) {
	blob := bytes.Repeat([]byte{0xA5, 0x5A}, 5000)
	up := newMediaUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "tracking=1")
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "secret")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Retry-After", "7")
		_, _ = w.Write(blob)
	})
	rl, base := newMediaRelay(t, up, Config{AllowedOrigins: []string{"app.example"}})

	got := do(t, "GET", base+"mmg.whatsapp.net"+directPath, "https://app.example", nil, map[string]string{
		"Cookie": "session=1", "Authorization": "Bearer x", "Connection": "X-Other", "X-Other": "hop", "Referer": "https://app.example/page",
	})
	if got.err != nil || got.status != 200 || got.body != string(blob) {
		t.Fatalf("download: %d, %d bytes, %v; want 200 with the blob", got.status, len(got.body), got.err)
	}
	if acao := got.header.Get("Access-Control-Allow-Origin"); acao != "https://app.example" {
		t.Errorf("Access-Control-Allow-Origin %q, want the page's origin", acao)
	}
	if got.header.Get("Set-Cookie") != "" || got.header.Get("X-Hop") != "" {
		t.Errorf("the page got the upstream's Set-Cookie %q or hop-by-hop X-Hop %q", got.header.Get("Set-Cookie"), got.header.Get("X-Hop"))
	}
	if got.header.Get("Retry-After") != "7" || !strings.Contains(got.header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Errorf("Retry-After %q, exposed %q: whatsmeow's retries read it", got.header.Get("Retry-After"), got.header.Get("Access-Control-Expose-Headers"))
	}
	reqs := up.requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.host != "mmg.whatsapp.net" || r.uri != directPath {
		t.Errorf("upstream got Host %q URI %q; want mmg.whatsapp.net and %q", r.host, r.uri, directPath)
	}
	if r.header.Get("Origin") != WhatsAppOrigin || r.header.Get("Referer") != WhatsAppOrigin+"/" {
		t.Errorf("upstream got Origin %q Referer %q", r.header.Get("Origin"), r.header.Get("Referer"))
	}
	for _, h := range []string{"Cookie", "Authorization", "X-Other"} {
		if r.header.Get(h) != "" {
			t.Errorf("upstream got %s: %q", h, r.header.Get(h))
		}
	}
	if st := rl.Stats(); st.MediaRequests != 1 || st.MediaBytesDown != int64(len(blob)) {
		t.Errorf("stats %+v; want 1 media request and %d bytes down", st, len(blob))
	}
}

// An upload streams its body to the media host and the answer back.
func TestMediaUploadStreamsTheBody(t *testing.T) {
	up := newMediaUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"url":"https://mmg.whatsapp.net/v/x","direct_path":"/v/x"}`)
	})
	rl, base := newMediaRelay(t, up, Config{})
	body := bytes.Repeat([]byte("enc"), 20000)
	got := do(t, "POST", base+"mmg.whatsapp.net/mms/image/tok?auth=a&token=tok", "", bytes.NewReader(body),
		map[string]string{"Content-Type": "application/octet-stream"})
	if got.status != 200 || !strings.Contains(got.body, `"direct_path":"/v/x"`) {
		t.Fatalf("upload: %d %q %v", got.status, got.body, got.err)
	}
	r := up.requests()[0]
	if r.method != "POST" || !bytes.Equal(r.body, body) || r.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("upstream got %s with %d bytes (%q); want POST with the %d bytes", r.method, len(r.body), r.header.Get("Content-Type"), len(body))
	}
	if got.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a request without Origin got CORS headers")
	}
	if st := rl.Stats(); st.MediaBytesUp != int64(len(body)) {
		t.Errorf("MediaBytesUp %d, want %d", st.MediaBytesUp, len(body))
	}
}

// Only the configured media hosts are reachable: anything else is refused
// before any upstream request, with a body that says why.
func TestMediaProxyIsNoOpenProxy(t *testing.T) {
	up := newMediaUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	_, base := newMediaRelay(t, up, Config{AllowedOrigins: []string{"app.example"}})
	for path, want := range map[string]int{
		"evil.example/v/x":                  403,
		"web.whatsapp.com/ws/chat":          403,
		"g.whatsapp.net/x":                  403,
		"mmg.whatsapp.net.evil.example/v/x": 403,
		"127.0.0.1/v/x":                     400,
		"mmg.whatsapp.net:8443/v/x":         400,
		"user@mmg.whatsapp.net/v/x":         400,
		"mmg.whatsapp.net%2Fevil/v/x":       400,
		"mmg.whatsapp.net":                  400,
	} {
		got := do(t, "GET", base+path, "https://app.example", nil, nil)
		if got.status != want || !strings.HasPrefix(got.body, "relay: ") {
			t.Errorf("GET /media/%s: %d %q; want %d with a reason", path, got.status, got.body, want)
		}
		if want == 403 && !strings.Contains(got.body, "is not a media host") {
			t.Errorf("GET /media/%s: body %q does not say the host is not allowed", path, got.body)
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("the upstream got %d requests for refused hosts", n)
	}
	// The default list allows the per-site hosts and profile pictures.
	for _, host := range []string{"media.fcmb6-1.fna.whatsapp.net", "media-lhr8-1.cdn.whatsapp.net", "pps.whatsapp.net", "MMG-FNA.whatsapp.net"} {
		if got := do(t, "GET", base+host+"/v/x", "", nil, nil); got.status != 200 {
			t.Errorf("GET /media/%s/v/x: %d %q; want it forwarded", host, got.status, got.body)
		}
	}
	if got := do(t, "PUT", base+"mmg.whatsapp.net/v/x", "", strings.NewReader("x"), nil); got.status != 405 {
		t.Errorf("PUT: %d; want 405", got.status)
	}
}

// CORS: an allowed page's preflight is answered; a page not allowed gets a
// 403 without any CORS header, for preflights and requests alike.
func TestMediaCORSOnlyForAllowedPages(t *testing.T) {
	up := newMediaUpstream(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "blob") })
	_, base := newMediaRelay(t, up, Config{AllowedOrigins: []string{"localhost:*"}})
	url := base + "mmg.whatsapp.net/mms/image/t?auth=a&token=t"
	pre := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
		"Access-Control-Request-Private-Network": "true"}

	got := do(t, "OPTIONS", url, "http://localhost:5173", nil, pre)
	h := got.header
	if got.status != 204 || h.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") ||
		h.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Errorf("preflight of an allowed page: %d %v", got.status, h)
	}
	for _, origin := range []string{"https://evil.example", "null"} {
		for _, method := range []string{"OPTIONS", "GET"} {
			got := do(t, method, url, origin, nil, pre)
			if got.status != 403 || got.header.Get("Access-Control-Allow-Origin") != "" || got.header.Get("Access-Control-Allow-Methods") != "" {
				t.Errorf("%s from %s: %d with CORS %q; want 403 without CORS headers", method, origin, got.status, got.header.Get("Access-Control-Allow-Origin"))
			}
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("the upstream got %d requests; preflights and refused pages reach nobody", n)
	}
	// A DNS-rebinding Host is refused as on the WebSocket side.
	req, _ := http.NewRequest("GET", base+"mmg.whatsapp.net/v/x", nil)
	req.Host = "attacker.example"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("rebinding Host: %v %v; want 403", resp, err)
	} else {
		_ = resp.Body.Close()
	}
}

// Bodies larger than MaxMediaSize are refused with 413 both ways: at once
// when the length is announced, and an unannounced download is cut so that
// the page sees an error rather than a short blob.
func TestMediaSizeLimits(t *testing.T) {
	const limit = 1000
	up := newMediaUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", "1001")
			_, _ = w.Write(make([]byte, 1001))
		case "/exact":
			_, _ = w.Write(make([]byte, limit))
		case "/chunked":
			for range 3 {
				_, _ = w.Write(make([]byte, 600))
				w.(http.Flusher).Flush()
			}
		}
	})
	_, base := newMediaRelay(t, up, Config{MaxMediaSize: limit})

	got := do(t, "POST", base+"mmg.whatsapp.net/mms/image/t", "", bytes.NewReader(make([]byte, limit+1)), nil)
	if got.status != 413 || !strings.Contains(got.body, "upload of 1001 bytes") || !strings.Contains(got.body, "-media-max-size") {
		t.Errorf("upload of limit+1 bytes: %d %q; want 413 from its Content-Length, naming -media-max-size", got.status, got.body)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("an announced oversize upload reached the upstream (%d requests)", n)
	}
	// Chunked: the length is not known until the body has passed the limit.
	got = do(t, "POST", base+"mmg.whatsapp.net/mms/image/t", "", io.MultiReader(bytes.NewReader(make([]byte, 800)), bytes.NewReader(make([]byte, 800))), nil)
	if got.status != 413 {
		t.Errorf("chunked upload over the limit: %d %q; want 413", got.status, got.body)
	}
	got = do(t, "POST", base+"mmg.whatsapp.net/mms/image/t", "", io.MultiReader(bytes.NewReader(make([]byte, limit))), nil)
	if got.status != 200 {
		t.Errorf("chunked upload of exactly the limit: %d %q; want 200", got.status, got.body)
	}
	got = do(t, "GET", base+"mmg.whatsapp.net/big", "", nil, nil)
	if got.status != 413 || !strings.Contains(got.body, "1001 bytes") {
		t.Errorf("download of 1001 bytes: %d %q; want 413 naming the size", got.status, got.body)
	}
	if got = do(t, "GET", base+"mmg.whatsapp.net/exact", "", nil, nil); got.status != 200 || len(got.body) != limit {
		t.Errorf("download of exactly the limit: %d, %d bytes", got.status, len(got.body))
	}
	got = do(t, "GET", base+"mmg.whatsapp.net/chunked", "", nil, nil)
	if got.err == nil {
		t.Errorf("chunked download over the limit read as whole: %d, %d bytes", got.status, len(got.body))
	}
}

// An upstream that does not answer in time gives 504; one that cannot be
// reached 502; the upstream's own error statuses pass through.
func TestMediaTimeoutsAndUpstreamFailures(t *testing.T) {
	up := newMediaUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		case "/gone":
			http.Error(w, "expired", http.StatusGone)
		}
	})
	_, base := newMediaRelay(t, up, Config{MediaTimeout: 300 * time.Millisecond})
	start := time.Now()
	got := do(t, "GET", base+"mmg.whatsapp.net/slow", "", nil, nil)
	if got.status != 504 || !strings.Contains(got.body, "did not answer in time") || time.Since(start) > 3*time.Second {
		t.Errorf("slow upstream: %d %q after %s; want 504 after the timeout", got.status, got.body, time.Since(start))
	}
	if got = do(t, "GET", base+"mmg.whatsapp.net/gone", "", nil, nil); got.status != 410 || got.body != "expired\n" {
		t.Errorf("upstream 410: %d %q; want it passed through", got.status, got.body)
	}

	dead := &mediaUpstream{srv: httptest.NewServer(http.NotFoundHandler())}
	dead.srv.Close()
	_, deadBase := newMediaRelay(t, dead, Config{})
	if got = do(t, "GET", deadBase+"mmg.whatsapp.net/v/x", "", nil, nil); got.status != 502 || !strings.Contains(got.body, "unreachable") {
		t.Errorf("unreachable upstream: %d %q; want 502", got.status, got.body)
	}
}

// A redirect to an allowed host is rewritten to the proxy's shape; one to
// any other host loses its Location.
func TestMediaRedirectsStayOnAllowedHosts(t *testing.T) {
	up := newMediaUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			w.Header().Set("Location", "https://media.fxyz1-1.fna.whatsapp.net/v/y?oh=1&oe=2")
		case "/relative":
			w.Header().Set("Location", "/v/z?a=1")
		case "/away":
			w.Header().Set("Location", "https://evil.example/steal")
		}
		w.WriteHeader(http.StatusFound)
	})
	_, base := newMediaRelay(t, up, Config{})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{
		"/moved":    "/media/media.fxyz1-1.fna.whatsapp.net/v/y?oh=1&oe=2",
		"/relative": "/media/mmg.whatsapp.net/v/z?a=1",
		"/away":     "",
	} {
		resp, err := noFollow.Get(base + "mmg.whatsapp.net" + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 302 || resp.Header.Get("Location") != want {
			t.Errorf("%s: %d Location %q; want 302 %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

// Requests in flight hold slots of the same limits as sockets.
func TestMediaRequestsCountAgainstTheLimits(t *testing.T) {
	release := make(chan struct{})
	up := newMediaUpstream(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	_, base := newMediaRelay(t, up, Config{MaxConnectionsPerOrigin: 1, AllowedOrigins: []string{"app.example"}})
	done := make(chan answer, 1)
	go func() { done <- do(t, "GET", base+"mmg.whatsapp.net/v/1", "https://app.example", nil, nil) }()
	for deadline := time.Now().Add(5 * time.Second); len(up.requests()) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	got := do(t, "GET", base+"mmg.whatsapp.net/v/2", "https://app.example", nil, nil)
	if got.status != 429 || got.header.Get("Retry-After") == "" {
		t.Errorf("second request while one is in flight: %d %q; want 429", got.status, got.body)
	}
	close(release)
	if first := <-done; first.status != 200 {
		t.Errorf("first request: %d %q", first.status, first.body)
	}
}

func TestMediaURLRewrite(t *testing.T) {
	for in, want := range map[string]string{
		"https://mmg.whatsapp.net/v/t62.7118-24/1_n.enc?ccb=11-4&oh=01_A%2B&oe=6A&hash=x%3D&mms-type=image&__wa-mms=": "http://127.0.0.1:8090/media/mmg.whatsapp.net/v/t62.7118-24/1_n.enc?ccb=11-4&oh=01_A%2B&oe=6A&hash=x%3D&mms-type=image&__wa-mms=",
		"https://pps.whatsapp.net/v/t61.24694-24/9_n.jpg?oh=1":                                                        "http://127.0.0.1:8090/media/pps.whatsapp.net/v/t61.24694-24/9_n.jpg?oh=1",
		"wss://web.whatsapp.com/ws/chat":                                                                              "wss://web.whatsapp.com/ws/chat",
	} {
		if got := MediaURL("http://127.0.0.1:8090/media/", in); got != want {
			t.Errorf("MediaURL(%q) = %q, want %q", in, got, want)
		}
	}
}
