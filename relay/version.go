package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/socket"
	"go.mau.fi/whatsmeow/store"
)

// VersionConfig configures the relay's GET /version (Relay.VersionHandler):
// the WhatsApp Web client version a page should announce, which a page
// cannot learn itself (web.whatsapp.com sends no CORS headers).
type VersionConfig struct {
	// Fallback is served when the service's version cannot be fetched and
	// none was fetched before, e.g. "2.3000.1031080782". Empty: none.
	Fallback string
	// URL is the page the version is read from (whatsmeow's
	// GetLatestVersion); default https://web.whatsapp.com.
	URL string
	// TTL is how long a fetched version is served before it is fetched
	// again; default 6 hours. A failed fetch is retried after a minute at
	// the earliest (or after TTL, if shorter).
	TTL time.Duration
	// Client makes the request; default one with a 20 s timeout that honours
	// HTTPS_PROXY and friends.
	Client *http.Client
}

// DefaultVersionTTL is VersionConfig.TTL's default.
const DefaultVersionTTL = 6 * time.Hour

const versionRetry = time.Minute

func (c *VersionConfig) check() error {
	if c.Fallback != "" {
		if _, err := store.ParseVersion(c.Fallback); err != nil {
			return fmt.Errorf("relay: fallback WhatsApp Web version: %w", err)
		}
	}
	if c.URL == "" {
		c.URL = socket.Origin
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("relay: version URL %q must be an http(s):// URL", c.URL)
	}
	if c.TTL <= 0 {
		c.TTL = DefaultVersionTTL
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 20 * time.Second}
	}
	if c.URL != socket.Origin {
		// GetLatestVersion always asks for socket.Origin: send it elsewhere.
		client := *c.Client
		client.Transport = redirectTransport{to: u, next: client.Transport}
		c.Client = &client
	}
	return nil
}

// redirectTransport sends every request to one URL.
type redirectTransport struct {
	to   *url.URL
	next http.RoundTripper
}

func (t redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	to := *t.to
	req.URL, req.Host = &to, ""
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req)
}

// VersionInfo is the JSON body of GET /version.
type VersionInfo struct {
	Version string `json:"version"` // e.g. "2.3000.1031080782"
	// Source is "service" (read from the service, at FetchedAt) or "flag"
	// (VersionConfig.Fallback).
	Source    string     `json:"source"`
	FetchedAt *time.Time `json:"fetchedAt,omitempty"`
	// Error says why the last fetch failed, when the answer is a fallback
	// or a version fetched more than TTL ago.
	Error string `json:"error,omitempty"`
}

// versionCache keeps the last version fetched and the last failure; one fetch
// at a time serves every request waiting for it.
type versionCache struct {
	flight singleflight.Group

	mu        sync.Mutex
	fetched   string
	fetchedAt time.Time
	failedAt  time.Time
	failure   error
}

// currentVersion answers from the cache while it is fresh, else after one fetch
// shared with every concurrent caller.
func (r *Relay) currentVersion(ctx context.Context) (VersionInfo, error) {
	c := &r.version
	if !r.versionFresh() {
		ch := c.flight.DoChan("version", func() (any, error) {
			// A fetch that ended after this caller looked is as good.
			if !r.versionFresh() {
				r.fetchVersion()
			}
			return nil, nil
		})
		select {
		case <-ch:
		case <-ctx.Done():
			return VersionInfo{}, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var info VersionInfo
	if c.failure != nil {
		info.Error = c.failure.Error()
	}
	switch {
	case c.fetched != "":
		at := c.fetchedAt
		info.Version, info.Source, info.FetchedAt = c.fetched, "service", &at
	case r.cfg.VersionConfig.Fallback != "":
		info.Version, info.Source = r.cfg.VersionConfig.Fallback, "flag"
	default:
		return info, fmt.Errorf("fetching the WhatsApp Web version from %s failed (%v) and no fallback version is set (-wa-version)",
			r.cfg.VersionConfig.URL, c.failure)
	}
	return info, nil
}

// versionFresh reports whether the last fetch is recent enough to answer from.
func (r *Relay) versionFresh() bool {
	c := &r.version
	c.mu.Lock()
	defer c.mu.Unlock()
	ttl := r.cfg.VersionConfig.TTL
	return !c.fetchedAt.IsZero() && time.Since(c.fetchedAt) < ttl ||
		!c.failedAt.IsZero() && time.Since(c.failedAt) < min(versionRetry, ttl)
}

// fetchVersion runs detached from any one request, so that a caller who
// gives up does not fail the others waiting for the same fetch.
func (r *Relay) fetchVersion() {
	v, err := whatsmeow.GetLatestVersion(r.ctx, r.cfg.VersionConfig.Client)
	c := &r.version
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failedAt, c.failure = time.Now(), err
		r.log.Warnf("Fetching the WhatsApp Web version from %s: %v", r.cfg.VersionConfig.URL, err)
		return
	}
	c.fetched, c.fetchedAt, c.failedAt, c.failure = v.String(), time.Now(), time.Time{}, nil
	r.log.Infof("WhatsApp Web version %s (from %s)", c.fetched, r.cfg.VersionConfig.URL)
}

// VersionHandler serves GET /version: a VersionInfo as JSON, readable by the
// pages allowed to use the relay (CORS), or 503 with {"error": ...} when the
// version could be neither fetched nor taken from the fallback.
func (r *Relay) VersionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.allowed(w, req) {
			return
		}
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "relay: method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if origin := req.Header.Get("Origin"); origin != "" {
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		w.Header().Add("Vary", "Origin")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "application/json")
		info, err := r.currentVersion(req.Context())
		if err != nil && req.Context().Err() != nil {
			return // the client went away
		}
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "relay: " + err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(info)
	})
}
