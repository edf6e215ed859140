//go:build !js

package fakewa

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"go.mau.fi/libsignal/ecc"
	"google.golang.org/protobuf/proto"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waCompanionReg"
	"go.mau.fi/whatsmeow/types"
)

// onAuthenticated runs once the Noise handshake is done: a login payload
// logs a known device in, a registration payload starts pairing.
func (s *Server) onAuthenticated(c *conn) {
	p := c.payload
	if s.refuseOutdated(c) {
		return
	}
	switch {
	case p.Username != nil:
		s.login(c)
	case p.DevicePairingData != nil:
		if err := s.startRegistration(c); err != nil {
			s.log.Warnf("%s: registration refused: %v", c.name(), err)
			c.failAndClose("400")
		}
	default:
		s.log.Warnf("%s: client payload has neither a username nor pairing data", c.name())
		c.failAndClose("400")
	}
}

func (s *Server) login(c *conn) {
	p := c.payload
	jid := types.JID{User: strconv.FormatUint(p.GetUsername(), 10), Device: uint16(p.GetDevice()), Server: types.DefaultUserServer}
	s.mu.Lock()
	d := s.devices[jid]
	var reason string
	switch {
	case d == nil:
		reason = "device not registered (logged out or never paired)"
	case d.simulatedPhone:
		reason = "device 0 is the simulated phone"
	case d.noisePub != c.noisePub:
		reason = "noise key does not match the one used at pairing"
	}
	if reason != "" {
		s.mu.Unlock()
		s.log.Warnf("%s: login as %s refused: %s", c.name(), jid, reason)
		c.failAndClose("401")
		return
	}
	old := d.conn
	d.conn = c
	d.passive = p.GetPassive()
	c.device = d
	c.setLabel(d.JID.String())
	lid := d.LID
	s.mu.Unlock()
	if old != nil {
		s.log.Infof("%s: new login replaces the previous socket", jid)
		_ = old.send(waBinary.Node{Tag: "stream:error", Content: []waBinary.Node{{Tag: "conflict", Attrs: waBinary.Attrs{"type": "replaced"}}}})
		old.closeGracefully()
	}
	now := time.Now().Unix()
	if err := c.send(waBinary.Node{Tag: "success", Attrs: waBinary.Attrs{
		"t": strconv.FormatInt(now, 10), "lid": lid, "location": "fakewa",
		"creation": strconv.FormatInt(now, 10), "props": "1",
	}}); err != nil {
		s.log.Warnf("%s: sending success: %v", jid, err)
		return
	}
	s.log.Infof("%s: logged in (passive=%v)", jid, p.GetPassive())
	if !p.GetPassive() {
		s.deliverOffline(d)
	}
}

func (s *Server) startRegistration(c *conn) error {
	pd := c.payload.DevicePairingData
	if len(pd.EIdent) != 32 || len(pd.ESkeyVal) != 32 || len(pd.ESkeySig) != 64 || len(pd.ERegid) != 4 {
		return fmt.Errorf("pairing data has malformed keys")
	}
	skeyID, err := uint32From(pd.ESkeyID)
	if err != nil {
		return fmt.Errorf("signed prekey id: %w", err)
	}
	reg := &registration{regID: uint32(pd.ERegid[0])<<24 | uint32(pd.ERegid[1])<<16 | uint32(pd.ERegid[2])<<8 | uint32(pd.ERegid[3])}
	copy(reg.identity[:], pd.EIdent)
	reg.signedPreKey = preKey{id: skeyID, signature: pd.ESkeySig}
	copy(reg.signedPreKey.pub[:], pd.ESkeyVal)
	if !ecc.VerifySignature(ecc.NewDjbECPublicKey(reg.identity), append([]byte{ecc.DjbType}, pd.ESkeyVal...), [64]byte(pd.ESkeySig)) {
		return fmt.Errorf("signed prekey signature does not verify with the identity key")
	}
	var props waCompanionReg.DeviceProps
	if err = proto.Unmarshal(pd.DeviceProps, &props); err == nil && props.GetOs() != "" {
		reg.platform = props.GetOs()
		reg.platformType = props.GetPlatformType().String()
	} else {
		reg.platform = "web"
	}

	refs := make([]string, s.cfg.QRRefs)
	s.mu.Lock()
	for i := range refs {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		refs[i] = "2@" + base64.StdEncoding.EncodeToString(b)
		s.qrRefs[refs[i]] = c
	}
	c.reg = reg
	c.refs = refs
	s.mu.Unlock()

	// The client shows the first code 60 s and every other 20 s; once all are
	// used up, the real service closes the socket, and so does the double.
	timer := time.AfterFunc(s.cfg.QRTimeout, func() {
		s.mu.Lock()
		paired := c.paired
		if !paired {
			for _, r := range c.refs {
				delete(s.qrRefs, r)
			}
			c.refs = nil
		}
		s.mu.Unlock()
		if !paired {
			s.log.Infof("%s: QR refs ran out without a scan, closing", c.name())
			c.closeGracefully()
		}
	})
	go func() { <-c.closedCh; timer.Stop() }()

	refNodes := make([]waBinary.Node, len(refs))
	for i, r := range refs {
		refNodes[i] = waBinary.Node{Tag: "ref", Content: []byte(r)}
	}
	s.log.Infof("%s: unpaired client (%s), offering %d QR refs", c.name(), reg.platform, len(refs))
	// Not on the read loop: the answer arrives through it.
	go func() {
		resp, err := c.request(waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{
			"from": types.ServerJID, "type": "set", "xmlns": "md",
		}, Content: []waBinary.Node{{Tag: "pair-device", Content: refNodes}}})
		if err != nil {
			s.log.Debugf("%s: pair-device: %v", c.name(), err)
		} else if t, _ := resp.Attrs["type"].(string); t != "result" {
			s.log.Warnf("%s: client answered pair-device with %s", c.name(), resp.XMLString())
		}
	}()
	return nil
}

func (s *Server) onClosed(c *conn) {
	defer s.presenceOnClose(c) // after the unlock below
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	for _, r := range c.refs {
		delete(s.qrRefs, r)
	}
	c.refs = nil
	for phone, lr := range s.linkRegs {
		if lr.c == c {
			delete(s.linkRegs, phone)
		}
	}
	if d := c.device; d != nil && d.conn == c {
		d.conn = nil
		s.log.Infof("%s: offline", d.JID)
	}
}

// handleNode routes one node from a client. It runs on the connection's read
// loop, so handlers that wait for the same client start their own goroutine.
func (s *Server) handleNode(c *conn, node *waBinary.Node) {
	s.mu.Lock()
	d := c.device
	s.mu.Unlock()
	switch node.Tag {
	case "iq":
		t, _ := node.Attrs["type"].(string)
		if (t == "result" || t == "error") && c.takeResponse(node) {
			return
		}
		s.handleIQ(c, d, node)
	case "ack":
		if d != nil {
			s.handleAck(c, d, node)
		}
	case "receipt":
		if d != nil {
			s.handleReceipt(c, d, node)
		}
	case "message":
		if d != nil {
			s.handleMessage(c, d, node)
		}
	case "presence":
		if d != nil {
			s.handlePresence(d, node)
		}
	case "chatstate":
		if d != nil {
			s.handleChatState(d, node)
		}
	case "ib":
		// Client telemetry such as <ib><unified_session id/> (Baileys 7
		// Socket/socket.ts): the service takes it without an answer.
	default:
		s.log.Infof("%s: ignoring unknown <%s> node", c.name(), node.Tag)
	}
}

func iqResult(req *waBinary.Node, content ...waBinary.Node) waBinary.Node {
	n := waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{"id": req.Attrs["id"], "type": "result", "from": types.ServerJID}}
	if len(content) > 0 {
		n.Content = content
	}
	return n
}

func iqError(req *waBinary.Node, code int, text string) waBinary.Node {
	return waBinary.Node{
		Tag:     "iq",
		Attrs:   waBinary.Attrs{"id": req.Attrs["id"], "type": "error", "from": types.ServerJID},
		Content: []waBinary.Node{{Tag: "error", Attrs: waBinary.Attrs{"code": strconv.Itoa(code), "text": text}}},
	}
}

func (s *Server) handleIQ(c *conn, d *device, node *waBinary.Node) {
	xmlns, _ := node.Attrs["xmlns"].(string)
	typ, _ := node.Attrs["type"].(string)
	first := ""
	if ch := node.GetChildren(); len(ch) > 0 {
		first = ch[0].Tag
	}
	var resp waBinary.Node
	switch {
	case xmlns == "w:p":
		resp = iqResult(node) // keepalive
	case xmlns == "md" && first == "link_code_companion_reg":
		resp = s.handleLinkCodeIQ(c, node)
	case d == nil:
		s.log.Warnf("%s: iq xmlns=%s before login", c.name(), xmlns)
		resp = iqError(node, 401, "not-authorized")
	case xmlns == "w:g2":
		var done func()
		if resp, done = s.handleGroupIQ(d, node); done != nil {
			defer done() // notifications go out after the answer
		}
	case xmlns == "w:profile:picture":
		var done func()
		if resp, done = s.handleProfilePicture(d, node); done != nil {
			defer done() // notifications go out after the answer
		}
	case xmlns == "passive" && typ == "set":
		s.mu.Lock()
		d.passive = first == "passive"
		s.mu.Unlock()
		resp = iqResult(node)
		if first == "active" {
			// Queued stanzas go out once the answer is on its way.
			defer s.deliverOffline(d)
		}
	case xmlns == "encrypt" && typ == "get" && first == "count":
		s.mu.Lock()
		n := len(d.preKeys)
		s.mu.Unlock()
		resp = iqResult(node, waBinary.Node{Tag: "count", Attrs: waBinary.Attrs{"value": strconv.Itoa(n)}})
	case xmlns == "md" && typ == "set" && first == "remove-companion-device":
		resp = s.handleRemoveCompanion(c, d, node)
	case xmlns == "w:m" && first == "media_conn":
		resp = s.handleMediaConn(node)
	case xmlns == "w:sync:app:state" && typ == "set":
		resp = s.handleAppStateSync(d, node)
	case xmlns == "privacy" && typ == "get":
		resp = iqResult(node, privacySettings())
	case xmlns == "privacy" && typ == "set" && first == "tokens":
		resp = s.handleTokenIssue(d, node)
	case xmlns == "encrypt" && typ == "get" && first == "digest":
		resp = s.handleDigest(d, node)
	case xmlns == "abt" && typ == "get":
		resp = s.handleABProps(node)
	case xmlns == "blocklist":
		resp = s.handleBlocklist(d, node)
	case xmlns == "encrypt" && typ == "get" && first == "key":
		resp = s.handlePreKeyFetch(node)
	case xmlns == "usync" && typ == "get":
		resp = s.handleUsync(d, node)
	case xmlns == "encrypt" && typ == "set" && node.GetChildByTag("list").Tag == "list":
		resp = s.handlePreKeyUpload(d, node)
	default:
		s.log.Infof("%s: unknown iq xmlns=%q type=%q <%s>: answering with an empty result", c.name(), xmlns, typ, first)
		resp = iqResult(node)
	}
	if err := c.send(resp); err != nil {
		s.log.Warnf("%s: answering iq: %v", c.name(), err)
	}
}

// handlePreKeyUpload stores a device's identity, signed prekey and new
// one-time prekeys.
func (s *Server) handlePreKeyUpload(d *device, node *waBinary.Node) waBinary.Node {
	regBytes, _ := node.GetChildByTag("registration").Content.([]byte)
	ident, _ := node.GetChildByTag("identity").Content.([]byte)
	if len(regBytes) != 4 || len(ident) != 32 {
		return iqError(node, 400, "bad-request")
	}
	var uploaded []preKey
	list := node.GetChildByTag("list")
	for _, k := range list.GetChildren() {
		pk, err := nodeToPreKey(k)
		if err != nil {
			s.log.Warnf("%s: prekey upload: %v", d.JID, err)
			return iqError(node, 400, "bad-request")
		}
		uploaded = append(uploaded, pk)
	}
	var skey *preKey
	if sk := node.GetChildByTag("skey"); sk.Tag == "skey" {
		pk, err := nodeToPreKey(sk)
		if err != nil || len(pk.signature) != 64 {
			s.log.Warnf("%s: signed prekey upload: bad skey (%v)", d.JID, err)
			return iqError(node, 400, "bad-request")
		}
		skey = &pk
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if [32]byte(ident) != d.identity {
		s.log.Warnf("%s: prekey upload with an identity that differs from the one at pairing", d.JID)
		return iqError(node, 409, "conflict")
	}
	have := make(map[uint32]int, len(d.preKeys))
	for i, k := range d.preKeys {
		have[k.id] = i
	}
	for _, k := range uploaded {
		if i, ok := have[k.id]; ok {
			d.preKeys[i] = k
		} else {
			d.preKeys = append(d.preKeys, k)
		}
	}
	if skey != nil {
		d.signedPreKey = *skey
	}
	s.log.Infof("%s: uploaded %d prekeys (now %d)", d.JID, len(uploaded), len(d.preKeys))
	return iqResult(node)
}

func nodeToPreKey(n waBinary.Node) (preKey, error) {
	var pk preKey
	idBytes, _ := n.GetChildByTag("id").Content.([]byte)
	id, err := uint32From(idBytes)
	if err != nil {
		return pk, fmt.Errorf("prekey id: %w", err)
	}
	pk.id = id
	val, _ := n.GetChildByTag("value").Content.([]byte)
	if len(val) != 32 {
		return pk, fmt.Errorf("prekey %d value has %d bytes, want 32", id, len(val))
	}
	copy(pk.pub[:], val)
	if sig, ok := n.GetChildByTag("signature").Content.([]byte); ok {
		pk.signature = sig
	}
	return pk, nil
}

// deliverOffline sends what waited for the device, then tells it the offline
// backlog is done (<ib><offline/>), as the real service does after login.
func (s *Server) deliverOffline(d *device) {
	n := s.flushQueue(d)
	s.mu.Lock()
	c := d.conn
	s.mu.Unlock()
	if c != nil {
		if n > 0 {
			s.log.Infof("%s: delivered %d queued stanza(s)", d.JID, n)
		}
		_ = c.send(waBinary.Node{Tag: "ib", Content: []waBinary.Node{{Tag: "offline", Attrs: waBinary.Attrs{"count": strconv.Itoa(n)}}}})
	}
}

// privacySettings is every account's answer to a privacy query: the defaults
// of a new account.
func privacySettings() waBinary.Node {
	var cats []waBinary.Node
	for _, c := range [][2]string{
		{"groupadd", "all"}, {"last", "all"}, {"status", "contacts"}, {"profile", "all"},
		{"readreceipts", "all"}, {"online", "all"}, {"calladd", "all"},
	} {
		cats = append(cats, waBinary.Node{Tag: "category", Attrs: waBinary.Attrs{"name": c[0], "value": c[1]}})
	}
	return waBinary.Node{Tag: "privacy", Content: cats}
}

// handleRemoveCompanion is a companion logging itself (or another companion
// of its account) out, as whatsmeow's Client.Logout does.
func (s *Server) handleRemoveCompanion(c *conn, d *device, node *waBinary.Node) waBinary.Node {
	jid, _ := node.GetChildByTag("remove-companion-device").Attrs["jid"].(types.JID)
	if jid.User != d.acct.Phone && jid.User != d.acct.LID.User {
		s.log.Warnf("%s: may not remove %s, a device of another account", d.JID, jid)
		return iqError(node, 403, "forbidden")
	}
	if err := s.removeDevice(jid, c); err != nil {
		s.log.Warnf("%s: remove-companion-device: %v", d.JID, err)
		return iqError(node, 404, "item-not-found")
	}
	return iqResult(node)
}
