package core

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"go.mau.fi/whatsmeow/store"
)

// defaultWAVersion is the WhatsApp Web version announced when neither the
// page (loadWasmeow's waVersion) nor a relay's GET /version names one. The
// pinned whatsmeow announces 2.3000.1031080782, which the service refuses
// with 405 since spring 2026; this is the newest version public sources
// show (whatsmeow upstream "proto: update to v1045649367", 2026-08-20; see
// docs/SERVICE.md). A version lives about two months: deployments should set
// waVersion or run the relay.
var defaultWAVersion = store.WAVersionContainer{2, 3000, 1045649367}

// announceWAVersion makes every later connection announce v. The pinned
// whatsmeow's store.SetWAVersion changes only the build hash, not the
// ClientPayload's AppVersion (fixed upstream in a763037b, 2026-05-06), so
// the payload's version is set here too.
//
// Only a change is written: whatsmeow reads these package variables on
// every connect without a lock, so rewriting the same value at each
// client's connect would race those reads.
func announceWAVersion(v store.WAVersionContainer) {
	if store.GetWAVersion() == v && store.BaseClientPayload.GetUserAgent().GetAppVersion().GetTertiary() == v[2] {
		return
	}
	store.SetWAVersion(v)
	store.BaseClientPayload.UserAgent.AppVersion = v.ProtoAppVersion()
}

// ParseWAVersion reads "2.3000.1034270928".
func ParseWAVersion(s string) (store.WAVersionContainer, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 {
		return store.WAVersionContainer{}, fmt.Errorf("%q is not a WhatsApp Web version (three numbers such as 2.3000.1034270928)", s)
	}
	var v store.WAVersionContainer
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || (i == 0 && n == 0) {
			return store.WAVersionContainer{}, fmt.Errorf("%q is not a WhatsApp Web version (three numbers such as 2.3000.1034270928)", s)
		}
		v[i] = uint32(n)
	}
	return v, nil
}

// serviceHost is the service's own WebSocket host (whatsmeow's socket.URL).
const serviceHost = "web.whatsapp.com"

// relayVersionURL is where a relay serves the current version: /version on
// the socket URL's host, over http(s) to match ws(s).
func relayVersionURL(socketURL string) (string, bool) {
	u, err := url.Parse(socketURL)
	if err != nil || u.Host == "" || strings.EqualFold(u.Hostname(), serviceHost) {
		return "", false // the service itself has no /version (and a page asking it meets CORS)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", false
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/version"}).String(), true
}

// decodeRelayVersion reads the relay's answer: {"version": "2.3000.x", ...}.
func decodeRelayVersion(r io.Reader) (store.WAVersionContainer, error) {
	var body struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(io.LimitReader(r, 4096)).Decode(&body); err != nil {
		return store.WAVersionContainer{}, fmt.Errorf("reading the relay's /version: %w", err)
	}
	return ParseWAVersion(body.Version)
}
