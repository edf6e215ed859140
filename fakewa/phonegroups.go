//go:build !js

package fakewa

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/libsignal/groups"
	"go.mau.fi/libsignal/protocol"
	"google.golang.org/protobuf/proto"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// The simulated phone in groups: it keeps sender keys as whatsmeow does
// (libsignal groups; one key per group and sending device, named by the
// sender's LID device address), decrypts group messages sent to it, and sends
// its own under its sender key, distributing the key 1:1 to the member
// devices that lack it. When a member it gave the key to has left, it starts
// a new key, so the one who left cannot read what follows (as the official
// apps rotate their sender key on a removal).

// phoneGroupState is what the phone knows of its own sender key per group:
// which devices it distributed the current key to; and which messages of
// the group it asked to have again. Guarded by phone.mu.
type phoneGroupState struct {
	given map[*device]bool
	asked map[string]bool // message id + sending device
}

// handleGroupStanza is a stanza from a group: a message, or a retry receipt
// for one of the phone's messages.
func (p *phone) handleGroupStanza(s *Server, node waBinary.Node) {
	switch {
	case node.Tag == "receipt" && node.Attrs["type"] == "retry":
		p.resendGroup(s, node)
	case node.Tag == "message":
		p.receiveGroupMessage(s, node)
	default:
		s.log.Debugf("phone %s: got <%s> %v from a group", p.acct.Phone, node.Tag, node.Attrs["id"])
	}
}

func (p *phone) receiveGroupMessage(s *Server, node waBinary.Node) {
	chat, _ := node.Attrs["from"].(types.JID)
	participant, _ := node.Attrs["participant"].(types.JID)
	id, _ := node.Attrs["id"].(string)
	s.mu.Lock()
	sender := s.deviceLocked(participant)
	self := p.acct.devices[0]
	s.mu.Unlock()
	if sender == nil {
		s.log.Warnf("phone %s: group message %s from unknown device %s", p.acct.Phone, id, participant)
		return
	}
	failed, got := false, false
	for _, enc := range node.GetChildrenByTag("enc") {
		var msg *waE2E.Message
		var err error
		if enc.Attrs["type"] == "skmsg" {
			msg, err = p.decryptGroup(chat, sender, enc)
		} else if msg, err = p.decrypt(sender, enc); err == nil {
			err = p.takeSenderKey(chat, sender, msg)
		}
		if err != nil {
			s.log.Warnf("phone %s: cannot decrypt group message %s from %s in %s: %v", p.acct.Phone, id, sender.JID, chat, err)
			failed = true
			continue
		}
		text := msg.GetConversation()
		if text == "" {
			text = msg.GetExtendedTextMessage().GetText()
		}
		if msg.SenderKeyDistributionMessage = nil; proto.Size(msg) == 0 {
			continue // only the key
		}
		vote := p.noteReceived(s, id, sender.acct, chat, msg)
		media := s.receiveMedia(msg)
		p.mu.Lock()
		p.received = append(p.received, ReceivedMessage{ID: id, From: sender.JID.String(), Chat: chat.String(), Text: text, Time: time.Now(), Media: media, Raw: rawJSON(msg), PollVote: vote})
		p.mu.Unlock()
		got = true
		s.log.Infof("phone %s: received %s from %s in %s: %q", p.acct.Phone, id, sender.JID, chat, text)
	}
	if failed && !got {
		p.askAgain(s, node, chat, sender)
		return
	}
	if sender.acct != p.acct {
		receipt := waBinary.Node{Tag: "receipt", Attrs: waBinary.Attrs{"id": id, "to": chat, "participant": sender.JID}}
		s.routeGroupReceipt(self, &receipt)
	}
}

// senderKeyName is the key of a sending device in a group, under its LID
// address as whatsmeow names it (message.go decryptGroupMsg, send.go).
func senderKeyName(chat types.JID, d *device) *protocol.SenderKeyName {
	return protocol.NewSenderKeyName(chat.String(), d.LID.SignalAddress())
}

// takeSenderKey processes the sender key distribution message a 1:1 part of
// a group message carries.
func (p *phone) takeSenderKey(chat types.JID, sender *device, msg *waE2E.Message) error {
	skdm := msg.GetSenderKeyDistributionMessage()
	if skdm == nil {
		return nil
	}
	dm, err := protocol.NewSenderKeyDistributionMessageFromBytes(skdm.GetAxolotlSenderKeyDistributionMessage(), store.SignalProtobufSerializer.SenderKeyDistributionMessage)
	if err != nil {
		return fmt.Errorf("sender key distribution message: %w", err)
	}
	p.cryptoMu.Lock()
	defer p.cryptoMu.Unlock()
	return groups.NewGroupSessionBuilder(p.dev, store.SignalProtobufSerializer).Process(context.Background(), senderKeyName(chat, sender), dm)
}

func (p *phone) decryptGroup(chat types.JID, sender *device, enc waBinary.Node) (*waE2E.Message, error) {
	content, _ := enc.Content.([]byte)
	m, err := protocol.NewSenderKeyMessageFromBytes(content, store.SignalProtobufSerializer.SenderKeyMessage)
	if err != nil {
		return nil, fmt.Errorf("sender key message: %w", err)
	}
	p.cryptoMu.Lock()
	builder := groups.NewGroupSessionBuilder(p.dev, store.SignalProtobufSerializer)
	plain, err := groups.NewGroupCipher(builder, senderKeyName(chat, sender), p.dev).Decrypt(context.Background(), m)
	p.cryptoMu.Unlock()
	if err != nil {
		return nil, err
	}
	return unpadMessage(plain)
}

// unpadMessage strips WhatsApp's padding and decodes the message.
func unpadMessage(plain []byte) (*waE2E.Message, error) {
	if n := len(plain); n == 0 || int(plain[n-1]) > n || plain[n-1] == 0 {
		return nil, fmt.Errorf("bad padding")
	}
	plain = plain[:len(plain)-int(plain[len(plain)-1])]
	var msg waE2E.Message
	if err := proto.Unmarshal(plain, &msg); err != nil {
		return nil, fmt.Errorf("decoding message: %w", err)
	}
	return &msg, nil
}

// ownSenderKey is the phone's sender key distribution message for the
// group, after starting a new key if a device it gave the key to is no
// longer a member. It returns the devices that lack the current key.
func (p *phone) ownSenderKey(chat types.JID, self *device, members []*device) (*waE2E.Message, []*device, error) {
	name := senderKeyName(chat, self)
	p.mu.Lock()
	st := p.groupStateLocked(chat)
	rotate := false
	for d := range st.given {
		if !isMemberDevice(members, d) {
			rotate = true
		}
	}
	if rotate {
		st.given = map[*device]bool{}
	}
	var lacking []*device
	for _, d := range members {
		if d != self && !st.given[d] {
			lacking = append(lacking, d)
		}
	}
	p.mu.Unlock()
	ctx := context.Background()
	p.cryptoMu.Lock()
	defer p.cryptoMu.Unlock()
	if rotate {
		if err := p.dev.SenderKeys.PutSenderKey(ctx, name.GroupID(), name.Sender().String(), nil); err != nil {
			return nil, nil, err
		}
	}
	dm, err := groups.NewGroupSessionBuilder(p.dev, store.SignalProtobufSerializer).Create(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("sender key for %s: %w", chat, err)
	}
	return &waE2E.Message{SenderKeyDistributionMessage: &waE2E.SenderKeyDistributionMessage{
		GroupID: proto.String(chat.String()), AxolotlSenderKeyDistributionMessage: dm.Serialize(),
	}}, lacking, nil
}

// groupStateLocked is the phone's state for a group, made on first use.
func (p *phone) groupStateLocked(chat types.JID) *phoneGroupState {
	if p.groupKeys == nil {
		p.groupKeys = map[string]*phoneGroupState{}
	}
	st := p.groupKeys[chat.String()]
	if st == nil {
		st = &phoneGroupState{given: map[*device]bool{}, asked: map[string]bool{}}
		p.groupKeys[chat.String()] = st
	}
	return st
}

// askAgain sends a retry receipt for a group message the phone could not
// decrypt, once per message, with fresh keys so the sender starts a new
// session (as whatsmeow's sendRetryReceipt does from the second try): the
// sender answers with the message and its sender key 1:1.
func (p *phone) askAgain(s *Server, node waBinary.Node, chat types.JID, sender *device) {
	id, _ := node.Attrs["id"].(string)
	p.mu.Lock()
	st := p.groupStateLocked(chat)
	again := st.asked[id+"\x00"+sender.JID.String()]
	st.asked[id+"\x00"+sender.JID.String()] = true
	p.mu.Unlock()
	if again {
		s.log.Warnf("phone %s: group message %s from %s undecryptable after a retry: dropped", p.acct.Phone, id, sender.JID)
		return
	}
	content, err := p.retryContent(node)
	if err != nil {
		s.log.Errorf("phone %s: retry receipt for %s: %v", p.acct.Phone, id, err)
		return
	}
	receipt := waBinary.Node{Tag: "receipt", Attrs: waBinary.Attrs{"id": id, "to": chat, "participant": sender.JID, "type": "retry"}, Content: content}
	s.mu.Lock()
	self := p.acct.devices[0]
	s.mu.Unlock()
	s.routeGroupReceipt(self, &receipt)
	s.log.Infof("phone %s: asked %s for group message %s again", p.acct.Phone, sender.JID, id)
}

// ForgetSenderKeys is a fault: the account's phone loses every sender key it
// holds, its own included (as a phone restored without them). Members then
// get its next group message with a new key; a sender that believes the
// phone holds its key gets a retry receipt for its next message.
func (s *Server) ForgetSenderKeys(phone string) error {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return err
	}
	p := a.phone
	p.cryptoMu.Lock()
	p.dev.SenderKeys.(*memSenderKeyStore).clear()
	p.cryptoMu.Unlock()
	p.mu.Lock()
	p.groupKeys = nil
	p.mu.Unlock()
	s.log.Infof("phone %s: forgot its sender keys (fault)", a.Phone)
	return nil
}

// markGiven records that devices hold the phone's current key for the group.
func (p *phone) markGiven(chat types.JID, devs ...*device) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.groupKeys[chat.String()]; st != nil {
		for _, d := range devs {
			st.given[d] = true
		}
	}
}

// SendGroupText is the account's phone sending a text to a group it is in.
func (s *Server) SendGroupText(phone, to, text string) (string, error) {
	return s.sendGroupFromPhone(phone, to, &waE2E.Message{Conversation: proto.String(text)})
}

// sendGroupFromPhone is the account's phone sending msg to a group it is in:
// the message once under its sender key, the key 1:1 to the member devices
// that lack it.
func (s *Server) sendGroupFromPhone(phone, to string, msg *waE2E.Message) (string, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return "", err
	}
	chat, err := groupJIDFromString(to)
	if err != nil {
		return "", fmt.Errorf("no group %s", to)
	}
	s.mu.Lock()
	g, err := s.groupLocked(chat)
	if err == nil {
		err = g.maySend(a)
	}
	var members []*device
	if err == nil {
		members = g.memberDevicesLocked()
	}
	self := a.devices[0]
	s.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("phone %s sending to %s: %w", a.Phone, chat, err)
	}
	p := a.phone
	skdm, lacking, err := p.ownSenderKey(chat, self, members)
	if err != nil {
		return "", err
	}
	skdmPlain, err := proto.Marshal(skdm)
	if err != nil {
		return "", err
	}
	var parts []waBinary.Node
	for _, d := range lacking {
		enc, err := p.encryptFor(s, d, skdmPlain)
		if err != nil {
			return "", err
		}
		parts = append(parts, waBinary.Node{Tag: "to", Attrs: waBinary.Attrs{"jid": d.JID}, Content: []waBinary.Node{enc}})
	}
	plain, err := proto.Marshal(msg)
	if err != nil {
		return "", err
	}
	p.cryptoMu.Lock()
	builder := groups.NewGroupSessionBuilder(p.dev, store.SignalProtobufSerializer)
	ct, err := groups.NewGroupCipher(builder, senderKeyName(chat, self), p.dev).Encrypt(context.Background(), pad(plain))
	p.cryptoMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("encrypting for %s: %w", chat, err)
	}
	skmsg, ok := ct.(*protocol.SenderKeyMessage)
	if !ok {
		return "", fmt.Errorf("group cipher gave %T", ct)
	}
	id := newMessageID()
	p.remember(id, chat, msg)
	content := []waBinary.Node{{Tag: "enc", Attrs: waBinary.Attrs{"v": "2", "type": "skmsg"}, Content: skmsg.SignedSerialize()}}
	if len(parts) > 0 {
		content = append([]waBinary.Node{{Tag: "participants", Content: parts}}, content...)
	}
	node := waBinary.Node{Tag: "message", Attrs: waBinary.Attrs{"id": id, "to": chat, "type": "text"}, Content: content}
	n, err := s.routeGroupMessage(self, &node)
	if err != nil {
		return "", fmt.Errorf("phone %s sending to %s: %w", a.Phone, chat, err)
	}
	p.markGiven(chat, lacking...)
	p.keepPoll(id, a, chat, msg)
	s.log.Infof("phone %s: sent %s to %s (%d devices, key given to %d)", a.Phone, id, chat, n, len(lacking))
	return id, nil
}

// resendGroup answers a retry receipt for a group message: the message again
// 1:1 to the device that asked, with the sender key inside, as whatsmeow
// (retry.go handleRetryReceipt) does.
func (p *phone) resendGroup(s *Server, node waBinary.Node) {
	chat, _ := node.Attrs["from"].(types.JID)
	participant, _ := node.Attrs["participant"].(types.JID)
	id, _ := node.Attrs["id"].(string)
	p.mu.Lock()
	sent, ok := p.sent[id]
	p.mu.Unlock()
	s.mu.Lock()
	d := s.deviceLocked(participant)
	self := p.acct.devices[0]
	var members []*device
	if g, err := s.groupLocked(chat); err == nil {
		members = g.memberDevicesLocked()
	}
	s.mu.Unlock()
	if !ok || d == nil || sent.chat != chat || !isMemberDevice(members, d) {
		s.log.Warnf("phone %s: retry receipt from %s for unknown message %s in %s", p.acct.Phone, participant, id, chat)
		return
	}
	bundle := p.retryKeys(s, node, d)
	skdm, _, err := p.ownSenderKey(chat, self, members)
	if err == nil {
		msg := proto.Clone(sent.msg).(*waE2E.Message)
		msg.SenderKeyDistributionMessage = skdm.SenderKeyDistributionMessage
		var plain []byte
		if plain, err = proto.Marshal(msg); err == nil {
			var enc waBinary.Node
			if enc, err = p.encryptWith(s, d, plain, bundle); err == nil {
				if count, ok := node.GetChildByTag("retry").Attrs["count"].(string); ok {
					enc.Attrs["count"] = count
				}
				out := waBinary.Node{Tag: "message", Attrs: waBinary.Attrs{"id": id, "to": chat, "participant": d.JID, "type": "text"},
					Content: []waBinary.Node{enc}}
				_, err = s.routeGroupMessage(self, &out)
			}
		}
	}
	if err != nil {
		s.log.Errorf("phone %s: resending %s to %s in %s: %v", p.acct.Phone, id, participant, chat, err)
		return
	}
	p.markGiven(chat, d)
	s.log.Infof("phone %s: resent %s to %s in %s after a retry receipt", p.acct.Phone, id, participant, chat)
}
