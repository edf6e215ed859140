package core

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.mau.fi/whatsmeow"
)

// Besides its socket, whatsmeow makes HTTP requests: media uploads and
// downloads, the history-sync blobs and the app-state snapshots and
// external mutations it downloads after pairing (all through the client
// SetMediaHTTPClient sets: download.go and upload.go of the pinned
// whatsmeow call cli.mediaHTTP.Do, and DownloadHistorySync and the app-state
// decoder go through Download). In a page those go through fetch, where
// CORS applies, so they can be sent to a media proxy instead: the relay's
// /media/ (docs/RELAY.md), or fakewa's copy of it.

// MediaProxyDirect is the mediaProxyURL value (loadWasmeow's false) that
// sends media requests to the media hosts themselves even when socketURL
// points at a relay.
const MediaProxyDirect = "direct"

// validateMediaProxyURL checks an explicit mediaProxyURL.
func validateMediaProxyURL(s string) error {
	if s == "" || s == MediaProxyDirect {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Errorf(CodeInvalidOption, "option mediaProxyURL must be an http:// or https:// URL without query or fragment (a relay's media proxy, e.g. https://relay.example/media/), or false; got %q", s)
	}
	return nil
}

// mediaProxyBase is where media requests go: the explicit mediaProxyURL,
// else the relay's own /media/ when socketURL is a relay's ws(s)://H/ws/chat
// (docs/RELAY.md), else "" (straight to the media hosts).
func (p Page) mediaProxyBase() string {
	switch p.MediaProxyURL {
	case MediaProxyDirect:
		return ""
	case "":
	default:
		return p.MediaProxyURL
	}
	u, err := url.Parse(p.SocketURL)
	if p.SocketURL == "" || err != nil || u.Path != "/ws/chat" {
		return ""
	}
	scheme := "http"
	if u.Scheme == "wss" {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s/media/", scheme, u.Host)
}

// MediaProxyBase is the media proxy the page's clients use ("" for none).
func MediaProxyBase() string { return CurrentPage().mediaProxyBase() }

// mediaRewrite sends https://<host>/<path>?<query> to
// <base>/<host>/<path>?<query>. It works on the URL string, so path and
// query reach the proxy byte for byte (the oh signature and whatsmeow's
// base64 hash= must not be re-encoded).
type mediaRewrite struct {
	base string
	next http.RoundTripper
}

func (m mediaRewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	rest, ok := strings.CutPrefix(req.URL.String(), "https://")
	if !ok {
		return m.next.RoundTrip(req)
	}
	target, err := url.Parse(strings.TrimSuffix(m.base, "/") + "/" + rest)
	if err != nil {
		return nil, fmt.Errorf("media proxy: rewriting %s: %w", req.URL.Redacted(), err)
	}
	out := req.Clone(req.Context())
	out.URL, out.Host = target, ""
	return m.next.RoundTrip(out)
}

// mediaHTTPClient is the HTTP client of whatsmeow's media requests for the
// page's current settings (nil: keep whatsmeow's own).
func mediaHTTPClient() *http.Client {
	base := MediaProxyBase()
	if base == "" {
		return nil
	}
	return &http.Client{Transport: mediaRewrite{base: base, next: http.DefaultTransport}}
}

// configureHTTPAndSync sets up a new whatsmeow client's HTTP and the sync
// paths whose results the page gets as events: app-state full syncs emit
// their events (contacts.update, chats.update), and history-sync blobs are
// downloaded by us (history.go) so a failure reaches the page.
func configureHTTPAndSync(cli *whatsmeow.Client) {
	if h := mediaHTTPClient(); h != nil {
		cli.SetMediaHTTPClient(h)
	}
	cli.EmitAppStateEventsOnFullSync = true
	cli.ManualHistorySyncDownload = true
}
