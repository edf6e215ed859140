package core

import (
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCompanionReg"
)

func TestDetectPlatform(t *testing.T) {
	for _, c := range []struct {
		ua      string
		typ     whatsmeow.PairClientType
		props   waCompanionReg.DeviceProps_PlatformType
		display string
	}{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
			whatsmeow.PairClientChrome, waCompanionReg.DeviceProps_CHROME, "Chrome (Linux)"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
			whatsmeow.PairClientEdge, waCompanionReg.DeviceProps_EDGE, "Edge (Windows)"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
			whatsmeow.PairClientSafari, waCompanionReg.DeviceProps_SAFARI, "Safari (Mac OS)"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
			whatsmeow.PairClientFirefox, waCompanionReg.DeviceProps_FIREFOX, "Firefox (Linux)"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) my-app/1.0.0 Chrome/130.0.0.0 Electron/33.0.0 Safari/537.36",
			whatsmeow.PairClientElectron, waCompanionReg.DeviceProps_DESKTOP, "Electron (Linux)"},
		{"Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
			whatsmeow.PairClientOpera, waCompanionReg.DeviceProps_OPERA, "Opera (Windows)"},
		{"", whatsmeow.PairClientOtherWebClient, waCompanionReg.DeviceProps_UNKNOWN, "Browser"},
	} {
		p := detectPlatform(c.ua)
		if p.clientType != c.typ || p.props != c.props || p.displayName() != c.display {
			t.Errorf("%q: got type %d, props %s, %q; want %d, %s, %q", c.ua, p.clientType, p.props, p.displayName(), c.typ, c.props, c.display)
		}
	}
}

func TestQRCodeForm(t *testing.T) {
	p := detectPlatform("Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
	got := p.qrCode("2@ref,bm9pc2U=,aWQ=,YWR2")
	if want := "https://wa.me/settings/linked_devices#2@ref,bm9pc2U=,aWQ=,YWR2,3"; got != want {
		t.Fatalf("qrCode = %q, want %q", got, want)
	}
}
