package core

import (
	"bytes"
	"net/url"
	"sync"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"

	"github.com/coder/websocket"
)

// Page holds what whatsmeow and the websocket keep in package variables,
// and so are one per page (or worker, or Go process): where to connect and
// which root key to trust.
type Page struct {
	// SocketURL replaces wss://web.whatsapp.com/ws/chat (a relay, a test
	// server); "" keeps it.
	SocketURL string
	// TrustRootKey replaces WhatsApp's root public key (a test server); nil
	// keeps it.
	TrustRootKey []byte
	// MediaProxyURL is where whatsmeow's HTTP goes (mediahttp.go): "" derives
	// it from SocketURL, MediaProxyDirect sends it to the media hosts.
	MediaProxyURL string
}

// Validate checks the values, naming them as loadWasmeow's options.
func (p Page) Validate() error {
	if p.SocketURL != "" {
		u, err := url.Parse(p.SocketURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return Errorf(CodeInvalidOption, "option socketURL must be a ws:// or wss:// URL, got %q", p.SocketURL)
		}
	}
	if p.TrustRootKey != nil && len(p.TrustRootKey) != 32 {
		return Errorf(CodeInvalidOption, "option trustRootKey must be a 32-byte key (base64 string or Uint8Array)")
	}
	return validateMediaProxyURL(p.MediaProxyURL)
}

func (p Page) equal(q Page) bool {
	return p.SocketURL == q.SocketURL && bytes.Equal(p.TrustRootKey, q.TrustRootKey) && p.MediaProxyURL == q.MediaProxyURL
}

var (
	pageMu   sync.Mutex
	page     Page
	pageSet  bool
	platform = detectPlatform("")
)

// SetPage sets the page-wide settings, once: a later call with other
// values fails (clients already connected rely on the first), the same
// values are accepted again.
func SetPage(p Page) error {
	if err := p.Validate(); err != nil {
		return err
	}
	pageMu.Lock()
	defer pageMu.Unlock()
	if pageSet {
		if !page.equal(p) {
			return Errorf(CodeInvalidOption, "socketURL, trustRootKey and mediaProxyURL are page-wide and already set (socketURL %q)", page.SocketURL)
		}
		return nil
	}
	page, pageSet = Page{SocketURL: p.SocketURL, TrustRootKey: bytes.Clone(p.TrustRootKey), MediaProxyURL: p.MediaProxyURL}, true
	if u := p.SocketURL; u != "" {
		websocket.SetURLRewrite(func(string) string { return u })
		askRelayEarly(u) // relayversion.go
	}
	if p.TrustRootKey != nil {
		whatsmeow.WACertPubKey = [32]byte(p.TrustRootKey)
	}
	return nil
}

// CurrentPage is what SetPage set (the zero Page before).
func CurrentPage() Page {
	pageMu.Lock()
	defer pageMu.Unlock()
	return page
}

// SetUserAgent tells the core which browser it runs in (the QR code, the
// pairing request and the device props name it).
func SetUserAgent(ua string) {
	pageMu.Lock()
	defer pageMu.Unlock()
	platform = detectPlatform(ua)
}

func currentPlatform() browserPlatform {
	pageMu.Lock()
	defer pageMu.Unlock()
	return platform
}

// applyDevice sets what whatsmeow keeps in package variables about the
// device just before a client connects: the name the phone shows and the
// platform (as the QR code and PairPhone say). Only a change is written,
// as in announceWAVersion.
func applyDevice(deviceName string) {
	pageMu.Lock()
	defer pageMu.Unlock()
	if store.DeviceProps.GetOs() != deviceName {
		store.SetOSInfo(deviceName, [3]uint32{0, 1, 0})
	}
	if store.DeviceProps.GetPlatformType() != platform.props {
		store.DeviceProps.PlatformType = platform.props.Enum()
	}
}
