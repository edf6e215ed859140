package relay

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// HostAllowed reports whether a request's Host header (host or host:port)
// names this server in a way DNS rebinding cannot produce. A rebinding page
// reaches a loopback server under the attacker's own name, which then is
// both its Origin and the Host, so an Origin check alone lets it through.
// Allowed without configuration: IP literals (no name to rebind), "localhost"
// and names under ".localhost" (browsers resolve those to loopback without
// asking DNS). Other names must match one of patterns (path.Match syntax on
// the host without its port, case-insensitive; "*" allows any).
func HostAllowed(hostport string, patterns []string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	switch {
	case host == "":
		return false
	case net.ParseIP(host) != nil, host == "localhost", strings.HasSuffix(host, ".localhost"):
		return true
	}
	return matchAny(patterns, host)
}

// OriginAllowed lets through requests without an Origin (not from a browser
// page), pages of the request's own host (check the Host with HostAllowed
// first), and pages whose host (with its port, if any) matches one of
// patterns (path.Match syntax, e.g. "localhost:*", case-insensitive).
func OriginAllowed(req *http.Request, patterns []string) bool {
	origin := req.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // includes "null", sent by sandboxed and file: pages
	}
	return strings.EqualFold(u.Host, req.Host) || matchAny(patterns, strings.ToLower(u.Host))
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), s); ok {
			return true
		}
	}
	return false
}

// RequireHost answers 403 to requests whose Host is not allowed by
// HostAllowed, before h sees them.
func RequireHost(patterns []string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !HostAllowed(req.Host, patterns) {
			http.Error(w, hostRefusal(req.Host), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, req)
	})
}

func hostRefusal(host string) string {
	return fmt.Sprintf("relay: Host %q is not allowed (DNS rebinding protection); allow the name with -allow-host", host)
}
