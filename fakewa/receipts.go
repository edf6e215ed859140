//go:build !js

package fakewa

import (
	"strconv"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Receipts for reads and plays. A reader's device sends <receipt to=chat
// id type="read"|"played" [participant=author in a group]> (whatsmeow
// receipt.go MarkRead), or "read-self"/"played-self" when its read receipts
// are off in the privacy settings (MarkRead; types/presence.go: "the current
// user read a message from a different device, and has read receipts
// disabled"). The author's devices hear read and played; the reader's own
// other devices hear all four, so each marks the chat read: whatsmeow emits
// events.Receipt "when another device reads an incoming message"
// (types/events), parsing from=own device as IsFromMe with the chat in
// `recipient` (message.go parseMessageSource), and in a group `recipient`
// naming the message's author (events.Receipt.MessageSender); Baileys 7
// messages-recv.ts handleReceipt takes remoteJid from `recipient` when the
// receipt is from its own user ("another device of ours has read some
// messages").

// selfReceipt: the reader's own devices only.
func selfReceipt(typ string) bool { return typ == "read-self" || typ == "played-self" }

// toOwnDevices: read and play receipts reach the reader's other devices.
func toOwnDevices(typ string) bool {
	return typ == "read" || typ == "played" || selfReceipt(typ)
}

// receiptTargetsLocked is who hears a receipt about a's message sent from its
// device dev: a delivery or retry receipt goes to that device, a read or
// played receipt to every device of a but the reader's (whatsmeow's own
// devices learn of reads by it too); read-self and played-self to none of a's.
func receiptTargetsLocked(a *account, dev uint16, typ string, reader *device) []*device {
	var targets []*device
	switch {
	case selfReceipt(typ):
	case typ == "read" || typ == "played":
		for _, t := range a.sortedDevices() {
			if t != reader {
				targets = append(targets, t)
			}
		}
	default:
		if t := a.devices[dev]; t != nil {
			targets = append(targets, t)
		}
	}
	return targets
}

// tellOwnDevices forwards a read or play receipt from device d to d's
// account's other devices: <receipt from=d recipient=chat> in a 1:1 chat
// (LID-addressed with peer_recipient_pn, as own-message copies are), <receipt
// from=group participant=d recipient=author> in a group.
func (s *Server) tellOwnDevices(d *device, node *waBinary.Node) {
	typ, _ := node.Attrs["type"].(string)
	if !toOwnDevices(typ) {
		return
	}
	id, _ := node.Attrs["id"].(string)
	to, _ := node.Attrs["to"].(types.JID)
	author, _ := node.Attrs["participant"].(types.JID)
	attrs := waBinary.Attrs{"id": id, "type": typ, "t": strconv.FormatInt(time.Now().Unix(), 10)}
	s.mu.Lock()
	lidMode := !s.settings.PNAddressing
	if to.Server == types.GroupServer {
		g, err := s.groupLocked(to)
		if err != nil || g.member(d.acct) == nil {
			s.mu.Unlock()
			return
		}
		attrs["from"], attrs["participant"] = to, g.memberDevice(d)
		if g.lidMode {
			attrs["addressing_mode"], attrs["participant_pn"] = "lid", d.JID
		}
		if a := s.userAccountLocked(author.ToNonAD()); a != nil {
			attrs["recipient"] = a.JID
			if g.lidMode {
				attrs["recipient"] = a.LID
			}
		}
	} else {
		chat := s.userAccountLocked(to.ToNonAD())
		if chat == nil {
			s.mu.Unlock()
			return
		}
		attrs["from"], attrs["recipient"], attrs["peer_recipient_lid"] = d.JID, chat.JID, chat.LID
		if lidMode {
			attrs["from"], attrs["recipient"], attrs["peer_recipient_pn"], attrs["addressing_mode"] = d.LID, chat.LID, chat.JID, "lid"
			delete(attrs, "peer_recipient_lid")
		}
	}
	var targets []*device
	for _, t := range d.acct.sortedDevices() {
		if t != d {
			targets = append(targets, t)
		}
	}
	s.mu.Unlock()
	fwd := waBinary.Node{Tag: "receipt", Attrs: attrs, Content: node.Content}
	for _, t := range targets {
		s.deliver(t, fwd)
	}
}
