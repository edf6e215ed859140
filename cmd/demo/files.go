package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
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

// fileSet serves the files the demo pages load, and nothing else: an
// allow-list of regular files read through os.Root handles, so neither a
// symlink nor a ".." reaches anything outside the listed folders.
type fileSet struct {
	routes []route
}

// route is one URL path and where its file may come from, first found first.
type route struct {
	pattern string // a ServeMux pattern, method excluded
	from    []source
}

type source struct {
	dir  *os.Root
	path string // the folder, for messages
	name string // one path element inside dir
}

func newFileSet(root string) (*fileSet, error) {
	web := filepath.Join(root, "web")
	dirs := map[string]string{
		"demo": filepath.Join(web, "demo"),
		"web":  web,
		"dist": filepath.Join(root, "dist"),
		"qr":   filepath.Join(web, "node_modules", "qrcode-generator", "dist"),
	}
	for _, need := range []struct{ file, fix string }{
		{filepath.Join(dirs["demo"], "index.html"), "the checkout is incomplete"},
		{filepath.Join(dirs["qr"], "qrcode.mjs"), "run `make deps` (npm ci in web/)"},
		{filepath.Join(dirs["dist"], "wasmeow.wasm"), "run `make wasm`"},
		{filepath.Join(dirs["dist"], "wasm_exec.js"), "run `make wasm`"},
	} {
		if _, err := os.Stat(need.file); err != nil {
			return nil, fmt.Errorf("%s is missing: %s", need.file, need.fix)
		}
	}
	roots := map[string]*os.Root{}
	for key, dir := range dirs {
		r, err := os.OpenRoot(dir)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", dir, err)
		}
		roots[key] = r
	}
	src := func(key, name string) source { return source{roots[key], dirs[key], name} }
	// What web/demo/index.html, phone.html and their scripts load; the
	// module (web/wasmeow.js, else its copy in dist/) loads the wasm and Go's
	// loader from beside itself.
	return &fileSet{routes: []route{
		{"/{$}", []source{src("demo", "index.html")}},
		{"/phone", []source{src("demo", "phone.html")}},
		{"/demo/app.js", []source{src("demo", "app.js")}},
		{"/demo/messages.js", []source{src("demo", "messages.js")}},
		{"/demo/phone.js", []source{src("demo", "phone.js")}},
		{"/demo/style.css", []source{src("demo", "style.css")}},
		{"/vendor/qrcode.mjs", []source{src("qr", "qrcode.mjs")}},
		{"/wasmeow.js", []source{src("web", "wasmeow.js"), src("dist", "wasmeow.js")}},
		{"/wasmeow.wasm", []source{src("dist", "wasmeow.wasm")}},
		{"/wasm_exec.js", []source{src("dist", "wasm_exec.js")}},
	}}, nil
}

func (fs *fileSet) register(mux *http.ServeMux, cfg pageConfig) {
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(cfg)
	})
	for _, rt := range fs.routes {
		mux.HandleFunc("GET "+rt.pattern, func(w http.ResponseWriter, r *http.Request) { serve(w, r, rt.from) })
	}
}

// serve sends the first of from that is a regular file; a symlink is refused,
// not followed.
func serve(w http.ResponseWriter, r *http.Request, from []source) {
	var why string
	for _, s := range from {
		st, err := s.dir.Lstat(s.name)
		if err != nil {
			continue
		}
		if !st.Mode().IsRegular() {
			why = fmt.Sprintf("demo: %s is not a regular file (symlinks are not followed)", filepath.Join(s.path, s.name))
			continue
		}
		f, err := s.dir.Open(s.name)
		if err != nil {
			continue
		}
		defer f.Close()
		// The same file Lstat saw, not one swapped in since.
		if fst, err := f.Stat(); err != nil || !os.SameFile(st, fst) {
			continue
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, s.name, st.ModTime(), f)
		return
	}
	if why == "" {
		why = "404 page not found"
	}
	http.Error(w, why, http.StatusNotFound)
}
