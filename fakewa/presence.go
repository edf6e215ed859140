//go:build !js

package fakewa

import (
	"strconv"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Presence and chat states. Clients send <presence type="available|
// unavailable" name/> and <presence type="subscribe" to=jid/>, and
// <chatstate to=jid><composing [media="audio"]/>|<paused/></chatstate>
// (whatsmeow presence.go). The service answers a subscription with the
// contact's presence at once and then each change: <presence from=jid/> when
// online, <presence from=jid type="unavailable" last=unix/> when not
// (whatsmeow handlePresence). Chat states reach the peer's devices as
// <chatstate from=sender> (a group's members as <chatstate from=group
// participant=sender>). Neither is acknowledged or kept for offline devices:
// they go to live sockets only. (Profile pictures: pictures.go.)

// presenceState is who is online and who watches whom. Guarded by Server.mu;
// the zero value is ready.
type presenceState struct {
	online   map[*device]bool                   // devices that sent available and not unavailable since
	shown    map[*account]bool                  // what watchers were last told
	lastSeen map[*account]int64                 // when the account last went unavailable
	watchers map[*account]map[*device]types.JID // subscribed devices, with the JID they asked for
}

func (p *presenceState) init() {
	if p.online == nil {
		p.online, p.shown, p.lastSeen, p.watchers = map[*device]bool{}, map[*account]bool{}, map[*account]int64{}, map[*account]map[*device]types.JID{}
	}
}

// availableLocked says whether a device of the account said available and
// is still connected.
func (s *Server) availableLocked(a *account) bool {
	for _, d := range a.devices {
		if s.presence.online[d] && d.conn != nil {
			return true
		}
	}
	return false
}

// presenceNodeLocked is the account's presence as seen under the JID asked for.
func (s *Server) presenceNodeLocked(a *account, as types.JID) waBinary.Node {
	attrs := waBinary.Attrs{"from": as}
	if !s.availableLocked(a) {
		attrs["type"] = "unavailable"
		if t := s.presence.lastSeen[a]; t != 0 {
			attrs["last"] = strconv.FormatInt(t, 10)
		}
	}
	return waBinary.Node{Tag: "presence", Attrs: attrs}
}

// sendLive sends a stanza to a device's live, active socket; nothing if it
// has none (presence is not queued).
func (s *Server) sendLive(d *device, node waBinary.Node) {
	s.mu.Lock()
	c := d.conn
	if d.passive {
		c = nil
	}
	s.mu.Unlock()
	if c != nil {
		if err := c.send(node); err != nil {
			s.log.Debugf("%s: <%s> not sent: %v", d.JID, node.Tag, err)
		}
	}
}

func (s *Server) handlePresence(d *device, node *waBinary.Node) {
	typ, _ := node.Attrs["type"].(string)
	switch typ {
	case "subscribe", "unsubscribe":
		to, ok := node.Attrs["to"].(types.JID)
		s.mu.Lock()
		s.presence.init()
		a := s.userAccountLocked(to.ToNonAD())
		if !ok || a == nil {
			s.mu.Unlock()
			s.log.Infof("%s: presence %s to %v: no such account", d.JID, typ, node.Attrs["to"])
			return
		}
		if typ == "unsubscribe" {
			delete(s.presence.watchers[a], d)
			s.mu.Unlock()
			return
		}
		if s.presence.watchers[a] == nil {
			s.presence.watchers[a] = map[*device]types.JID{}
		}
		s.presence.watchers[a][d] = to.ToNonAD()
		now := s.presenceNodeLocked(a, to.ToNonAD())
		s.mu.Unlock()
		s.sendLive(d, now)
	case "available", "unavailable":
		s.setOnline(d, typ == "available")
	case "":
		// <presence name="..."/> with no type: a client announcing its push
		// name (whatsmeow's SendPresence carries name beside type). Baileys 7
		// sends it on every creds update (Socket/socket.js), and a bare
		// <presence/> when the update holds no name; the service takes both
		// without a word. The name shown to others stays the account's.
		name, _ := node.Attrs["name"].(string)
		s.log.Debugf("%s: presence with no type (name %q)", d.JID, name)
	default:
		s.log.Infof("%s: presence of unknown type %q ignored", d.JID, typ)
	}
}

// setOnline records a device's presence; see presenceChanged.
func (s *Server) setOnline(d *device, online bool) {
	s.mu.Lock()
	s.presence.init()
	if online {
		s.presence.online[d] = true
	} else {
		delete(s.presence.online, d)
	}
	s.mu.Unlock()
	s.presenceChanged(d.acct)
}

// presenceChanged tells the account's watchers when its presence differs
// from what they were last told.
func (s *Server) presenceChanged(a *account) {
	s.mu.Lock()
	s.presence.init()
	now := s.availableLocked(a)
	type out struct {
		dev  *device
		node waBinary.Node
	}
	var outs []out
	if now != s.presence.shown[a] {
		s.presence.shown[a] = now
		if !now {
			s.presence.lastSeen[a] = time.Now().Unix()
		}
		for w, as := range s.presence.watchers[a] {
			outs = append(outs, out{w, s.presenceNodeLocked(a, as)})
		}
	}
	s.mu.Unlock()
	for _, o := range outs {
		s.sendLive(o.dev, o.node)
	}
}

// presenceOnClose is a socket closing. Presence lives as long as the
// session: the device is no longer online and its subscriptions end (a new
// socket starts unavailable and subscribes again).
func (s *Server) presenceOnClose(c *conn) {
	s.mu.Lock()
	d := c.device
	if d != nil && d.conn == nil {
		s.presence.init()
		delete(s.presence.online, d)
		for _, w := range s.presence.watchers {
			delete(w, d)
		}
	}
	s.mu.Unlock()
	if d != nil {
		s.presenceChanged(d.acct)
	}
}

// handleChatState routes composing/paused (recording is composing with
// media="audio") to the peer, or to the group's other members.
func (s *Server) handleChatState(d *device, node *waBinary.Node) {
	to, _ := node.Attrs["to"].(types.JID)
	children := node.GetChildren()
	if len(children) != 1 || (children[0].Tag != "composing" && children[0].Tag != "paused") {
		s.log.Infof("%s: chatstate to %s without one <composing/> or <paused/>: ignored", d.JID, to)
		return
	}
	state := waBinary.Node{Tag: children[0].Tag}
	if media, ok := children[0].Attrs["media"].(string); ok && media == "audio" {
		state.Attrs = waBinary.Attrs{"media": media}
	}
	var targets []*device
	attrs := waBinary.Attrs{}
	s.mu.Lock()
	if to.Server == types.GroupServer {
		if g, err := s.groupLocked(to); err == nil && g.member(d.acct) != nil {
			attrs["from"], attrs["participant"] = to, g.memberJID(d.acct)
			targets = g.memberDevicesLocked()
		}
	} else if a := s.userAccountLocked(to.ToNonAD()); a != nil {
		attrs["from"] = d.acct.JID
		if !s.settings.PNAddressing {
			attrs["from"] = d.acct.LID
		}
		targets = a.sortedDevices()
	}
	s.mu.Unlock()
	for _, t := range targets {
		if t != d && t.acct != d.acct {
			s.sendLive(t, waBinary.Node{Tag: "chatstate", Attrs: attrs, Content: []waBinary.Node{state}})
		}
	}
}
