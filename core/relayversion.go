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
	relayWAVersions = map[string]relayAnswer{}   // by /version URL; absent: not asked yet
	relayAsking     = map[string]chan struct{}{} // by /version URL: a question under way, closed when answered
)

// relayAnswer is what a relay said; a failure (none, a 503, not a relay) is
// asked again after relayRetryAfter, a version is kept for the page's life
// (until the service refuses it).
type relayAnswer struct {
	version store.WAVersionContainer
	ok      bool
	err     error // why not ok
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
	waVersionMu.Unlock()
	u, isRelay := relayVersionURL(socketURL)
	v := defaultWAVersion
	if isRelay {
		if ans := askRelay(ctx, u); ans.ok {
			v = ans.version
		} else {
			log.Infof("no version from %s (%v); announcing %s", u, ans.err, defaultWAVersion)
		}
	}
	waVersionMu.Lock()
	defer waVersionMu.Unlock()
	if pageWAVersion != nil {
		v = *pageWAVersion
	}
	announceWAVersion(v)
	return v
}

// askRelayEarly asks the relay behind socketURL for its version in the
// background, as soon as the page's settings are known: the answer is then
// in (or on its way) when the first client connects, after opening its
// storage, instead of one more HTTP round trip before its socket opens.
// Nothing is announced here (getWAVersion reports the default until a
// connect applies the answer), and nothing is asked when the page set its
// own version.
func askRelayEarly(socketURL string) {
	u, isRelay := relayVersionURL(socketURL)
	waVersionMu.Lock()
	own := pageWAVersion != nil
	waVersionMu.Unlock()
	if !isRelay || own {
		return
	}
	go askRelay(context.Background(), u)
}

// askRelay returns the relay's answer: the one kept (a version, or a
// failure less than relayRetryAfter old), the one of a question under way
// (asked early, or by another client's connect), or a new one. It asks
// outside the lock: forgetRelayVersions runs inside whatsmeow's event
// handler and must not wait for an HTTP round trip.
func askRelay(ctx context.Context, u string) relayAnswer {
	for {
		waVersionMu.Lock()
		ans, asked := relayWAVersions[u]
		if asked && (ans.ok || time.Since(ans.at) <= relayRetryAfter) {
			waVersionMu.Unlock()
			return ans
		}
		if wait, ok := relayAsking[u]; ok {
			waVersionMu.Unlock()
			select {
			case <-wait:
				continue // answered (or forgotten): look again
			case <-ctx.Done():
				return relayAnswer{err: ctx.Err()}
			}
		}
		done := make(chan struct{})
		relayAsking[u] = done
		waVersionMu.Unlock()
		got, err := fetchRelayVersion(ctx, u)
		ans = relayAnswer{version: got, ok: err == nil, err: err, at: time.Now()}
		waVersionMu.Lock()
		relayWAVersions[u] = ans
		delete(relayAsking, u)
		waVersionMu.Unlock()
		close(done)
		return ans
	}
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
