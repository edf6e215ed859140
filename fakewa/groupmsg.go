//go:build !js

package fakewa

import (
	"strconv"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Group messages. A sender's stanza is <message to=group phash><participants>
// <to jid=device><enc pkmsg|msg/></to>...</participants><enc type="skmsg"/>
// </message> (whatsmeow send.go sendGroup: the sender key distribution
// message goes 1:1 to the devices, the text once under the sender key). The
// service gives every member device but the sending one the skmsg, after its
// own pkmsg/msg if the stanza has one, as <message from=group participant=
// sending device> (LID group: participant the LID, participant_pn the phone
// number; whatsmeow message.go parseMessageSource). Devices of non-members
// get nothing, whatever the sender named. A retry answer is one <enc> with
// participant= the device that asked (whatsmeow retry.go).

// routeGroupMessage fans a group message out; it returns how many devices it
// reached. A sender not in the group gets errNotInGroup.
func (s *Server) routeGroupMessage(sender *device, node *waBinary.Node) (int, error) {
	id, _ := node.Attrs["id"].(string)
	to, _ := node.Attrs["to"].(types.JID)
	s.mu.Lock()
	g, err := s.groupLocked(to)
	if err == nil {
		err = g.maySend(sender.acct)
	}
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	members := g.memberDevicesLocked()
	senderID := g.memberDevice(sender)
	lidMode := g.lidMode
	var only *device // a retry answer names the one device it is for
	if p, ok := node.Attrs["participant"].(types.JID); ok {
		only = s.deviceLocked(p)
	}
	s.mu.Unlock()

	direct := map[*device]waBinary.Node{} // each device's own pkmsg/msg
	var skmsg *waBinary.Node
	var extra []waBinary.Node
	for _, child := range node.GetChildren() {
		switch {
		case child.Tag == "participants":
			for _, p := range child.GetChildren() {
				jid, _ := p.Attrs["jid"].(types.JID)
				s.mu.Lock()
				dev := s.deviceLocked(jid)
				s.mu.Unlock()
				if enc := p.GetChildByTag("enc"); dev != nil && enc.Tag == "enc" {
					direct[dev] = enc
				}
			}
		case child.Tag == "enc" && child.Attrs["type"] == "skmsg":
			skmsg = &child
		case child.Tag == "enc" && only != nil:
			direct[only] = child
		case child.Tag == "tctoken":
		default:
			extra = append(extra, child) // device-identity, reporting token
		}
	}
	if skmsg == nil && len(direct) == 0 {
		return 0, errGroupBadReq // nothing any member could decrypt
	}
	if skmsg != nil {
		if _, ok := skmsg.Content.([]byte); !ok {
			return 0, errGroupBadReq
		}
	}
	typ, _ := node.Attrs["type"].(string)
	if typ == "" {
		typ = "text"
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	n := 0
	for _, dev := range members {
		if dev == sender || (only != nil && dev != only) {
			continue
		}
		var content []waBinary.Node
		if enc, ok := direct[dev]; ok {
			content = append(content, enc)
			content = append(content, extra...)
		}
		if skmsg != nil {
			content = append(content, *skmsg)
		}
		if len(content) == 0 {
			continue
		}
		attrs := waBinary.Attrs{"from": to, "id": id, "t": now, "type": typ, "participant": senderID}
		if lidMode {
			attrs["addressing_mode"], attrs["participant_pn"] = "lid", sender.JID
		} else {
			attrs["participant_lid"] = sender.LID
		}
		if sender.acct.PushName != "" {
			attrs["notify"] = sender.acct.PushName
		}
		for _, k := range []string{"edit", "category"} { // whatsmeow parseMessageInfo reads both
			if v, ok := node.Attrs[k].(string); ok {
				attrs[k] = v
			}
		}
		s.deliver(dev, waBinary.Node{Tag: "message", Attrs: attrs, Content: content})
		n++
	}
	for dev := range direct {
		if !isMemberDevice(members, dev) {
			s.log.Warnf("%s: group message %s names %s, no member of %s: not delivered", sender.JID, id, dev.JID, to)
		}
	}
	if only == nil {
		s.log.Infof("%s: group message %s to %s reached %d device(s)", sender.JID, id, to, n)
	}
	return n, nil
}

func isMemberDevice(members []*device, d *device) bool {
	for _, m := range members {
		if m == d {
			return true
		}
	}
	return false
}

// groupParticipantHash is whatsmeow's phash over every member device, the
// sending one included (as fakewa's 1:1 phash and whatsmeow's own sum over a
// LID group's device list, which holds the sender's device): a sender whose
// cached list differs drops its cache and asks again.
func (s *Server) groupParticipantHash(_ *device, to types.JID) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(to)
	if err != nil {
		return ""
	}
	var list []types.JID
	for _, d := range g.memberDevicesLocked() {
		list = append(list, g.memberDevice(d))
	}
	return deviceListHash(list)
}

// routeGroupReceipt forwards a receipt for a group message (<receipt to=group
// participant=sender>) to the sender: delivery and retry receipts to the
// sending device, read and played to every device of the sender. The sender
// sees <receipt from=group participant=reader device>.
func (s *Server) routeGroupReceipt(d *device, node *waBinary.Node) {
	to, _ := node.Attrs["to"].(types.JID)
	typ, _ := node.Attrs["type"].(string)
	id, _ := node.Attrs["id"].(string)
	sender, _ := node.Attrs["participant"].(types.JID)
	s.mu.Lock()
	g, err := s.groupLocked(to)
	a := s.userAccountLocked(sender.ToNonAD())
	var targets []*device
	if err == nil && a != nil && g.member(d.acct) != nil {
		targets = receiptTargetsLocked(a, sender.Device, typ, d)
	}
	var attrs waBinary.Attrs
	if len(targets) > 0 {
		attrs = waBinary.Attrs{"from": to, "id": id, "t": strconv.FormatInt(time.Now().Unix(), 10), "participant": g.memberDevice(d)}
		if g.lidMode {
			attrs["addressing_mode"], attrs["participant_pn"] = "lid", d.JID
		}
		if typ != "" {
			attrs["type"] = typ
		}
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		s.log.Debugf("%s: receipt %s for %s in %s has no one to go to", d.JID, typ, sender, to)
		return
	}
	fwd := waBinary.Node{Tag: "receipt", Attrs: attrs, Content: node.Content}
	for _, t := range targets {
		s.deliver(t, fwd)
	}
}

// ackErrorCode is the error of the ack refusing a message: the group
// failure's code (403 not a member, 404 no such group), else 400.
func ackErrorCode(err error) string {
	return strconv.Itoa(failureOf(err).code)
}
