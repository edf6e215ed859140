//go:build !js

package fakewa

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mau.fi/libsignal/ecc"
	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"
)

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// qrLinkPrefix starts the QR string of current clients (WhatsApp Web, Baileys
// 7 buildPairingQRData, whatsmeow upstream 876de1e9): the four fields follow
// after it, then the companion's client type (CompanionWebClientType).
const qrLinkPrefix = "https://wa.me/settings/linked_devices#"

// parseQR splits a QR string in either form, the bare
// "ref,noise,identity,adv" of older clients or today's link, into the ref and
// the three 32-byte keys, and the client type (0 in the bare form).
func parseQR(qr string) (ref string, fields [3][]byte, clientType int, err error) {
	qr = strings.TrimSpace(qr)
	want := 4
	if rest, ok := strings.CutPrefix(qr, qrLinkPrefix); ok {
		qr, want = rest, 5
	}
	parts := strings.Split(qr, ",")
	if len(parts) != want {
		return "", fields, 0, fmt.Errorf("QR string has %d comma-separated parts, want 4 (ref,noise,identity,adv) or %s ref,noise,identity,adv,clientType", len(parts), qrLinkPrefix)
	}
	if want == 5 {
		t, err := strconv.ParseUint(parts[4], 10, 8)
		if err != nil || t == 0 {
			return "", fields, 0, fmt.Errorf("QR client type %q is not a CompanionWebClientType number", parts[4])
		}
		clientType = int(t)
	}
	for i, name := range []string{"noise key", "identity key", "adv secret"} {
		b, err := base64.StdEncoding.DecodeString(parts[i+1])
		if err != nil || len(b) != 32 {
			return "", fields, 0, fmt.Errorf("QR %s is not 32 bytes of base64", name)
		}
		fields[i] = b
	}
	return parts[0], fields, clientType, nil
}

// ScanQR is the account's phone scanning a QR string shown by a companion, in
// either form parseQR accepts. It returns the new device's JID once the
// companion has accepted pair-success, or why pairing failed.
func (s *Server) ScanQR(ctx context.Context, phone, qr string) (types.JID, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return types.EmptyJID, err
	}
	ref, fields, clientType, err := parseQR(qr)
	if err != nil {
		return types.EmptyJID, err
	}
	s.mu.Lock()
	c := s.qrRefs[ref]
	if c != nil && c.reg != nil {
		c.reg.qrClientType = clientType
	}
	s.mu.Unlock()
	if c == nil {
		return types.EmptyJID, fmt.Errorf("QR ref is unknown or expired (the companion disconnected or its refs ran out)")
	}
	if !bytes.Equal(fields[0], c.noisePub[:]) {
		return types.EmptyJID, fmt.Errorf("QR noise key does not match the socket that was given this ref")
	}
	if !bytes.Equal(fields[1], c.reg.identity[:]) {
		return types.EmptyJID, fmt.Errorf("QR identity key does not match the companion's registration")
	}
	s.log.Infof("Phone %s scanned the QR code of %s", a.Phone, c.name())
	return s.pairCompanion(ctx, a, c, fields[2])
}

// pairCompanion sends pair-success signed by the account's phone, checks the
// companion's device signature and registers the device. Then 515 tells the
// companion to log in again.
func (s *Server) pairCompanion(ctx context.Context, a *account, c *conn, advSecret []byte) (types.JID, error) {
	s.mu.Lock()
	if c.reg == nil || c.device != nil {
		s.mu.Unlock()
		return types.EmptyJID, fmt.Errorf("%s is not an unpaired companion", c.name())
	}
	if c.paired {
		s.mu.Unlock()
		return types.EmptyJID, fmt.Errorf("%s already went through pairing", c.name())
	}
	c.paired = true
	for _, r := range c.refs {
		delete(s.qrRefs, r)
	}
	c.refs = nil
	reg := c.reg
	id := a.nextDevice
	a.nextDevice++
	a.keyIndex++
	keyIndex := a.keyIndex
	s.mu.Unlock()

	details, err := proto.Marshal(&waAdv.ADVDeviceIdentity{
		RawID:     proto.Uint32(a.rawID),
		Timestamp: proto.Uint64(uint64(time.Now().Unix())),
		KeyIndex:  proto.Uint32(keyIndex),
	})
	if err != nil {
		return types.EmptyJID, fmt.Errorf("marshaling device identity details: %w", err)
	}
	accountSig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*a.identity.Priv),
		concat(whatsmeow.AdvAccountSignaturePrefix, details, reg.identity[:]))
	signed, err := proto.Marshal(&waAdv.ADVSignedDeviceIdentity{
		Details:             details,
		AccountSignatureKey: a.identity.Pub[:],
		AccountSignature:    accountSig[:],
	})
	if err != nil {
		return types.EmptyJID, fmt.Errorf("marshaling signed device identity: %w", err)
	}
	mac := hmac.New(sha256.New, advSecret)
	mac.Write(signed)
	container, err := proto.Marshal(&waAdv.ADVSignedDeviceIdentityHMAC{Details: signed, HMAC: mac.Sum(nil)})
	if err != nil {
		return types.EmptyJID, fmt.Errorf("marshaling device identity container: %w", err)
	}
	jid, lid := a.deviceJID(id), a.deviceLID(id)
	resp, err := c.request(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{"from": types.ServerJID, "type": "set", "xmlns": "md"},
		Content: []waBinary.Node{{Tag: "pair-success", Content: []waBinary.Node{
			{Tag: "device-identity", Content: container},
			{Tag: "platform", Attrs: waBinary.Attrs{"name": "android"}},
			{Tag: "device", Attrs: waBinary.Attrs{"jid": jid, "lid": lid}},
		}}}})
	if err != nil {
		return types.EmptyJID, fmt.Errorf("pair-success for %s: %w", jid, err)
	}
	if s.takeFault(&s.losePairConfirms) {
		// As if the answer never arrived: the companion stored a device the
		// service does not know, and its next login is refused (401).
		// The cut waits a moment: the companion's write of the answer
		// must have finished on its side, as when the network loses it
		// further on (cut at once, the write itself may fail and whatsmeow
		// then drops the pairing instead of storing it).
		s.log.Warnf("%s: losing its pair confirmation as %s (fault injection)", c.name(), jid)
		time.AfterFunc(200*time.Millisecond, c.cut)
		return types.EmptyJID, fmt.Errorf("pair confirmation of %s lost (fault injection)", jid)
	}
	if t, _ := resp.Attrs["type"].(string); t != "result" {
		e := resp.GetChildByTag("error")
		s.log.Warnf("%s rejected pairing as %s: %s", c.name(), jid, resp.XMLString())
		return types.EmptyJID, fmt.Errorf("companion rejected pairing as %s: code %v %v", jid, e.Attrs["code"], e.Attrs["text"])
	}
	if err = verifyDeviceSign(resp, details, reg.identity, a.identity.Pub[:], keyIndex); err != nil {
		s.log.Warnf("%s: bad pair-device-sign: %v", c.name(), err)
		_ = c.send(waBinary.Node{Tag: "stream:error", Attrs: waBinary.Attrs{"code": "401"}})
		c.closeGracefully()
		return types.EmptyJID, fmt.Errorf("pair-device-sign from %s: %w", jid, err)
	}

	d := &device{
		acct: a, ID: id, JID: jid, LID: lid, Platform: reg.platform, PlatformType: reg.platformType, ClientType: reg.qrClientType,
		noisePub: c.noisePub, identity: reg.identity, regID: reg.regID,
		signedPreKey: reg.signedPreKey, keyIndex: keyIndex,
	}
	s.mu.Lock()
	a.devices[id] = d
	s.devices[jid] = d
	s.mu.Unlock()
	s.log.Infof("Paired %s (%s) to %s", jid, lid, a.Phone)
	s.notifyDevicesChanged(a, d, "add")
	a.phone.shareAppStateKey(s, d)
	if !s.Settings().PNAddressing {
		a.phone.sendLIDMigration(s, d)
	}
	s.sendHeldTokens(d)
	a.phone.sendHistorySync(s, d)
	if err = c.send(waBinary.Node{Tag: "stream:error", Attrs: waBinary.Attrs{"code": "515"}}); err != nil {
		s.log.Warnf("%s: sending 515: %v", jid, err)
	}
	return jid, nil
}

// verifyDeviceSign checks the companion's pair-device-sign answer: the same
// details, signed with its identity key over the phone's key.
func verifyDeviceSign(resp *waBinary.Node, details []byte, companion [32]byte, phonePub []byte, keyIndex uint32) error {
	di, ok := resp.GetOptionalChildByTag("pair-device-sign", "device-identity")
	if !ok {
		return fmt.Errorf("answer has no pair-device-sign/device-identity")
	}
	if ki, _ := di.AttrGetter().GetInt64("key-index", false); uint32(ki) != keyIndex {
		return fmt.Errorf("key-index %d, want %d", ki, keyIndex)
	}
	raw, _ := di.Content.([]byte)
	var signed waAdv.ADVSignedDeviceIdentity
	if err := proto.Unmarshal(raw, &signed); err != nil {
		return fmt.Errorf("decoding signed device identity: %w", err)
	}
	if !bytes.Equal(signed.Details, details) {
		return fmt.Errorf("signed details differ from the ones sent")
	}
	if len(signed.DeviceSignature) != 64 {
		return fmt.Errorf("device signature has %d bytes, want 64", len(signed.DeviceSignature))
	}
	msg := concat(whatsmeow.AdvDeviceSignaturePrefix, details, companion[:], phonePub)
	if !ecc.VerifySignature(ecc.NewDjbECPublicKey(companion), msg, [64]byte(signed.DeviceSignature)) {
		return fmt.Errorf("device signature does not verify")
	}
	return nil
}

// Logout removes a companion on the server side. An online client gets
// stream:error 401 device_removed (events.LoggedOut); an offline one gets
// failure 401 at its next login.
func (s *Server) Logout(dev types.JID) error {
	return s.removeDevice(dev, nil)
}

// removeDevice unregisters a companion. Its socket, unless it is the one
// that asked (a client logging itself out), gets device_removed.
func (s *Server) removeDevice(dev types.JID, askedBy *conn) error {
	s.mu.Lock()
	d := s.deviceLocked(dev)
	if d == nil {
		s.mu.Unlock()
		return fmt.Errorf("no device %s", dev)
	}
	if d.simulatedPhone {
		s.mu.Unlock()
		return fmt.Errorf("%s is the simulated phone, not a companion", dev)
	}
	delete(d.acct.devices, d.ID)
	delete(s.devices, d.JID)
	c := d.conn
	d.conn = nil
	d.queue = nil
	s.mu.Unlock()
	s.log.Infof("Logged out %s", d.JID)
	s.notifyDevicesChanged(d.acct, d, "remove")
	if c != nil && c != askedBy {
		_ = c.send(waBinary.Node{Tag: "stream:error", Attrs: waBinary.Attrs{"code": "401"},
			Content: []waBinary.Node{{Tag: "conflict", Attrs: waBinary.Attrs{"type": "device_removed"}}}})
		c.closeGracefully()
	}
	return nil
}

// CutSocket drops a device's socket now (afterFrames <= 0) or after the
// server has sent afterFrames more frames to it.
func (s *Server) CutSocket(dev types.JID, afterFrames int) error {
	s.mu.Lock()
	d := s.deviceLocked(dev)
	var c *conn
	if d != nil {
		c = d.conn
	}
	s.mu.Unlock()
	if d == nil {
		return fmt.Errorf("no device %s", dev)
	}
	if c == nil {
		return fmt.Errorf("device %s is not connected", dev)
	}
	c.setCutAfter(afterFrames)
	return nil
}

// ConnInfo describes a live websocket in the control API.
type ConnInfo struct {
	ID     uint64 `json:"id"`
	Device string `json:"device,omitempty"` // once logged in
	// State is "handshake" (no client payload yet), "unpaired" (showing QR
	// codes or entering a code) or "device" (logged in as Device).
	State string `json:"state"`
	// Version is the WhatsApp Web version the client announced in its
	// ClientPayload (after the handshake).
	Version string `json:"version,omitempty"`
	// Dict is the dictionary version of its connection header (2 or 3).
	Dict int `json:"dict,omitempty"`
}

// Connections lists the live websockets, oldest first.
func (s *Server) Connections() []ConnInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnInfo, 0, len(s.conns))
	for c := range s.conns {
		ci := ConnInfo{ID: c.id, State: "handshake"}
		if v := c.announced.Load(); v != nil {
			ci.Version = *v
		}
		ci.Dict = int(c.dictVersion.Load())
		switch {
		case c.device != nil:
			ci.State, ci.Device = "device", c.device.JID.String()
		case c.reg != nil:
			ci.State = "unpaired"
		}
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// CutConnection is CutSocket for a websocket named by its id (ConnInfo.ID),
// paired or not.
func (s *Server) CutConnection(id uint64, afterFrames int) error {
	s.mu.Lock()
	var found *conn
	for c := range s.conns {
		if c.id == id {
			found = c
		}
	}
	s.mu.Unlock()
	if found == nil {
		return fmt.Errorf("no live connection %d", id)
	}
	found.setCutAfter(afterFrames)
	return nil
}

// takeFault uses up one of an armed fault's counts, if any is left.
func (s *Server) takeFault(count *int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *count <= 0 {
		return false
	}
	*count--
	return true
}

// LoseNextPairConfirmation arms the fault for the next pairing: the
// companion's answer to pair-success is dropped as if the network lost it,
// the device is not registered and the socket is cut. The companion has
// stored a device the service never confirmed (a crash right after a scan
// leaves the same). Calls queue up, one per pairing.
func (s *Server) LoseNextPairConfirmation() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.losePairConfirms++
}

// CutNextConnection arms the fault for the next websocket that opens: it is
// cut after afterFrames encrypted server frames (the handshake not counted),
// or as soon as it opens if afterFrames <= 0. Calls queue up, one per socket.
func (s *Server) CutNextConnection(afterFrames int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if afterFrames < 0 {
		afterFrames = 0
	}
	s.cutNext = append(s.cutNext, afterFrames)
}
