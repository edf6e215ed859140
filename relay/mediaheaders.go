package relay

import (
	"net/http"
	"strings"
)

// The media proxy forwards only the headers named here, so cookies
// (Cookie, Set-Cookie), credentials, hop-by-hop headers (Connection and the
// ones it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade,
// Proxy-*) and the upstream's own CORS answer never cross it.
var (
	// forwardedRequestHeaders go from the page to the media host.
	// Accept-Encoding is passed on as the browser sent it, so the transport
	// does not decompress and the browser decodes what it asked for.
	forwardedRequestHeaders = []string{"Accept", "Accept-Encoding", "Accept-Language", "Content-Type",
		"If-Match", "If-Modified-Since", "If-None-Match", "If-Range", "Range", "User-Agent"}
	// forwardedResponseHeaders go from the media host to the page
	// (Location separately, rewritten by relayLocation). Retry-After is read
	// by whatsmeow's download retries.
	forwardedResponseHeaders = []string{"Accept-Ranges", "Cache-Control", "Content-Disposition", "Content-Encoding",
		"Content-Language", "Content-Length", "Content-Range", "Content-Type", "ETag", "Expires", "Last-Modified",
		"Retry-After", "Vary"}
	// exposedResponseHeaders are those of them a cross-origin page cannot
	// read without Access-Control-Expose-Headers.
	exposedResponseHeaders = "Accept-Ranges, Content-Disposition, Content-Encoding, Content-Range, ETag, Retry-After"
	// allowedRequestHeaders answers preflights: the non-safelisted headers
	// a page may send (whatsmeow's upload sets Content-Type).
	allowedRequestHeaders = "Content-Type, Range, If-Match, If-None-Match, If-Modified-Since, If-Range, User-Agent"
)

// copyHeaders copies the named headers of src into dst, skipping any that a
// Connection header of src names as hop-by-hop.
func copyHeaders(dst, src http.Header, names []string) {
	hop := map[string]bool{}
	for _, v := range src.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			hop[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	for _, name := range names {
		if hop[name] {
			continue
		}
		for _, v := range src.Values(name) {
			dst.Add(name, v)
		}
	}
}

// setCORS lets the page that sent req read the answer. Only pages that
// passed Relay.allowed get here; requests without an Origin (not from a
// page) get no CORS headers.
func setCORS(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := req.Header.Get("Origin")
	if origin == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", exposedResponseHeaders)
}

// answerPreflight answers an OPTIONS request of an allowed page with 204.
// Private Network Access: a public page reaching a relay on the user's
// machine asks first with Access-Control-Request-Private-Network.
func answerPreflight(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST")
	h.Set("Access-Control-Allow-Headers", allowedRequestHeaders)
	h.Set("Access-Control-Max-Age", "600")
	if req.Header.Get("Access-Control-Request-Private-Network") == "true" {
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	w.WriteHeader(http.StatusNoContent)
}
