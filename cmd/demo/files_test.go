package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wasmeow/wasmeow/fakewa"
)

// fakeRepo lays out the files the demo serves, each holding its own path.
func fakeRepo(t *testing.T, skip ...string) string {
	t.Helper()
	root := t.TempDir()
	files := []string{
		"web/demo/index.html", "web/demo/phone.html", "web/demo/app.js", "web/demo/messages.js", "web/demo/phone.js",
		"web/demo/style.css", "web/demo/notes.txt", "web/wasmeow.js", "web/wasmeow.d.ts", "web/test/demo.test.js", "web/package.json",
		"web/node_modules/qrcode-generator/dist/qrcode.mjs", "web/node_modules/qrcode-generator/dist/qrcode.js",
		"web/node_modules/other/secret.js", "dist/wasmeow.wasm", "dist/wasm_exec.js", "dist/wasmeow.js", "go.mod",
	}
	for _, f := range files {
		if contains(skip, f) {
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestServesPagesModuleAndWasm(t *testing.T) {
	fs, err := newFileSet(fakeRepo(t))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.NotFoundHandler()) // as fakewa mounts it
	cfg := pageConfig{Mode: "offline", TrustRootKey: "a2V5", Phone: fakewa.AccountInfo{Phone: "15550100001"}}
	fs.register(mux, cfg)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		method, path string
		status       int
		body, ctype  string
	}{
		{"GET", "/", 200, "web/demo/index.html", "text/html"},
		{"GET", "/phone", 200, "web/demo/phone.html", "text/html"},
		{"GET", "/demo/app.js", 200, "web/demo/app.js", "text/javascript"},
		{"GET", "/demo/messages.js", 200, "web/demo/messages.js", "text/javascript"},
		{"GET", "/demo/phone.js", 200, "web/demo/phone.js", "text/javascript"},
		{"GET", "/demo/style.css", 200, "web/demo/style.css", "text/css"},
		{"GET", "/wasmeow.js", 200, "web/wasmeow.js", "text/javascript"},
		{"GET", "/wasmeow.wasm", 200, "dist/wasmeow.wasm", "application/wasm"},
		{"GET", "/wasm_exec.js", 200, "dist/wasm_exec.js", "text/javascript"},
		{"HEAD", "/wasmeow.wasm", 200, "", "application/wasm"},
		{"GET", "/vendor/qrcode.mjs", 200, "web/node_modules/qrcode-generator/dist/qrcode.mjs", "text/javascript"},
		// Nothing the pages do not load: no tests, sources, other packages.
		{"GET", "/demo/notes.txt", 404, "", ""},
		{"GET", "/demo/", 404, "", ""},
		{"GET", "/wasmeow.d.ts", 404, "", ""},
		{"GET", "/package.json", 404, "", ""},
		{"GET", "/test/demo.test.js", 404, "", ""},
		{"GET", "/web/test/demo.test.js", 404, "", ""},
		{"GET", "/web/wasmeow.js", 404, "", ""},
		{"GET", "/dist/wasmeow.wasm", 404, "", ""},
		{"GET", "/vendor/qrcode.js", 404, "", ""},
		{"GET", "/web/node_modules/other/secret.js", 404, "", ""},
		{"GET", "/go.mod", 404, "", ""},
		{"GET", "/web/../go.mod", 404, "", ""},
		{"GET", "/demo/../../go.mod", 404, "", ""},
		{"GET", "/dist/../../etc/passwd", 404, "", ""},
		{"POST", "/wasmeow.js", 405, "", ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		req.URL.Opaque = tc.path // keep ".." as sent, as a hostile client would
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		if tc.method != "HEAD" && string(body) != tc.body {
			t.Errorf("%s %s: served %q, want %q", tc.method, tc.path, body, tc.body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
			t.Errorf("%s %s: Content-Type %q, want %s", tc.method, tc.path, ct, tc.ctype)
		}
	}

	resp, err := http.Get(srv.URL + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got pageConfig
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("config.json: %v", err)
	}
	if got.Mode != "offline" || got.TrustRootKey != "a2V5" || got.Phone.Phone != "15550100001" {
		t.Errorf("config.json = %+v", got)
	}
}

// Without web/wasmeow.js, the module comes from its copy in dist/.
func TestModuleFallsBackToDist(t *testing.T) {
	repo := fakeRepo(t, "web/wasmeow.js")
	srv := serveFiles(t, repo)
	if status, body := get(t, srv.URL+"/wasmeow.js"); status != 200 || body != "dist/wasmeow.js" {
		t.Errorf("GET /wasmeow.js: %d %q; want dist's copy", status, body)
	}
}

// A symlink in a served folder is refused, not followed: neither one in
// place of a listed file nor one leading out of the folder serves its target.
func TestSymlinksAreNotFollowed(t *testing.T) {
	repo := fakeRepo(t)
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("outside the demo's folders"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"web/demo/app.js":     secret,                                      // out of the folder
		"web/demo/style.css":  filepath.Join(repo, "go.mod"),               // elsewhere in the repository
		"dist/wasmeow.wasm":   filepath.Join(repo, "dist", "wasm_exec.js"), // within the folder
		"web/wasmeow.js":      secret,                                      // dist's copy must not win either: refuse the link
		"web/demo/phone.html": "/etc/passwd",
	} {
		p := filepath.Join(repo, filepath.FromSlash(link))
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	srv := serveFiles(t, repo)
	for _, path := range []string{"/demo/app.js", "/demo/style.css", "/wasmeow.wasm", "/phone"} {
		status, body := get(t, srv.URL+path)
		if status != http.StatusNotFound || strings.Contains(body, "outside") || strings.Contains(body, "root:") || strings.Contains(body, "wasm_exec") {
			t.Errorf("GET %s through a symlink: %d %q; want 404 and no content", path, status, body)
		}
	}
	if status, body := get(t, srv.URL+"/wasmeow.js"); status != 200 || body != "dist/wasmeow.js" {
		t.Errorf("GET /wasmeow.js with web's a symlink: %d %q; want dist's regular copy", status, body)
	}
}

// Every file the real demo pages and the module load is served: the
// allow-list keeps up with web/demo.
func TestServesEverythingTheRealPagesLoad(t *testing.T) {
	root, err := findRoot("")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	ref := regexp.MustCompile(`(?:src|href)="(/[^"]*)"|(?:from|import\(|fetch\()\s*'(/[^']*)'|new URL\('(/[^']*)'`)
	pages, _ := filepath.Glob(filepath.Join(root, "web", "demo", "*.*"))
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ref.FindAllStringSubmatch(string(text), -1) {
			paths = append(paths, m[1]+m[2]+m[3])
		}
	}
	// The module loads these from beside itself, written the way bundlers
	// recognise: new URL('./file', import.meta.url). It is served at /.
	module, err := os.ReadFile(filepath.Join(root, "web", "wasmeow.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`new URL\('\./([^'/]+\.[a-z]+)', import\.meta\.url\)`).FindAllStringSubmatch(string(module), -1) {
		paths = append(paths, "/"+m[1])
	}
	for _, want := range []string{"/demo/app.js", "/demo/messages.js", "/demo/phone.js", "/demo/style.css", "/wasmeow.js", "/wasmeow.wasm", "/wasm_exec.js", "/vendor/qrcode.mjs", "/config.json", "/phone"} {
		if !contains(paths, want) {
			t.Errorf("found no reference to %s in web/demo or the module; the scan misses something (found %q)", want, paths)
		}
	}

	srv := serveFiles(t, fakeRepo(t))
	for _, p := range paths {
		if strings.HasPrefix(p, "/api/") || p == "/ws/chat" {
			continue // fakewa's, mounted by newDemo
		}
		if status, _ := get(t, srv.URL+p); status != http.StatusOK {
			t.Errorf("the demo pages load %s; the demo answers %d", p, status)
		}
	}
}

func serveFiles(t *testing.T, repo string) *httptest.Server {
	t.Helper()
	fs, err := newFileSet(repo)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	fs.register(mux, pageConfig{Mode: "offline"})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// A checkout without the built wasm or the npm packages says what to run.
func TestMissingFilesNameTheFix(t *testing.T) {
	for file, fix := range map[string]string{
		"dist/wasmeow.wasm": "make wasm",
		"web/node_modules/qrcode-generator/dist/qrcode.mjs": "make deps",
	} {
		_, err := newFileSet(fakeRepo(t, file))
		if err == nil || !strings.Contains(err.Error(), fix) || !strings.Contains(err.Error(), filepath.Base(file)) {
			t.Errorf("without %s: error %v; want it to name the file and %q", file, err, fix)
		}
	}
}

func TestListenFallsBackToAFreePort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ln, err := listen(taken.Addr().String())
	if err != nil {
		t.Fatalf("listen on a taken port: %v", err)
	}
	defer ln.Close()
	if ln.Addr().String() == taken.Addr().String() {
		t.Fatal("listen returned the taken address")
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); host != "127.0.0.1" {
		t.Errorf("fallback listens on %s, want the same host 127.0.0.1", ln.Addr())
	}
}

func TestFindRootFromASubdirectory(t *testing.T) {
	root, err := findRoot("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "web", "demo", "index.html")); err != nil {
		t.Fatalf("findRoot from %s gave %s, which has no demo page: %v", mustWd(t), root, err)
	}
	if _, err := findRoot(t.TempDir()); err == nil {
		t.Error("findRoot accepted a -root without the demo page")
	}
}

func mustWd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
