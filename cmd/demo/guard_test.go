package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	waLog "go.mau.fi/whatsmeow/util/log"
	"nhooyr.io/websocket"

	"github.com/wasmeow/wasmeow/fakewa"
	"github.com/wasmeow/wasmeow/relay"
)

// offlineDemo serves what `go run ./cmd/demo` serves, on a test server.
func offlineDemo(t *testing.T, o options) *httptest.Server {
	t.Helper()
	files, err := newFileSet(fakeRepo(t))
	if err != nil {
		t.Fatal(err)
	}
	o.phone, o.peer = "15550100001", "15550100002"
	d, err := newDemo(files, o, waLog.Noop)
	t.Cleanup(d.close)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.handler)
	t.Cleanup(srv.Close)
	return srv
}

// request sends method path to srv with the headers given as name, value
// pairs ("Host" sets the Host header), and returns the response and its body.
func request(t *testing.T, srv *httptest.Server, method, path, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The control API, which drives the simulated phone, obeys the demo's own
// pages only: another site's POST is refused with 403 and changes nothing,
// and no answer carries CORS headers that would let another page read it or
// pass a preflight.
func TestFakewaAPIOnlyForTheDemosOwnPages(t *testing.T) {
	srv := offlineDemo(t, options{})
	own := srv.URL // http://127.0.0.1:port
	create := func(phone string, headers ...string) (*http.Response, string) {
		return request(t, srv, "POST", "/api/accounts", `{"phone":"`+phone+`","pushName":"x"}`,
			append([]string{"Content-Type", "application/json"}, headers...)...)
	}

	for _, h := range [][]string{
		{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
		{"Origin", "http://localhost:1", "Sec-Fetch-Site", "same-site"},
		{"Origin", "https://evil.example"}, // a browser without Fetch Metadata
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "null"},
	} {
		resp, body := create("15550109991", h...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /api/accounts with %q: %d %s; want 403", h, resp.StatusCode, body)
		}
		if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "" {
			t.Errorf("refusal with %q carries Access-Control-Allow-Origin %q", h, acao)
		}
	}
	resp, body := request(t, srv, "GET", "/api/accounts", "")
	if strings.Contains(body, "15550109991") {
		t.Fatalf("a refused POST created the account: %s", body)
	}
	if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "" {
		t.Errorf("GET /api/accounts carries Access-Control-Allow-Origin %q", acao)
	}
	resp, _ = request(t, srv, "OPTIONS", "/api/accounts", "", "Origin", "https://evil.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "" {
		t.Errorf("preflight from another site answered Access-Control-Allow-Origin %q", acao)
	}

	// The demo's own phone page (and a client that is no browser page) may.
	for i, h := range [][]string{
		{"Origin", own, "Sec-Fetch-Site", "same-origin"},
		{"Origin", own},
		{},
	} {
		phone := "1555010998" + string(rune('0'+i))
		resp, body := create(phone, h...)
		if resp.StatusCode/100 != 2 || !strings.Contains(body, phone) {
			t.Errorf("POST /api/accounts with %q: %d %s; want it created", h, resp.StatusCode, body)
		}
		if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "" {
			t.Errorf("POST with %q answered Access-Control-Allow-Origin %q", h, acao)
		}
	}
}

// The page's media (its mediaProxyURL defaults to this origin's /media/)
// reaches fakewa from the demo's own pages; another site cannot upload.
func TestMediaPathOnlyForTheDemosOwnPages(t *testing.T) {
	srv := offlineDemo(t, options{})
	const guard = "demo's own pages only"
	path := "/media/mmg.whatsapp.net/mms/image/token?auth=x&token=token"
	resp, body := request(t, srv, "POST", path, "blob", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, guard) {
		t.Errorf("cross-site POST %s: %d %s; want the demo's 403", path, resp.StatusCode, body)
	}
	resp, body = request(t, srv, "GET", "/media/mmg.whatsapp.net/v/t62.7118-24/none", "", "Origin", srv.URL, "Sec-Fetch-Site", "same-origin")
	// fakewa's media host answers: no such blob (not the demo's mux: "404 page not found").
	if resp.StatusCode != http.StatusNotFound || strings.Contains(body, guard) || strings.Contains(body, "page not found") {
		t.Errorf("same-origin GET of a media path: %d %s; want fakewa's 404 for a blob it lacks", resp.StatusCode, body)
	}
}

// A page whose name was rebound to the demo's address gets nothing: not the
// pages, the config or the API, even with its own Origin matching its Host.
func TestDemoRefusesRebindingHosts(t *testing.T) {
	srv := offlineDemo(t, options{})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	evil := "evil.example:" + port
	for _, r := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/config.json"}, {"GET", "/api/accounts"}, {"POST", "/api/accounts"}, {"GET", "/ws/chat"},
	} {
		resp, _ := request(t, srv, r.method, r.path, `{"phone":"15550109992"}`,
			"Host", evil, "Origin", "http://"+evil, "Sec-Fetch-Site", "same-origin")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s with Host %s: %d; want 403", r.method, r.path, evil, resp.StatusCode)
		}
	}
	if resp, _ := request(t, srv, "GET", "/config.json", "", "Host", "localhost:"+port); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /config.json as localhost: %d", resp.StatusCode)
	}
	allowed := offlineDemo(t, options{relay: relay.Config{AllowedHosts: []string{"demo.example"}}})
	_, port, _ = net.SplitHostPort(strings.TrimPrefix(allowed.URL, "http://"))
	if resp, _ := request(t, allowed, "GET", "/config.json", "", "Host", "demo.example:"+port); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /config.json with an -allow-host name: %d", resp.StatusCode)
	}
}

// fakewa's socket, which takes any Origin, is open to the demo's own pages only.
func TestFakewaSocketOnlyForTheDemosOwnPages(t *testing.T) {
	srv := offlineDemo(t, options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat"
	_, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("socket from another site: %v %v; want 403", resp, err)
	}
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {srv.URL}}})
	if err != nil {
		t.Fatalf("socket from the demo page: %v", err)
	}
	_ = c.CloseNow()
}

// The offline demo tells the module the version its fakewa accepts, as a relay would.
func TestOfflineDemoServesFakewasVersion(t *testing.T) {
	srv := offlineDemo(t, options{})
	resp, body := request(t, srv, "GET", "/version", "")
	var info relay.VersionInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil || resp.StatusCode != 200 || info.Version != fakewa.CurrentVersion.String() {
		t.Errorf("GET /version: %d %s; want fakewa's %s", resp.StatusCode, body, fakewa.CurrentVersion)
	}
}
