package relay

import (
	"flag"
	"strings"
)

// AddFlags registers on fs the flags for the relay's access rules, limits,
// media proxy and version endpoint, with c's current values as defaults, so that every
// command running a relay offers the same ones. The upstream and listen
// address are left to the command.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.Func("allow-origin", "host pattern (path.Match, e.g. 'localhost:*' or 'app.example.com') of pages of other hosts that may use the relay; repeatable or comma-separated",
		listFlag(&c.AllowedOrigins))
	fs.Func("allow-host", "name the server is reached by (path.Match, no port), besides IP literals and localhost; any other Host header is refused (DNS rebinding); repeatable or comma-separated",
		listFlag(&c.AllowedHosts))
	fs.IntVar(&c.MaxConnections, "max-conns", orDefault(c.MaxConnections, DefaultMaxConnections), "relayed sockets open at once, at most (HTTP 503 beyond); negative: no limit")
	fs.IntVar(&c.MaxConnectionsPerOrigin, "max-conns-per-origin", orDefault(c.MaxConnectionsPerOrigin, DefaultMaxConnectionsPerOrigin), "relayed sockets open at once from one page origin (or one IP, without Origin), at most (HTTP 429 beyond); negative: no limit")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", orDefault(c.IdleTimeout, DefaultIdleTimeout), "close a relayed socket after this long without a frame either way; negative: never")
	fs.Func("media-host", "host (path.Match on the name, e.g. '*.fna.whatsapp.net') the media proxy /media/ forwards to; repeatable or comma-separated; replaces the default list ("+strings.Join(DefaultMediaHosts, ", ")+")",
		listFlag(&c.MediaHosts))
	fs.Int64Var(&c.MaxMediaSize, "media-max-size", orDefault(c.MaxMediaSize, DefaultMaxMediaSize), "largest upload or download the media proxy passes, in bytes (HTTP 413 beyond); negative: no limit")
	fs.DurationVar(&c.MediaTimeout, "media-timeout", orDefault(c.MediaTimeout, DefaultMediaTimeout), "longest a media request may take, from its start to its last byte (HTTP 504 if no answer by then)")
	fs.StringVar(&c.VersionConfig.Fallback, "wa-version", c.VersionConfig.Fallback, "WhatsApp Web version GET /version serves when it cannot fetch the current one, e.g. 2.3000.1031080782")
	fs.StringVar(&c.VersionConfig.URL, "wa-version-url", c.VersionConfig.URL, "page GET /version reads the current version from (default https://web.whatsapp.com)")
	fs.DurationVar(&c.VersionConfig.TTL, "wa-version-ttl", orDefault(c.VersionConfig.TTL, DefaultVersionTTL), "how long GET /version serves a fetched version before fetching again")
}

func listFlag(dst *[]string) func(string) error {
	return func(v string) error {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*dst = append(*dst, s)
			}
		}
		return nil
	}
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
