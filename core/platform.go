package core

import (
	"strconv"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCompanionReg"
)

// browserPlatform is what the companion tells the phone about the browser
// it runs in. Today's WhatsApp Web puts the client type in the QR code and
// in the phone-number pairing request, and the platform in the device
// props; the three must agree, so they come from one place.
type browserPlatform struct {
	clientType whatsmeow.PairClientType                // QR suffix and PairPhone's clientType
	props      waCompanionReg.DeviceProps_PlatformType // store.DeviceProps.PlatformType
	name       string                                  // "Chrome", shown as "Chrome (Linux)"
	os         string
}

// detectPlatform reads the user agent of the page or worker. Order matters:
// Electron, Edge and Opera also announce Chrome, and Chrome announces Safari.
func detectPlatform(userAgent string) browserPlatform {
	p := browserPlatform{clientType: whatsmeow.PairClientOtherWebClient, props: waCompanionReg.DeviceProps_UNKNOWN, name: "Browser"}
	switch ua := userAgent; {
	case strings.Contains(ua, "Electron/"):
		p.clientType, p.props, p.name = whatsmeow.PairClientElectron, waCompanionReg.DeviceProps_DESKTOP, "Electron"
	case strings.Contains(ua, "Edg/"):
		p.clientType, p.props, p.name = whatsmeow.PairClientEdge, waCompanionReg.DeviceProps_EDGE, "Edge"
	case strings.Contains(ua, "OPR/"):
		p.clientType, p.props, p.name = whatsmeow.PairClientOpera, waCompanionReg.DeviceProps_OPERA, "Opera"
	case strings.Contains(ua, "Firefox/"):
		p.clientType, p.props, p.name = whatsmeow.PairClientFirefox, waCompanionReg.DeviceProps_FIREFOX, "Firefox"
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "Chromium/"):
		p.clientType, p.props, p.name = whatsmeow.PairClientChrome, waCompanionReg.DeviceProps_CHROME, "Chrome"
	case strings.Contains(ua, "Safari/"):
		p.clientType, p.props, p.name = whatsmeow.PairClientSafari, waCompanionReg.DeviceProps_SAFARI, "Safari"
	}
	switch ua := userAgent; {
	case strings.Contains(ua, "Windows"):
		p.os = "Windows"
	case strings.Contains(ua, "Android"):
		p.os = "Android"
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad"):
		p.os = "iOS"
	case strings.Contains(ua, "Mac OS"):
		p.os = "Mac OS"
	case strings.Contains(ua, "CrOS"):
		p.os = "ChromeOS"
	case strings.Contains(ua, "Linux"):
		p.os = "Linux"
	}
	return p
}

// displayName is the "Browser (OS)" form WhatsApp Web shows for a device.
func (p browserPlatform) displayName() string {
	if p.os == "" {
		return p.name
	}
	return p.name + " (" + p.os + ")"
}

// qrCode turns whatsmeow's bare code (ref,noise,identity,adv) into the form
// today's WhatsApp Web shows: a wa.me link with the client type appended
// (Baileys 7 buildPairingQRData; whatsmeow upstream 876de1e9, May 2026).
func (p browserPlatform) qrCode(bare string) string {
	return "https://wa.me/settings/linked_devices#" + bare + "," + strconv.Itoa(int(p.clientType))
}
