package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/wasmeow/wasmeow/fakewa"
)

func init() {
	// Browsers refuse module scripts and streaming wasm compilation with a
	// wrong type, and the system's MIME table may lack these.
	_ = mime.AddExtensionType(".mjs", "text/javascript; charset=utf-8")
	_ = mime.AddExtensionType(".js", "text/javascript; charset=utf-8")
	_ = mime.AddExtensionType(".wasm", "application/wasm")
}

// pageConfig is what the demo pages fetch from /config.json.
type pageConfig struct {
	Mode         string             `json:"mode"` // "offline" or "relay"
	Upstream     string             `json:"upstream,omitempty"`
	TrustRootKey string             `json:"trustRootKey,omitempty"` // base64; empty means WhatsApp's own
	Phone        fakewa.AccountInfo `json:"phone"`
	Peer         fakewa.AccountInfo `json:"peer"`
}

func encodeKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// findRoot returns the repository root: dir if given, else the nearest
// ancestor of the working directory whose go.mod is this module's.
func findRoot(dir string) (string, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "web", "demo", "index.html")); err != nil {
			return "", fmt.Errorf("-root %s: no web/demo/index.html there: %w", dir, err)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		mod, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(mod), "module github.com/wasmeow/wasmeow\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no wasmeow repository around %s: run the demo from the repository or pass -root", wd)
		}
	}
}

// fileSet serves the pages, the JS module and the wasm from the repository.
type fileSet struct {
	web, dist, demo, qrLib string
}

func newFileSet(root string) (*fileSet, error) {
	fs := &fileSet{
		web:   filepath.Join(root, "web"),
		dist:  filepath.Join(root, "dist"),
		demo:  filepath.Join(root, "web", "demo"),
		qrLib: filepath.Join(root, "web", "node_modules", "qrcode-generator", "dist", "qrcode.mjs"),
	}
	for _, need := range []struct{ file, fix string }{
		{filepath.Join(fs.demo, "index.html"), "the checkout is incomplete"},
		{fs.qrLib, "run `make deps` (npm ci in web/)"},
		{filepath.Join(fs.dist, "wasmeow.wasm"), "run `make wasm`"},
		{filepath.Join(fs.dist, "wasm_exec.js"), "run `make wasm`"},
	} {
		if _, err := os.Stat(need.file); err != nil {
			return nil, fmt.Errorf("%s is missing: %s", need.file, need.fix)
		}
	}
	return fs, nil
}

func (fs *fileSet) register(mux *http.ServeMux, cfg pageConfig) {
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(cfg)
	})
	mux.HandleFunc("GET /{$}", fs.file(filepath.Join(fs.demo, "index.html")))
	mux.HandleFunc("GET /phone", fs.file(filepath.Join(fs.demo, "phone.html")))
	mux.Handle("GET /demo/", noCache(http.StripPrefix("/demo/", http.FileServer(http.Dir(fs.demo)))))
	mux.HandleFunc("GET /vendor/qrcode.mjs", fs.file(fs.qrLib))
	// No method in this pattern: "GET /" would conflict with fakewa's "/api/".
	mux.HandleFunc("/", fs.module)
}

func (fs *fileSet) file(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, name)
	}
}

// module serves the JS module's files from the top of web/ and then dist/ at the
// site root (so the module finds the wasm beside itself), and both folders
// under /web/ and /dist/ as in the repository (so a module that looks in
// ../dist/ finds it too).
func (fs *fileSet) module(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)[1:]
	var candidates []string
	switch first, rest, _ := strings.Cut(p, "/"); {
	case first == "dist" && rest != "":
		candidates = []string{filepath.Join(fs.dist, filepath.FromSlash(rest))}
	case first == "web" && rest != "":
		candidates = []string{filepath.Join(fs.web, filepath.FromSlash(rest))}
	case p != "" && !strings.Contains(p, "/"):
		candidates = []string{filepath.Join(fs.web, p), filepath.Join(fs.dist, p)}
	}
	for _, c := range candidates {
		if strings.Contains(c, string(filepath.Separator)+"node_modules"+string(filepath.Separator)) {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			fs.file(c)(w, r)
			return
		}
	}
	http.NotFound(w, r)
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
