package relay

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// MediaPrefix is the path the media proxy is mounted at: a client rewrites
// https://<host>/<path>?<query> to <relay>/media/<host>/<path>?<query>
// (MediaURL) and the relay requests the original URL.
const MediaPrefix = "/media/"

// DefaultMediaHosts are the hosts the media proxy forwards to by default:
// the ones WhatsApp serves blobs from.
//   - mmg.whatsapp.net: uploads and the URLs of messages
//     (whatsmeow upload.go; message dumps: "https://mmg.whatsapp.net/v/t62.7118-24/..."),
//     and mmg-fna.whatsapp.net, the second host of media_conn answers
//     (whatsapp-rust wacore/src/iq/mediaconn.rs);
//   - *.fna.whatsapp.net and *.cdn.whatsapp.net: the per-site hosts
//     media_conn also announces (media_conn dumps name hosts such as
//     media.fcmb6-1.fna.whatsapp.net; the v2 dictionary has
//     media.fsaw1-11.fna.whatsapp.net) and the CDN names message URLs use;
//   - pps.whatsapp.net: profile pictures (GetProfilePictureInfo URLs,
//     "https://pps.whatsapp.net/v/t61.24694-24/...").
var DefaultMediaHosts = []string{"mmg.whatsapp.net", "mmg-fna.whatsapp.net", "*.fna.whatsapp.net", "*.cdn.whatsapp.net", "pps.whatsapp.net"}

// MediaURL is the rewrite a client applies to reach a media URL through a
// relay: "https://mmg.whatsapp.net/v/x?a=b" with base
// "http://127.0.0.1:8090/media/" gives "http://127.0.0.1:8090/media/mmg.whatsapp.net/v/x?a=b".
// Path and query are kept byte for byte (the oh/oe signature must not be
// re-encoded). URLs that are not https:// are returned unchanged.
func MediaURL(base, mediaURL string) string {
	rest, ok := strings.CutPrefix(mediaURL, "https://")
	if !ok {
		return mediaURL
	}
	return strings.TrimSuffix(base, "/") + "/" + rest
}

// hostName is a DNS name of two labels or more: no port, no user info, no
// IP literal brackets, nothing escaped.
var hostName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// targetError is a refused media request: its HTTP status and why.
type targetError struct {
	status int
	msg    string
}

func (e *targetError) Error() string { return e.msg }

// mediaTarget turns a proxy request (/media/<host>/<path>?<query>) into the
// https:// URL it stands for, if host is one of the allowed media hosts.
func mediaTarget(req *http.Request, allowed []string) (string, *targetError) {
	rest, ok := strings.CutPrefix(req.URL.EscapedPath(), MediaPrefix)
	if !ok {
		return "", &targetError{http.StatusNotFound, fmt.Sprintf("relay: media requests are %s<host>/<path>", MediaPrefix)}
	}
	host, path, ok := strings.Cut(rest, "/")
	if !ok || host == "" {
		return "", &targetError{http.StatusBadRequest, fmt.Sprintf("relay: expecting %s<host>/<path>, got %q", MediaPrefix, req.URL.EscapedPath())}
	}
	host = strings.ToLower(host)
	if !hostName.MatchString(host) || net.ParseIP(host) != nil {
		return "", &targetError{http.StatusBadRequest, fmt.Sprintf("relay: %q is not a host name (no port, no IP address, no user info)", host)}
	}
	if !matchAny(allowed, host) {
		return "", &targetError{http.StatusForbidden, fmt.Sprintf("relay: %q is not a media host this relay forwards to (allowed: %s; set them with -media-host)",
			host, strings.Join(allowed, ", "))}
	}
	target := "https://" + host + "/" + path
	if req.URL.RawQuery != "" || req.URL.ForceQuery {
		target += "?" + req.URL.RawQuery
	}
	return target, nil
}

// relayLocation rewrites a redirect of the upstream to the proxy's URL shape
// when it points at an allowed media host, so that the page follows it
// through the relay; any other target is dropped ("").
func relayLocation(location string, from *url.URL, allowed []string) string {
	u, err := from.Parse(location)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if !hostName.MatchString(host) || !matchAny(allowed, host) {
		return ""
	}
	rest := u.EscapedPath()
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	if u.RawQuery != "" {
		rest += "?" + u.RawQuery
	}
	return MediaPrefix + host + rest
}
