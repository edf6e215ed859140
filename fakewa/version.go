//go:build !js

package fakewa

import (
	"fmt"
	"strconv"

	"go.mau.fi/whatsmeow/proto/waWa6"
	"go.mau.fi/whatsmeow/store"
)

// CurrentVersion is the newest WhatsApp Web version known from public
// sources (whatsmeow upstream, "proto: update to v1045649367", 2026-08-20).
// Clients of the double announce it; the pinned whatsmeow's own
// 2.3000.1031080782 is refused by today's service and by the double.
var CurrentVersion = store.WAVersionContainer{2, 3000, 1045649367}

// DefaultMinVersion is the oldest version the double accepts by default: the
// one whatsmeow shipped about two months before CurrentVersion (2026-06-22),
// since a web version is reported to live about two months. Versions that were
// publicly reported refused (2.3000.1031080782, 2.3000.1033287297) are older.
var DefaultMinVersion = store.WAVersionContainer{2, 3000, 1041871181}

// UseVersion makes this process's whatsmeow clients announce v. The pinned
// whatsmeow's store.SetWAVersion changes only the build hash, not the
// ClientPayload's AppVersion (fixed upstream in a763037b, 2026-05-06), so the
// payload is set here too. Process-wide: call it before any client connects.
func UseVersion(v store.WAVersionContainer) {
	store.SetWAVersion(v)
	store.BaseClientPayload.UserAgent.AppVersion = v.ProtoAppVersion()
}

func payloadVersion(p *waWa6.ClientPayload) store.WAVersionContainer {
	av := p.GetUserAgent().GetAppVersion()
	return store.WAVersionContainer{av.GetPrimary(), av.GetSecondary(), av.GetTertiary()}
}

// refuseOutdated answers a client older than the minimum version with the
// failure the real service sends (<failure location=.. reason="405"/>, which
// whatsmeow turns into events.ClientOutdated) and closes the socket.
func (s *Server) refuseOutdated(c *conn) bool {
	set := s.Settings()
	v := payloadVersion(c.payload)
	if set.AllowOutdated || !v.LessThan(set.MinVersion) {
		return false
	}
	s.log.Warnf("%s: client version %s is older than %s: failure 405", c.name(), v, set.MinVersion)
	c.failAndClose("405")
	return true
}

// Settings returns the current behaviour switches.
func (s *Server) Settings() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

// SettingsUpdate changes some switches; nil fields stay as they are.
type SettingsUpdate struct {
	MinVersion     *string `json:"minVersion,omitempty"`
	AllowOutdated  *bool   `json:"allowOutdated,omitempty"`
	PNAddressing   *bool   `json:"pnAddressing,omitempty"`
	NoTCTokenCheck *bool   `json:"noTCTokenCheck,omitempty"`
	MediaCORS      *bool   `json:"mediaCORS,omitempty"`
}

// UpdateSettings applies u and returns the settings now in force.
func (s *Server) UpdateSettings(u SettingsUpdate) (Settings, error) {
	var minVersion store.WAVersionContainer
	if u.MinVersion != nil {
		v, err := store.ParseVersion(*u.MinVersion)
		if err != nil || v.IsZero() {
			return Settings{}, fmt.Errorf("minVersion %q is not a version like 2.3000.1045649367", *u.MinVersion)
		}
		minVersion = v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !minVersion.IsZero() {
		s.settings.MinVersion = minVersion
	}
	for _, f := range []struct {
		from *bool
		to   *bool
	}{{u.AllowOutdated, &s.settings.AllowOutdated}, {u.PNAddressing, &s.settings.PNAddressing}, {u.NoTCTokenCheck, &s.settings.NoTCTokenCheck}, {u.MediaCORS, &s.settings.MediaCORS}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	s.log.Infof("Settings now %s", s.settings)
	return s.settings, nil
}

func (st Settings) String() string {
	return "minVersion=" + st.MinVersion.String() + " allowOutdated=" + strconv.FormatBool(st.AllowOutdated) +
		" pnAddressing=" + strconv.FormatBool(st.PNAddressing) + " noTCTokenCheck=" + strconv.FormatBool(st.NoTCTokenCheck) + " mediaCORS=" + strconv.FormatBool(st.MediaCORS)
}

// settingsJSON is Settings in the control API, the version as a string.
type settingsJSON struct {
	MinVersion string `json:"minVersion"`
	Settings
}
