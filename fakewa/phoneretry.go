//go:build !js

package fakewa

import (
	"context"
	"encoding/binary"
	"fmt"

	"go.mau.fi/libsignal/ecc"
	waBinary "go.mau.fi/whatsmeow/binary"
)

// A phone that cannot decrypt a message asks its sender for it again, as
// WhatsApp clients do (whatsmeow message.go sendRetryReceipt, Baileys
// messages-recv.ts sendRetryRequest): a <receipt type="retry"> with the
// message id, its registration id and fresh keys (a one-time prekey and the
// signed prekey), from which the sender starts a new session and encrypts
// the message again (whatsmeow retry.go handleRetryReceipt). The phone asks
// once per message and sender; a second failure is dropped and logged.

// maxAsked bounds the phone's memory of messages asked for again.
const maxAsked = 4096

// askResend sends a 1:1 retry receipt for node to the sending device.
func (p *phone) askResend(s *Server, node waBinary.Node, sender *device) {
	id, _ := node.Attrs["id"].(string)
	key := id + "\x00" + sender.JID.String()
	p.mu.Lock()
	if p.asked == nil || len(p.asked) >= maxAsked {
		p.asked = map[string]bool{}
	}
	again := p.asked[key]
	p.asked[key] = true
	p.mu.Unlock()
	if again {
		s.log.Warnf("phone %s: message %s from %s undecryptable after a retry: dropped", p.acct.Phone, id, sender.JID)
		return
	}
	content, err := p.retryContent(node)
	if err != nil {
		s.log.Errorf("phone %s: retry receipt for %s: %v", p.acct.Phone, id, err)
		return
	}
	s.mu.Lock()
	self := p.acct.devices[0]
	s.mu.Unlock()
	attrs := s.receiptAttrs(self, id)
	attrs["type"] = "retry"
	s.deliver(sender, waBinary.Node{Tag: "receipt", Attrs: attrs, Content: content})
	s.log.Infof("phone %s: asked %s for message %s again (retry receipt)", p.acct.Phone, sender.JID, id)
}

// retryContent is the body of a retry receipt for node: the retry element,
// the phone's registration id and fresh keys.
func (p *phone) retryContent(node waBinary.Node) ([]waBinary.Node, error) {
	id, _ := node.Attrs["id"].(string)
	pk, err := p.store.GenOnePreKey(context.Background())
	if err != nil {
		return nil, fmt.Errorf("a prekey for the retry receipt: %w", err)
	}
	var reg [4]byte
	binary.BigEndian.PutUint32(reg[:], p.dev.RegistrationID)
	spk := p.dev.SignedPreKey
	return []waBinary.Node{
		{Tag: "retry", Attrs: waBinary.Attrs{"count": "1", "id": id, "t": node.Attrs["t"], "v": "1"}},
		{Tag: "registration", Content: reg[:]},
		{Tag: "keys", Content: []waBinary.Node{
			{Tag: "type", Content: []byte{ecc.DjbType}},
			{Tag: "identity", Content: p.dev.IdentityKey.Pub[:]},
			preKeyNode("key", preKey{id: pk.KeyID, pub: *pk.Pub}),
			preKeyNode("skey", preKey{id: spk.KeyID, pub: *spk.Pub, signature: spk.Signature[:]}),
		}},
	}, nil
}

// ForgetSessions is a fault: the account's phone loses every 1:1 Signal
// session it holds (as a phone restored without them). The next message a
// companion sends it on an old session is undecryptable, and the phone asks
// for it again with a retry receipt.
func (s *Server) ForgetSessions(phone string) error {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return err
	}
	p := a.phone
	p.cryptoMu.Lock()
	p.store.forgetSessions()
	p.cryptoMu.Unlock()
	s.log.Infof("phone %s: forgot its sessions (fault)", a.Phone)
	return nil
}
