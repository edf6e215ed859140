package core

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/store"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// The version the page announces is page-wide, as whatsmeow keeps it in a
// package variable: the page's own (loadWasmeow's waVersion) wins, then the
// relay's answer (asked once per page and relay), then defaultWAVersion.
var (
	waVersionMu     sync.Mutex
	pageWAVersion   *store.WAVersionContainer
	relayWAVersions = map[string]relayAnswer{} // by /version URL; absent: not asked yet
)

// relayAnswer is what a relay said; a failure (none, a 503, not a relay) is
// asked again after relayRetryAfter, a version is kept for the page's life
// (until the service refuses it).
type relayAnswer struct {
	version store.WAVersionContainer
	ok      bool
	at      time.Time
}

const relayRetryAfter = time.Minute

// From the start the module announces the default, not the pin's refused
// version: getWAVersion reports it before any connect.
func init() { announceWAVersion(defaultWAVersion) }

// SetWAVersion makes every later connection announce v (loadWasmeow's
// waVersion), whatever a relay says.
func SetWAVersion(v store.WAVersionContainer) {
	waVersionMu.Lock()
	defer waVersionMu.Unlock()
	pageWAVersion = &v
	announceWAVersion(v)
}

// applyWAVersion sets the version the next connection announces, asking
// the relay behind socketURL when the page set none. A relay that does not
// answer leaves the default: a plain WebSocket server (or the service
// itself) has no /version.
func applyWAVersion(ctx context.Context, socketURL string, log waLog.Logger) store.WAVersionContainer {
	waVersionMu.Lock()
	if pageWAVersion != nil {
		v := *pageWAVersion
		announceWAVersion(v)
		waVersionMu.Unlock()
		return v
	}
	u, isRelay := relayVersionURL(socketURL)
	ans, asked := relayWAVersions[u]
	waVersionMu.Unlock()
	if isRelay && (!asked || (!ans.ok && time.Since(ans.at) > relayRetryAfter)) {
		// Asked outside the lock: forgetRelayVersions runs inside whatsmeow's
		// event handler and must not wait for an HTTP round trip.
		got, err := fetchRelayVersion(ctx, u)
		if err != nil {
			log.Infof("no version from %s (%v); announcing %s", u, err, defaultWAVersion)
		}
		ans = relayAnswer{version: got, ok: err == nil, at: time.Now()}
		waVersionMu.Lock()
		relayWAVersions[u] = ans
		waVersionMu.Unlock()
	}
	v := defaultWAVersion
	if isRelay && ans.ok {
		v = ans.version
	}
	waVersionMu.Lock()
	defer waVersionMu.Unlock()
	if pageWAVersion != nil {
		v = *pageWAVersion
	}
	announceWAVersion(v)
	return v
}

func fetchRelayVersion(ctx context.Context, u string) (store.WAVersionContainer, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return store.WAVersionContainer{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return store.WAVersionContainer{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return store.WAVersionContainer{}, fmt.Errorf("HTTP %d", res.StatusCode)
	}
	return decodeRelayVersion(res.Body)
}

// forgetRelayVersions makes the next connect ask the relays again (after
// the service refused the version one gave).
func forgetRelayVersions() {
	waVersionMu.Lock()
	defer waVersionMu.Unlock()
	clear(relayWAVersions)
}
