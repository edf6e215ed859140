//go:build !js

package fakewa

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// fakewa also answers the relay's media proxy shape on its own listener:
// /media/<host>/<path>?<query> is https://<host>/<path>?<query> on one of the
// hosts media_conn announces (docs/RELAY.md "/media/"). A page whose
// mediaProxyURL points here reaches the media hosts "directly", with CORS
// as the mediaCORS setting says (the relay, in front, serves the same shape
// with its own CORS). Only fakewa's own media hosts are served: it is not
// a proxy to anything.
const mediaProxyPrefix = "/media/"

func (s *Server) serveMediaProxyPath(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), mediaProxyPrefix)
	host, path, ok := strings.Cut(rest, "/")
	if !ok || host == "" {
		http.Error(w, "fakewa: media proxy requests are /media/<host>/<path>", http.StatusBadRequest)
		return
	}
	host = strings.ToLower(host)
	if !slices.Contains(s.mediaHosts(), host) {
		s.mediaCORS(w, r)
		http.Error(w, "fakewa: "+host+" is not one of this service's media hosts", http.StatusForbidden)
		return
	}
	if strings.HasPrefix(path, strings.TrimPrefix(mediaProxyPrefix, "/")) {
		http.Error(w, "fakewa: nested media proxy path", http.StatusBadRequest)
		return
	}
	plain, err := url.PathUnescape("/" + path)
	if err != nil {
		http.Error(w, "fakewa: bad path escape", http.StatusBadRequest)
		return
	}
	inner := r.Clone(r.Context())
	inner.URL.Path, inner.URL.RawPath = plain, "/"+path
	inner.RequestURI = ""
	inner.Host = host
	s.mux.ServeHTTP(w, inner)
}
