//go:build !js

package fakewa

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// queued is a stanza for a companion, kept until the companion acknowledges
// it (an <ack>, or a <receipt> for messages). sentOn is the socket it last
// went out on: a stanza sent on a socket that died goes out again.
type queued struct {
	key    string // class|id|from, the way the client's ack names it
	node   waBinary.Node
	sentOn *conn
	sentAt time.Time
}

func stanzaKey(class, id string, from types.JID) string {
	return class + "|" + id + "|" + from.ToNonAD().String() + ":" + strconv.Itoa(int(from.Device))
}

// deliver hands a stanza to a device: the simulated phone handles it at
// once; a companion gets it queued and sent when it is online and active.
func (s *Server) deliver(d *device, node waBinary.Node) {
	if d.simulatedPhone {
		d.acct.phone.enqueue(s, node)
		return
	}
	from, _ := node.Attrs["from"].(types.JID)
	id, _ := node.Attrs["id"].(string)
	s.mu.Lock()
	d.queue = append(d.queue, &queued{key: stanzaKey(node.Tag, id, from), node: node})
	s.mu.Unlock()
	s.flushQueue(d)
}

// flushQueue sends what the device's current socket has not had yet, in order.
func (s *Server) flushQueue(d *device) int {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	s.mu.Lock()
	c := d.conn
	if c == nil || d.passive {
		s.mu.Unlock()
		return 0
	}
	var batch []*queued
	for _, q := range d.queue {
		if q.sentOn != c {
			batch = append(batch, q)
		}
	}
	s.mu.Unlock()
	sent := 0
	for _, q := range batch {
		// Marked before the write: the client's ack may be read before
		// send returns.
		s.mu.Lock()
		q.sentOn, q.sentAt = c, time.Now()
		s.mu.Unlock()
		if err := c.send(q.node); err != nil {
			s.mu.Lock()
			if q.sentOn == c {
				q.sentOn = nil
			}
			s.mu.Unlock()
			s.log.Debugf("%s: delivery stopped: %v", d.JID, err)
			break
		}
		sent++
	}
	return sent
}

// acknowledge drops a stanza from the device's queue. Only a copy sent on
// the socket the acknowledgement came on counts: a resend with the same id,
// queued but not sent yet, must not be dropped by a late ack of the first.
func (s *Server) acknowledge(d *device, c *conn, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range d.queue {
		if q.key == key && q.sentOn == c {
			d.queue = append(d.queue[:i], d.queue[i+1:]...)
			return
		}
	}
}

// redeliverLoop resends stanzas a live socket has not acknowledged in time.
func (s *Server) redeliverLoop() {
	defer s.wg.Done()
	tick := time.NewTicker(s.cfg.RedeliverAfter / 4)
	defer tick.Stop()
	for {
		select {
		case <-s.stopped:
			return
		case <-tick.C:
		}
		var due []*device
		s.mu.Lock()
		for _, d := range s.devices {
			for _, q := range d.queue {
				if q.sentOn != nil && q.sentOn == d.conn && time.Since(q.sentAt) > s.cfg.RedeliverAfter {
					q.sentOn = nil
					due = append(due, d)
					break
				}
			}
		}
		s.mu.Unlock()
		for _, d := range due {
			s.log.Infof("%s: resending stanzas not acknowledged within %s", d.JID, s.cfg.RedeliverAfter)
			s.flushQueue(d)
		}
	}
}

// Queued is how many stanzas wait for a device's acknowledgement.
func (s *Server) Queued(dev types.JID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.deviceLocked(dev); d != nil {
		return len(d.queue)
	}
	return 0
}

func (s *Server) handleAck(c *conn, d *device, node *waBinary.Node) {
	class, _ := node.Attrs["class"].(string)
	id, _ := node.Attrs["id"].(string)
	to, _ := node.Attrs["to"].(types.JID)
	s.acknowledge(d, c, stanzaKey(class, id, to))
	if e, _ := node.Attrs["error"].(string); e != "" && e != "0" {
		s.log.Warnf("%s: nack for %s %s from %s: error %s", d.JID, class, id, to, e)
	}
}

// handleReceipt acknowledges the message it answers and forwards it
// (routeReceipt).
func (s *Server) handleReceipt(c *conn, d *device, node *waBinary.Node) {
	id, _ := node.Attrs["id"].(string)
	to, _ := node.Attrs["to"].(types.JID)
	typ, _ := node.Attrs["type"].(string)
	s.acknowledge(d, c, stanzaKey("message", id, to))
	list := node.GetChildByTag("list")
	for _, item := range list.GetChildren() {
		if itemID, ok := item.Attrs["id"].(string); ok {
			s.acknowledge(d, c, stanzaKey("message", itemID, to))
		}
	}
	switch typ {
	case "sender", "peer_msg", "hist_sync", "server-error":
		return // about the device's own messages: nobody else to tell
	}
	s.routeReceipt(d, node)
}

// routeReceipt forwards a receipt from device d (<receipt to=chat id type
// [participant]>, a companion's or a simulated phone's) to the message's
// sender and, for reads and plays, to d's own other devices (receipts.go).
func (s *Server) routeReceipt(d *device, node *waBinary.Node) {
	id, _ := node.Attrs["id"].(string)
	to, _ := node.Attrs["to"].(types.JID)
	typ, _ := node.Attrs["type"].(string)
	s.tellOwnDevices(d, node)
	if to.Server == types.GroupServer {
		s.routeGroupReceipt(d, node)
		return
	}
	s.mu.Lock()
	var targets []*device
	if a := s.userAccountLocked(to); a != nil {
		targets = receiptTargetsLocked(a, to.Device, typ, d)
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		s.log.Debugf("%s: receipt %s for %s has no one to go to", d.JID, typ, to)
		return
	}
	attrs := s.receiptAttrs(d, id)
	if typ != "" {
		attrs["type"] = typ
	}
	fwd := waBinary.Node{Tag: "receipt", Attrs: attrs, Content: node.Content}
	for _, t := range targets {
		s.deliver(t, fwd)
	}
}

// handleMessage routes a client's message stanza to each participant device
// and acknowledges it to the sender.
func (s *Server) handleMessage(c *conn, d *device, node *waBinary.Node) {
	id, _ := node.Attrs["id"].(string)
	to, _ := node.Attrs["to"].(types.JID)
	ack := waBinary.Node{Tag: "ack", Attrs: waBinary.Attrs{
		"class": "message", "id": id, "from": to, "t": strconv.FormatInt(time.Now().Unix(), 10),
	}}
	isGroup := to.Server == types.GroupServer
	if !isGroup && to.Server != types.DefaultUserServer && to.Server != types.HiddenUserServer {
		s.log.Warnf("%s: message %s to %s: only 1:1 and group chats exist in the double", d.JID, id, to)
		ack.Attrs["error"] = "479"
		_ = c.send(ack)
		return
	}
	if cat, _ := node.Attrs["category"].(string); !isGroup && cat != "peer" && node.GetChildByTag("participants").Tag == "participants" {
		s.mu.Lock()
		chat := s.userAccountLocked(to.ToNonAD())
		s.mu.Unlock()
		if chat != nil && s.tcTokenMissing(d.acct, chat, node) {
			// What today's service answers (Baileys 7 messages-recv.ts: 463,
			// "missing tctoken"); whatsmeow's SendMessage returns
			// ErrServerReturnedError "server returned error 463".
			s.log.Warnf("%s: message %s to %s lacks the privacy token %s issued: error 463", d.JID, id, to, chat.Phone)
			ack.Attrs["error"] = "463"
			_ = c.send(ack)
			return
		}
	}
	// The same stanza again (the same ciphertexts, not a re-encryption for a
	// retry receipt): whatsmeow resends a message whose answer a lost socket
	// swallowed (its retryFrame), and the service acknowledges the resend
	// without delivering the message twice.
	dup := d.JID.String() + "\x00" + id + "\x00" + stanzaDigest(node)
	s.mu.Lock()
	again := !s.routed.add(dup)
	s.mu.Unlock()
	if again {
		s.log.Infof("%s: message %s to %s again (resent after a lost connection): acknowledged, not routed twice", d.JID, id, to)
		_ = c.send(ack)
		return
	}
	route := func(d *device, n *waBinary.Node) (int, error) { return s.routeMessage(d, d.JID, n) }
	phash := s.participantHash
	if isGroup {
		route, phash = s.routeGroupMessage, s.groupParticipantHash
	}
	targets, err := route(d, node)
	if err != nil {
		s.mu.Lock()
		s.routed.remove(dup)
		s.mu.Unlock()
		s.log.Warnf("%s: message %s to %s: %v", d.JID, id, to, err)
		ack.Attrs["error"] = ackErrorCode(err)
		_ = c.send(ack)
		return
	}
	if ph := phash(d, to); ph != "" {
		ack.Attrs["phash"] = ph
	}
	if err = c.send(ack); err != nil {
		s.log.Warnf("%s: acking message %s: %v", d.JID, id, err)
	}
	s.log.Infof("%s: message %s to %s routed to %d device(s)", d.JID, id, to, targets)
}

// routeMessage delivers one message stanza from a device (the phone or a
// companion) to the devices named in it; it returns how many it reached.
func (s *Server) routeMessage(sender *device, senderJID types.JID, node *waBinary.Node) (int, error) {
	id, _ := node.Attrs["id"].(string)
	to, _ := node.Attrs["to"].(types.JID)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	s.mu.Lock()
	chat := s.userAccountLocked(to)
	s.mu.Unlock()
	if chat == nil {
		return 0, fmt.Errorf("no account for %s", to)
	}
	var extra []waBinary.Node // device-identity and the like travel with every copy
	type hop struct {
		dev *device
		enc waBinary.Node
	}
	var hops []hop
	for _, child := range node.GetChildren() {
		switch child.Tag {
		case "participants":
			for _, p := range child.GetChildren() {
				jid, _ := p.Attrs["jid"].(types.JID)
				enc := p.GetChildByTag("enc")
				s.mu.Lock()
				dev := s.deviceLocked(jid)
				s.mu.Unlock()
				if dev == nil || enc.Tag != "enc" {
					s.log.Warnf("%s: message %s names unknown device %s", senderJID, id, jid)
					continue
				}
				hops = append(hops, hop{dev, enc})
			}
		case "enc":
			// A message to one device, e.g. a retry: "to" names the device.
			s.mu.Lock()
			dev := s.deviceLocked(to)
			s.mu.Unlock()
			if dev == nil {
				return 0, fmt.Errorf("no device %s", to)
			}
			hops = append(hops, hop{dev, child})
		case "tctoken":
			// For the service only: never forwarded.
		default:
			extra = append(extra, child)
		}
	}
	if len(hops) == 0 {
		return 0, fmt.Errorf("message names no known device")
	}
	typ, _ := node.Attrs["type"].(string)
	if typ == "" {
		typ = "text"
	}
	s.mu.Lock()
	lidMode := !s.settings.PNAddressing
	if chat != sender.acct {
		s.chats[chatKey(chat, sender.acct)] = true
	}
	s.mu.Unlock()
	senderLID := sender.acct.deviceLID(senderJID.Device)
	n := 0
	for _, h := range hops {
		if h.dev == sender {
			continue
		}
		attrs := waBinary.Attrs{"from": senderJID, "id": id, "t": now, "type": typ}
		if lidMode {
			attrs["from"], attrs["addressing_mode"] = senderLID, "lid"
		}
		if sender.acct.PushName != "" {
			attrs["notify"] = sender.acct.PushName
		}
		if cat, ok := node.Attrs["category"].(string); ok {
			attrs["category"] = cat
		}
		if edit, ok := node.Attrs["edit"].(string); ok {
			attrs["edit"] = edit // whatsmeow parseMessageInfo: Info.Edit
		}
		if h.dev.acct == sender.acct {
			// A copy for the sender's own devices (a DeviceSentMessage).
			if chat != sender.acct && lidMode {
				attrs["recipient"], attrs["peer_recipient_pn"] = chat.LID, chat.JID
			} else if chat != sender.acct {
				attrs["recipient"], attrs["peer_recipient_lid"] = chat.JID, chat.LID
			}
		} else if lidMode {
			// Today's service (Baileys 7 extractAddressingContext, whatsmeow
			// parseMessageSource): from is the LID, the PN rides along.
			attrs["sender_pn"] = sender.acct.JID
		} else {
			attrs["sender_lid"] = senderLID
		}
		content := append([]waBinary.Node{h.enc}, extra...)
		s.deliver(h.dev, waBinary.Node{Tag: "message", Attrs: attrs, Content: content})
		n++
	}
	return n, nil
}

// FailNextPreKeyFetches arms a fault: the next n prekey fetches (whoever
// sends them) are answered with a 500 error, as a transient failure of the
// service would be; whatsmeow then has no bundle for the devices it asked
// about. Calls add up.
func (s *Server) FailNextPreKeyFetches(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPreKeyFetch += n
}

// participantHash is whatsmeow's phash over every device of the chat's user
// and of the sender's user; a client whose cached device list differs drops
// its cache, so new devices get the next message.
func (s *Server) participantHash(sender *device, to types.JID) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat := s.userAccountLocked(to)
	if chat == nil {
		return ""
	}
	var list []types.JID
	add := func(a *account) {
		for _, d := range a.sortedDevices() {
			if to.Server == types.HiddenUserServer {
				list = append(list, d.LID)
			} else {
				list = append(list, d.JID)
			}
		}
	}
	add(chat)
	if sender.acct != chat {
		add(sender.acct)
	}
	return deviceListHash(list)
}

// handleUsync answers device-list, LID and contact queries.
func (s *Server) handleUsync(d *device, node *waBinary.Node) waBinary.Node {
	usync := node.GetChildByTag("usync")
	query := usync.GetChildByTag("query")
	list := usync.GetChildByTag("list")
	want := map[string]bool{}
	for _, q := range query.GetChildren() {
		want[q.Tag] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var users []waBinary.Node
	for _, u := range list.GetChildren() {
		jid, ok := u.Attrs["jid"].(types.JID)
		var contactQuery []byte
		if !ok {
			// <user><contact>+phone@c.us</contact></user>, from IsOnWhatsApp
			contactQuery, _ = u.GetChildByTag("contact").Content.([]byte)
			if p, err := normalizePhone(string(contactQuery)); err == nil {
				jid = types.NewJID(p, types.DefaultUserServer)
			}
		}
		a := s.userAccountLocked(jid)
		var parts []waBinary.Node
		if want["devices"] {
			var devs []waBinary.Node
			if a != nil {
				for _, dev := range a.sortedDevices() {
					attrs := waBinary.Attrs{"id": strconv.Itoa(int(dev.ID))}
					if dev.ID != 0 {
						attrs["key-index"] = strconv.Itoa(int(dev.keyIndex))
					}
					devs = append(devs, waBinary.Node{Tag: "device", Attrs: attrs})
				}
			}
			parts = append(parts, waBinary.Node{Tag: "devices", Content: []waBinary.Node{{Tag: "device-list", Content: devs}}})
		}
		if want["status"] && a != nil {
			parts = append(parts, waBinary.Node{Tag: "status", Content: []byte("Hey there! I am using WhatsApp.")})
		}
		if want["lid"] && a != nil && jid.Server == types.HiddenUserServer {
			// Asked by LID: the phone number, never the LID as its own
			// mapping (whatsmeow would store LID=LID).
			parts = append(parts, waBinary.Node{Tag: "pn", Attrs: waBinary.Attrs{"val": a.JID}})
		} else if want["lid"] && a != nil {
			parts = append(parts, waBinary.Node{Tag: "lid", Attrs: waBinary.Attrs{"val": a.LID}})
		}
		if want["contact"] {
			typ := "out"
			if a != nil {
				typ = "in"
			}
			contact := waBinary.Node{Tag: "contact", Attrs: waBinary.Attrs{"type": typ}}
			if contactQuery != nil {
				contact.Content = contactQuery // echoed: IsOnWhatsApp reads it back
			}
			parts = append(parts, contact)
		}
		attrs := waBinary.Attrs{}
		if !jid.IsEmpty() {
			attrs["jid"] = jid
		}
		users = append(users, waBinary.Node{Tag: "user", Attrs: attrs, Content: parts})
	}
	return iqResult(node, waBinary.Node{Tag: "usync", Attrs: usync.Attrs, Content: []waBinary.Node{
		{Tag: "result"},
		{Tag: "list", Content: users},
	}})
}

// handlePreKeyFetch returns a bundle per requested device, each consuming
// one one-time prekey, and an <error/> for unknown devices.
func (s *Server) handlePreKeyFetch(node *waBinary.Node) waBinary.Node {
	if s.takeFault(&s.failPreKeyFetch) {
		s.log.Warnf("prekey fetch %v: failed by fault injection", node.Attrs["id"])
		return iqError(node, 500, "internal-server-error")
	}
	key := node.GetChildByTag("key")
	var users []waBinary.Node
	var phones []*phone // to top up once the lock is released
	s.mu.Lock()
	for _, u := range key.GetChildren() {
		jid, ok := u.Attrs["jid"].(types.JID)
		if !ok {
			continue
		}
		d := s.deviceLocked(jid)
		if d == nil {
			users = append(users, waBinary.Node{Tag: "user", Attrs: waBinary.Attrs{"jid": jid},
				Content: []waBinary.Node{{Tag: "error", Attrs: waBinary.Attrs{"code": "404", "text": "item-not-found"}}}})
			continue
		}
		var reg [4]byte
		binary.BigEndian.PutUint32(reg[:], d.regID)
		content := []waBinary.Node{
			{Tag: "registration", Content: reg[:]},
			{Tag: "type", Content: []byte{5}},
			{Tag: "identity", Content: d.identity[:]},
		}
		if pk, ok, low := s.takePreKeyLocked(d); ok {
			content = append(content, preKeyNode("key", pk))
			if low {
				phones = append(phones, d.acct.phone)
			}
		}
		content = append(content, preKeyNode("skey", d.signedPreKey))
		users = append(users, waBinary.Node{Tag: "user", Attrs: waBinary.Attrs{"jid": jid}, Content: content})
	}
	s.mu.Unlock()
	for _, p := range phones {
		p.topUpPreKeys(s)
	}
	return iqResult(node, waBinary.Node{Tag: "list", Content: users})
}

func preKeyNode(tag string, pk preKey) waBinary.Node {
	var id [4]byte
	binary.BigEndian.PutUint32(id[:], pk.id)
	content := []waBinary.Node{{Tag: "id", Content: id[1:]}, {Tag: "value", Content: pk.pub[:]}}
	if tag == "skey" {
		content = append(content, waBinary.Node{Tag: "signature", Content: pk.signature})
	}
	return waBinary.Node{Tag: tag, Content: content}
}

// deviceListHash is whatsmeow's participant hash over a list of devices.
func deviceListHash(jids []types.JID) string {
	list := make([]string, len(jids))
	for i, j := range jids {
		list[i] = j.ADString()
	}
	sort.Strings(list)
	sum := sha256.Sum256([]byte(strings.Join(list, "")))
	return "2:" + base64.RawStdEncoding.EncodeToString(sum[:6])
}

// notifyDevicesChanged tells every companion that account a gained or lost
// device d (tag "add" or "remove"), so cached device lists stay right.
func (s *Server) notifyDevicesChanged(a *account, d *device, tag string) {
	s.mu.Lock()
	lidMode := !s.settings.PNAddressing
	var pns, lids []types.JID
	for _, dev := range a.sortedDevices() {
		pns = append(pns, dev.JID)
		lids = append(lids, dev.LID)
	}
	var targets []*device
	for _, other := range s.accounts {
		// Only the account itself and those it has a chat or a group with hear of it.
		if other != a && !s.chats[chatKey(a, other)] && !s.shareGroupLocked(a, other) {
			continue
		}
		for _, dev := range other.devices {
			if !dev.simulatedPhone && dev != d {
				targets = append(targets, dev)
			}
		}
	}
	keyIndexList := a.keyIndexListLocked()
	s.mu.Unlock()
	deviceAttrs := waBinary.Attrs{"jid": d.JID, "lid": d.LID}
	if d.keyIndex != 0 {
		deviceAttrs["key-index"] = strconv.Itoa(int(d.keyIndex))
	}
	attrs := waBinary.Attrs{"from": a.JID, "lid": a.LID, "type": "devices", "id": s.newID(), "t": strconv.FormatInt(time.Now().Unix(), 10)}
	hashes := waBinary.Attrs{"device_hash": deviceListHash(pns), "device_lid_hash": deviceListHash(lids)}
	if lidMode {
		// Clients that send to LIDs keep their device lists under the LID.
		attrs = waBinary.Attrs{"from": a.LID, "type": "devices", "id": attrs["id"], "t": attrs["t"]}
		hashes = waBinary.Attrs{"device_hash": deviceListHash(lids)}
		deviceAttrs["jid"] = d.LID
		delete(deviceAttrs, "lid")
	}
	node := waBinary.Node{Tag: "notification", Attrs: attrs, Content: []waBinary.Node{{Tag: tag, Attrs: hashes,
		Content: []waBinary.Node{{Tag: "device", Attrs: deviceAttrs}, keyIndexList}}}}
	for _, t := range targets {
		s.deliver(t, node)
	}
}

func chatKey(a, b *account) [2]string {
	if a.Phone > b.Phone {
		a, b = b, a
	}
	return [2]string{a.Phone, b.Phone}
}

// receiptAttrs addresses a receipt from device d: by LID with the phone number
// in sender_pn (today), or by phone number (PNAddressing).
func (s *Server) receiptAttrs(d *device, id string) waBinary.Attrs {
	attrs := waBinary.Attrs{"from": d.JID, "id": id, "t": strconv.FormatInt(time.Now().Unix(), 10)}
	if !s.Settings().PNAddressing {
		attrs["from"], attrs["sender_pn"], attrs["addressing_mode"] = d.LID, d.acct.JID, "lid"
	}
	return attrs
}

// recentStanzas remembers the last recentStanzaCount message stanzas routed
// (the zero value is ready; guarded by Server.mu).
type recentStanzas struct {
	seen  map[string]struct{}
	order []string
}

const recentStanzaCount = 4096

// add records k; false if it was recorded already.
func (r *recentStanzas) add(k string) bool {
	if _, ok := r.seen[k]; ok {
		return false
	}
	if r.seen == nil {
		r.seen = make(map[string]struct{})
	}
	r.seen[k] = struct{}{}
	r.order = append(r.order, k)
	if len(r.order) > recentStanzaCount {
		delete(r.seen, r.order[0])
		r.order = r.order[1:]
	}
	return true
}

// remove forgets k, in order too: a copy left there would, once k is added
// again, age out and take the new record with it early.
func (r *recentStanzas) remove(k string) {
	if _, ok := r.seen[k]; !ok {
		return
	}
	delete(r.seen, k)
	for i := len(r.order) - 1; i >= 0; i-- { // usually the last one added
		if r.order[i] == k {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
}

// stanzaDigest hashes the binary contents of a stanza's nodes (its
// ciphertexts), depth first: the same for a resend of the same bytes,
// different for a message encrypted again.
func stanzaDigest(node *waBinary.Node) string {
	h := sha256.New()
	var walk func(n waBinary.Node)
	walk = func(n waBinary.Node) {
		switch c := n.Content.(type) {
		case []byte:
			h.Write(c)
		case []waBinary.Node:
			for _, child := range c {
				walk(child)
			}
		}
	}
	walk(*node)
	return base64.RawStdEncoding.EncodeToString(h.Sum(nil)[:12])
}
