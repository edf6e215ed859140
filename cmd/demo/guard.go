package main

import (
	"net/http"
	"strings"

	"github.com/wasmeow/wasmeow/relay"
)

// ownPagesOnly lets only the demo's own pages use the embedded fakewa's
// control API, which drives the simulated phone, and its media paths: cross-origin POSTs are
// refused with 403 (Sec-Fetch-Site, else Origin against Host: Go's
// CrossOriginProtection), and fakewa's "Access-Control-Allow-Origin: *",
// meant for tests on other origins, is removed so no other page can read an
// answer or pass a preflight. DNS rebinding is stopped before, by the Host check.
func ownPagesOnly(api http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "demo: the control API and media paths answer the demo's own pages only", http.StatusForbidden)
	}))
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.ServeHTTP(&noCORS{ResponseWriter: w}, r)
	}))
}

// noCORS drops every Access-Control-* header the wrapped handler sets.
type noCORS struct {
	http.ResponseWriter
	stripped bool
}

func (w *noCORS) strip() {
	if w.stripped {
		return
	}
	w.stripped = true
	for k := range w.Header() {
		if strings.HasPrefix(k, "Access-Control-") {
			w.Header().Del(k)
		}
	}
}

func (w *noCORS) WriteHeader(code int) { w.strip(); w.ResponseWriter.WriteHeader(code) }

func (w *noCORS) Write(b []byte) (int, error) { w.strip(); return w.ResponseWriter.Write(b) }

func (w *noCORS) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ownOrigins refuses (403) a WebSocket of fakewa, which accepts any Origin,
// from pages other than the demo's own and those allowed by -allow-origin.
func ownOrigins(allowed []string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !relay.OriginAllowed(r, allowed) {
			http.Error(w, "demo: Origin "+r.Header.Get("Origin")+" is not allowed; allow its host with -allow-origin", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
