package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmeow/wasmeow/fakewa"
)

// fakeRepo lays out the files the demo serves, each holding its own path.
func fakeRepo(t *testing.T, skip ...string) string {
	t.Helper()
	root := t.TempDir()
	files := []string{
		"web/demo/index.html", "web/demo/phone.html", "web/demo/app.js", "web/wasmeow.js",
		"web/node_modules/qrcode-generator/dist/qrcode.mjs", "web/node_modules/other/secret.js",
		"dist/wasmeow.wasm", "dist/wasm_exec.js", "go.mod",
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
		{"GET", "/wasmeow.js", 200, "web/wasmeow.js", "text/javascript"},
		{"GET", "/wasmeow.wasm", 200, "dist/wasmeow.wasm", "application/wasm"},
		{"GET", "/wasm_exec.js", 200, "dist/wasm_exec.js", "text/javascript"},
		{"GET", "/dist/wasmeow.wasm", 200, "dist/wasmeow.wasm", "application/wasm"},
		{"GET", "/web/wasmeow.js", 200, "web/wasmeow.js", "text/javascript"},
		{"GET", "/vendor/qrcode.mjs", 200, "web/node_modules/qrcode-generator/dist/qrcode.mjs", "text/javascript"},
		{"GET", "/web/node_modules/other/secret.js", 404, "", ""},
		{"GET", "/go.mod", 404, "", ""},
		{"GET", "/web/../go.mod", 404, "", ""},
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
		if string(body) != tc.body {
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
