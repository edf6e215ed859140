//go:build !js

package fakewa

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/util/optional"
	"google.golang.org/protobuf/proto"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/serial"
	"github.com/wasmeow/wasmeow/sessionrepair"
)

// phoneUploadedPreKeys is how many one-time prekeys a simulated phone keeps
// published; it tops them up when fetches drain them below MinPreKeyCount.
const phoneUploadedPreKeys = 50

// ReceivedMessage is a message a simulated phone received and decrypted.
type ReceivedMessage struct {
	ID   string    `json:"id"`
	From string    `json:"from"` // the sending device
	Chat string    `json:"chat"` // the sender's user JID
	Text string    `json:"text"`
	Time time.Time `json:"time"`
	// Media is an image, video, audio, document or sticker the phone
	// downloaded and decrypted (or why it could not).
	Media *ReceivedMedia `json:"media,omitempty"`
	// Raw is the whole message in protobuf JSON (phonesend.go).
	Raw json.RawMessage `json:"raw,omitempty"`
	// PollVote is a vote in a poll, decrypted (phonepolls.go).
	PollVote *ReceivedVote `json:"pollVote,omitempty"`
}

// phone is the simulated primary device of an account. Its Signal state is a
// whatsmeow store.Device over memory stores.
type phone struct {
	acct  *account
	dev   *store.Device
	store *memSignalStore

	mu        sync.Mutex
	received  []ReceivedMessage
	sent      map[string]sentMessage // recent sent messages, for retry receipts
	sentOrder []string
	inbox     serial.Queue[waBinary.Node] // stanzas, handled one at a time in arrival order

	// App state: one key, shared with companions; the collections as the
	// service holds them; appMu serialises the phone's writes.
	appKeyID   []byte
	appKeyData []byte
	appKeyTime int64
	syncd      syncdCollections
	appMu      sync.Mutex

	tokens       map[string][]byte // privacy tokens held, by issuer phone (guarded by mu)
	issuedBucket map[string]int64  // 7-day bucket of the last token issued, by holder phone
	history      chatHistory       // recent 1:1 conversations, for history sync (guarded by mu)

	toppingUp bool // a prekey top-up is under way (guarded by Server.mu)
	// cryptoMu serialises Signal operations: sessions are read-modify-write.
	cryptoMu sync.Mutex

	groupKeys map[string]*phoneGroupState // own sender key per group (phonegroups.go; guarded by mu)
	asked     map[string]bool             // 1:1 messages asked for again (askResend; guarded by mu)
	polls     map[string]phonePoll        // polls sent and received, by id (phonepolls.go; guarded by mu)
	chunkAsks map[string]time.Time        // history chunks asked for again (historyretry.go; guarded by mu)
}

func newPhone() (*phone, error) {
	ms := newMemSignalStore()
	as := newMemAppState()
	identity := keys.NewKeyPair()
	dev := &store.Device{
		Log:            waLog.Noop,
		NoiseKey:       keys.NewKeyPair(),
		IdentityKey:    identity,
		SignedPreKey:   identity.CreateSignedPreKey(1),
		RegistrationID: randomUint32(),
		Identities:     ms,
		Sessions:       sessionrepair.Wrap(ms, waLog.Noop), // as a real phone's libsignal: a failed attempt changes no state
		PreKeys:        ms,
		SenderKeys:     newMemSenderKeyStore(),
		AppStateKeys:   as,
		AppState:       as,
		Initialized:    true,
	}
	p := &phone{dev: dev, store: ms}
	ctx := context.Background()
	pks, err := ms.GetOrGenPreKeys(ctx, phoneUploadedPreKeys)
	if err != nil {
		return nil, fmt.Errorf("generating phone prekeys: %w", err)
	}
	if err = ms.MarkPreKeysAsUploaded(ctx, pks[len(pks)-1].KeyID); err != nil {
		return nil, fmt.Errorf("marking phone prekeys uploaded: %w", err)
	}
	return p, nil
}

func (p *phone) identityKeyPair() *keys.KeyPair { return p.dev.IdentityKey }

// fillDevice publishes the phone's keys in the server's prekey registry.
func (p *phone) fillDevice(d *device) {
	d.identity = *p.dev.IdentityKey.Pub
	d.regID = p.dev.RegistrationID
	d.signedPreKey = preKey{id: p.dev.SignedPreKey.KeyID, pub: *p.dev.SignedPreKey.Pub, signature: p.dev.SignedPreKey.Signature[:]}
	d.preKeys = d.preKeys[:0]
	for id := uint32(1); id <= p.store.lastPreKey; id++ {
		if k := p.store.preKeys[id]; k != nil && p.store.uploaded[id] {
			d.preKeys = append(d.preKeys, preKey{id: id, pub: *k.Pub})
		}
	}
}

// takePreKeyLocked consumes the device's oldest one-time prekey. low is set
// once for a simulated phone running out: the caller then has it publish
// more (topUpPreKeys), as a real phone does.
func (s *Server) takePreKeyLocked(d *device) (pk preKey, ok, low bool) {
	if len(d.preKeys) == 0 {
		return preKey{}, false, false
	}
	pk = d.preKeys[0]
	d.preKeys = d.preKeys[1:]
	if p := d.acct.phone; d.simulatedPhone && len(d.preKeys) < 5 && !p.toppingUp {
		p.toppingUp = true
		low = true
	}
	return pk, true, low
}

// topUpPreKeys publishes a new batch of one-time prekeys once fetches have
// drained the phone's, as a real phone does when the server asks.
func (p *phone) topUpPreKeys(s *Server) {
	ctx := context.Background()
	p.cryptoMu.Lock()
	pks, err := p.store.GetOrGenPreKeys(ctx, phoneUploadedPreKeys)
	if err == nil {
		err = p.store.MarkPreKeysAsUploaded(ctx, pks[len(pks)-1].KeyID)
	}
	p.cryptoMu.Unlock()
	if err != nil {
		s.log.Errorf("phone %s: generating prekeys: %v", p.acct.Phone, err)
		s.mu.Lock()
		p.toppingUp = false
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.toppingUp = false
	d := p.acct.devices[0]
	for _, k := range pks {
		d.preKeys = append(d.preKeys, preKey{id: k.KeyID, pub: *k.Pub})
	}
	s.log.Infof("phone %s: published %d new prekeys", p.acct.Phone, len(pks))
}

// enqueue hands the phone a stanza. One worker at a time handles the inbox,
// so the phone sees stanzas in the order the server routed them.
func (p *phone) enqueue(s *Server, node waBinary.Node) {
	p.inbox.Push(node, func(n waBinary.Node) { p.handle(s, n) })
}

// handle is the phone receiving a stanza: it decrypts messages, keeps the
// texts and answers with a delivery receipt.
func (p *phone) handle(s *Server, node waBinary.Node) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Errorf("phone %s: panic handling <%s>: %v", p.acct.Phone, node.Tag, r)
		}
	}()
	if from, _ := node.Attrs["from"].(types.JID); from.Server == types.GroupServer {
		p.handleGroupStanza(s, node) // phonegroups.go
		return
	}
	if node.Tag == "receipt" && node.Attrs["type"] == "retry" {
		p.resend(s, node)
		return
	}
	if node.Tag != "message" {
		s.log.Debugf("phone %s: got <%s> %v", p.acct.Phone, node.Tag, node.Attrs["id"])
		return
	}
	from, _ := node.Attrs["from"].(types.JID)
	id, _ := node.Attrs["id"].(string)
	s.mu.Lock()
	sender := s.deviceLocked(from)
	s.mu.Unlock()
	if sender == nil {
		s.log.Warnf("phone %s: message %s from unknown device %s", p.acct.Phone, id, from)
		return
	}
	// Reported by phone number whatever the addressing, as the API always did.
	from = sender.JID
	for _, enc := range node.GetChildrenByTag("enc") {
		msg, err := p.decrypt(sender, enc)
		if err != nil {
			s.log.Errorf("phone %s: cannot decrypt message %s from %s: %v", p.acct.Phone, id, from, err)
			p.askResend(s, node, sender)
			return
		}
		if pm := msg.GetProtocolMessage(); pm != nil && !chatProtocolMessage(pm) {
			// Peer traffic from a companion (history sync, resend requests).
			s.log.Debugf("phone %s: protocol message %s from %s", p.acct.Phone, msg.GetProtocolMessage().GetType(), from)
			if req := pm.GetPeerDataOperationRequestMessage(); req != nil && sender.acct == p.acct {
				p.answerPeerRequest(s, sender, id, req) // historyretry.go
			}
			continue
		}
		chat := from.ToNonAD()
		if dsm := msg.GetDeviceSentMessage(); dsm != nil {
			msg = dsm.GetMessage()
			if j, err := types.ParseJID(dsm.GetDestinationJID()); err == nil {
				chat = j
				s.mu.Lock()
				if a := s.userAccountLocked(j.ToNonAD()); a != nil {
					chat = a.JID // a LID destination, reported by phone number
				}
				s.mu.Unlock()
			}
		}
		text := msg.GetConversation()
		if text == "" {
			text = msg.GetExtendedTextMessage().GetText()
		}
		media := s.receiveMedia(msg)
		vote := p.noteReceived(s, id, sender.acct, chat, msg)
		p.mu.Lock()
		p.received = append(p.received, ReceivedMessage{ID: id, From: from.String(), Chat: chat.String(), Text: text, Time: time.Now(), Media: media, Raw: rawJSON(msg), PollVote: vote})
		p.mu.Unlock()
		p.keepHistory(chat, id, sender.acct == p.acct, msg)
		s.log.Infof("phone %s: received %s from %s: %q", p.acct.Phone, id, from, text)
	}
	if sender.acct == p.acct {
		return // a copy of its own companion's message: no receipt to anyone
	}
	s.deliver(sender, waBinary.Node{Tag: "receipt", Attrs: s.receiptAttrs(p.acct.devices[0], id)})
}

// The phone keeps one Signal session per remote device, under its LID
// address, whether the stanza came PN- or LID-addressed.
func (p *phone) decrypt(from *device, enc waBinary.Node) (*waE2E.Message, error) {
	content, _ := enc.Content.([]byte)
	typ, _ := enc.Attrs["type"].(string)
	ctx := sessionrepair.Decrypting(context.Background())
	addr := from.LID.SignalAddress()
	p.cryptoMu.Lock()
	defer p.cryptoMu.Unlock()
	cipher := session.NewCipher(session.NewBuilderFromSignal(p.dev, addr, store.SignalProtobufSerializer), addr)
	var plain []byte
	var err error
	switch typ {
	case "pkmsg":
		var m *protocol.PreKeySignalMessage
		if m, err = protocol.NewPreKeySignalMessageFromBytes(content, store.SignalProtobufSerializer.PreKeySignalMessage, store.SignalProtobufSerializer.SignalMessage); err == nil {
			plain, err = cipher.DecryptMessage(ctx, m)
		}
	case "msg":
		var m *protocol.SignalMessage
		if m, err = protocol.NewSignalMessageFromBytes(content, store.SignalProtobufSerializer.SignalMessage); err == nil {
			plain, err = cipher.Decrypt(ctx, m)
		}
	default:
		return nil, fmt.Errorf("enc type %q is not a 1:1 Signal message", typ)
	}
	if err != nil {
		return nil, err
	}
	return unpadMessage(plain)
}

// encryptFor encrypts a plaintext for one device, starting a session from
// the device's published bundle (consuming a one-time prekey) if needed.
func (p *phone) encryptFor(s *Server, d *device, plaintext []byte) (waBinary.Node, error) {
	return p.encryptWith(s, d, plaintext, nil)
}

// encryptWith is encryptFor; a non-nil bundle (from a retry receipt)
// replaces any session with the device.
func (p *phone) encryptWith(s *Server, d *device, plaintext []byte, bundle *prekey.Bundle) (waBinary.Node, error) {
	ctx := context.Background()
	addr := d.LID.SignalAddress()
	p.cryptoMu.Lock()
	defer p.cryptoMu.Unlock()
	builder := session.NewBuilderFromSignal(p.dev, addr, store.SignalProtobufSerializer)
	has, err := p.dev.ContainsSession(ctx, addr)
	if err != nil {
		return waBinary.Node{}, err
	}
	if bundle != nil || !has {
		if bundle == nil {
			s.mu.Lock()
			bundle = s.bundleLocked(d)
			s.mu.Unlock()
		}
		if err = builder.ProcessBundle(ctx, bundle); err != nil {
			return waBinary.Node{}, fmt.Errorf("starting a session with %s: %w", d.JID, err)
		}
	}
	ct, err := session.NewCipher(builder, addr).Encrypt(ctx, pad(plaintext))
	if err != nil {
		return waBinary.Node{}, fmt.Errorf("encrypting for %s: %w", d.JID, err)
	}
	typ := "msg"
	if ct.Type() == protocol.PREKEY_TYPE {
		typ = "pkmsg"
	}
	return waBinary.Node{Tag: "enc", Attrs: waBinary.Attrs{"v": "2", "type": typ}, Content: ct.Serialize()}, nil
}

// pad appends 1 to 15 bytes each holding the padding length, as WhatsApp does.
func pad(b []byte) []byte {
	var r [1]byte
	_, _ = rand.Read(r[:])
	n := int(r[0]&0xf) + 1
	if n > 15 {
		n = 15
	}
	return append(append([]byte(nil), b...), bytes.Repeat([]byte{byte(n)}, n)...)
}

// bundleLocked builds a device's prekey bundle from the registry, consuming
// its oldest one-time prekey.
func (s *Server) bundleLocked(d *device) *prekey.Bundle {
	pre := optional.NewEmptyUint32()
	var prePub ecc.ECPublicKeyable
	if pk, ok, low := s.takePreKeyLocked(d); ok {
		pre = optional.NewOptionalUint32(pk.id)
		prePub = ecc.NewDjbECPublicKey(pk.pub)
		if low {
			// The caller may hold another phone's cryptoMu: not here.
			go d.acct.phone.topUpPreKeys(s)
		}
	}
	return prekey.NewBundle(d.regID, uint32(d.ID), pre, d.signedPreKey.id, prePub,
		ecc.NewDjbECPublicKey(d.signedPreKey.pub), [64]byte(d.signedPreKey.signature),
		identity.NewKey(ecc.NewDjbECPublicKey(d.identity)))
}

// SendText is the account's phone sending a text to a user (a JID, PN or
// LID, or a phone number): to every device of the user, and a copy to the
// phone's own companions. It returns the message id.
func (s *Server) SendText(phone, to, text string) (string, error) {
	return s.sendFromPhone(phone, to, &waE2E.Message{Conversation: proto.String(text)})
}

// sendFromPhone is the account's phone sending msg to a user, as SendText.
func (s *Server) sendFromPhone(phone, to string, msg *waE2E.Message) (string, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return "", err
	}
	var toJID types.JID
	if strings.Contains(to, "@") {
		if toJID, err = types.ParseJID(to); err != nil {
			return "", fmt.Errorf("bad recipient %q: %w", to, err)
		}
	} else {
		p, err := normalizePhone(to)
		if err != nil {
			return "", fmt.Errorf("bad recipient: %w", err)
		}
		toJID = types.NewJID(p, types.DefaultUserServer)
	}
	s.mu.Lock()
	b := s.userAccountLocked(toJID.ToNonAD())
	var targets []*device
	if b != nil {
		if toJID.Device != 0 {
			// One device of the user, e.g. "bob:2@s.whatsapp.net".
			if d := b.devices[toJID.Device]; d != nil {
				targets = append(targets, d)
			}
		} else {
			targets = b.sortedDevices()
		}
		if b != a {
			for _, d := range a.sortedDevices() {
				if d.ID != 0 {
					targets = append(targets, d)
				}
			}
		}
	}
	self := a.devices[0]
	s.mu.Unlock()
	if b == nil {
		return "", fmt.Errorf("no account for %s", toJID)
	}
	if toJID.Device != 0 && (len(targets) == 0 || targets[0].ID != toJID.Device) {
		return "", fmt.Errorf("no device %s", toJID)
	}
	if b != a {
		a.phone.issueIfDue(s, b)
	}
	id := newMessageID()
	a.phone.remember(id, b.JID, msg)
	var parts []waBinary.Node
	for _, d := range targets {
		if d == self {
			continue
		}
		pt, err := a.phone.plaintextFor(d, b.JID, msg)
		if err != nil {
			return "", err
		}
		enc, err := a.phone.encryptFor(s, d, pt)
		if err != nil {
			return "", err
		}
		parts = append(parts, waBinary.Node{Tag: "to", Attrs: waBinary.Attrs{"jid": d.JID}, Content: []waBinary.Node{enc}})
	}
	node := waBinary.Node{Tag: "message", Attrs: waBinary.Attrs{"id": id, "to": b.JID, "type": "text"},
		Content: []waBinary.Node{{Tag: "participants", Content: parts}}}
	if tok := a.phone.tokenFor(b.Phone); tok != nil {
		node.Content = append(node.GetChildren(), waBinary.Node{Tag: "tctoken", Content: tok})
	}
	if s.tcTokenMissing(a, b, &node) {
		return "", fmt.Errorf("phone %s sending to %s: error 463, no privacy token from %s", a.Phone, b.JID, b.Phone)
	}
	n, err := s.routeMessage(self, self.JID, &node)
	if err != nil {
		return "", fmt.Errorf("phone %s sending to %s: %w", a.Phone, b.JID, err)
	}
	a.phone.keepHistory(b.JID, id, true, msg)
	a.phone.keepPoll(id, a, b.JID, msg)
	s.log.Infof("phone %s: sent %s to %s (%d devices)", a.Phone, id, b.JID, n)
	return id, nil
}

// Messages lists what the account's phone received, oldest first.
func (s *Server) Messages(phone string) ([]ReceivedMessage, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return nil, err
	}
	p := a.phone
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ReceivedMessage{}, p.received...), nil
}

// sentMessage is what the phone keeps of a message it sent, to answer retries.
type sentMessage struct {
	chat types.JID
	msg  *waE2E.Message
}

const phoneSentMemory = 1000

func (p *phone) remember(id string, chat types.JID, msg *waE2E.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sent == nil {
		p.sent = make(map[string]sentMessage)
	}
	p.sent[id] = sentMessage{chat: chat, msg: msg}
	p.sentOrder = append(p.sentOrder, id)
	if len(p.sentOrder) > phoneSentMemory {
		delete(p.sent, p.sentOrder[0])
		p.sentOrder = p.sentOrder[1:]
	}
}

// plaintextFor is the message for a recipient's device, or the
// DeviceSentMessage copy for one of the phone's own companions.
func (p *phone) plaintextFor(d *device, chat types.JID, msg *waE2E.Message) ([]byte, error) {
	if d.acct == p.acct {
		return proto.Marshal(&waE2E.Message{DeviceSentMessage: &waE2E.DeviceSentMessage{DestinationJID: proto.String(chat.String()), Message: msg}})
	}
	return proto.Marshal(msg)
}

// resend answers a retry receipt: a new session with the device (from the
// keys in the receipt, else its published bundle) and the message again.
func (p *phone) resend(s *Server, node waBinary.Node) {
	from, _ := node.Attrs["from"].(types.JID)
	id, _ := node.Attrs["id"].(string)
	p.mu.Lock()
	sent, ok := p.sent[id]
	p.mu.Unlock()
	s.mu.Lock()
	d := s.deviceLocked(from)
	self := p.acct.devices[0]
	s.mu.Unlock()
	if !ok || d == nil {
		s.log.Warnf("phone %s: retry receipt from %s for unknown message %s", p.acct.Phone, from, id)
		return
	}
	bundle := p.retryKeys(s, node, d)
	pt, err := p.plaintextFor(d, sent.chat, sent.msg)
	if err == nil {
		var enc waBinary.Node
		if enc, err = p.encryptWith(s, d, pt, bundle); err == nil {
			retry := node.GetChildByTag("retry")
			if count, ok := retry.Attrs["count"].(string); ok {
				enc.Attrs["count"] = count
			}
			msg := waBinary.Node{Tag: "message", Attrs: waBinary.Attrs{"id": id, "to": d.JID, "type": "text"},
				Content: []waBinary.Node{enc}}
			_, err = s.routeMessage(self, self.JID, &msg)
		}
	}
	if err != nil {
		s.log.Errorf("phone %s: resending %s to %s: %v", p.acct.Phone, id, from, err)
		return
	}
	s.log.Infof("phone %s: resent %s to %s after a retry receipt", p.acct.Phone, id, from)
}

// retryKeys is the bundle to answer a retry receipt from d with: the keys
// in the receipt, else d's published bundle.
func (p *phone) retryKeys(s *Server, node waBinary.Node, d *device) *prekey.Bundle {
	bundle, err := retryBundle(node, d)
	if err != nil {
		s.log.Warnf("phone %s: retry receipt from %s: %v; using the published bundle", p.acct.Phone, d.JID, err)
	}
	if bundle == nil {
		s.mu.Lock()
		bundle = s.bundleLocked(d)
		s.mu.Unlock()
	}
	return bundle
}

// retryBundle reads the <keys> a retry receipt may carry; nil if it has none.
func retryBundle(node waBinary.Node, d *device) (*prekey.Bundle, error) {
	keysNode, ok := node.GetOptionalChildByTag("keys")
	if !ok {
		return nil, nil
	}
	reg, _ := node.GetChildByTag("registration").Content.([]byte)
	ident, _ := keysNode.GetChildByTag("identity").Content.([]byte)
	if len(reg) != 4 || len(ident) != 32 {
		return nil, fmt.Errorf("malformed registration or identity in retry keys")
	}
	skey, err := nodeToPreKey(keysNode.GetChildByTag("skey"))
	if err != nil || len(skey.signature) != 64 {
		return nil, fmt.Errorf("malformed signed prekey in retry keys (%v)", err)
	}
	pre := optional.NewEmptyUint32()
	var prePub ecc.ECPublicKeyable
	if k, ok := keysNode.GetOptionalChildByTag("key"); ok {
		pk, err := nodeToPreKey(k)
		if err != nil {
			return nil, err
		}
		pre, prePub = optional.NewOptionalUint32(pk.id), ecc.NewDjbECPublicKey(pk.pub)
	}
	regID := uint32(reg[0])<<24 | uint32(reg[1])<<16 | uint32(reg[2])<<8 | uint32(reg[3])
	return prekey.NewBundle(regID, uint32(d.ID), pre, skey.id, prePub,
		ecc.NewDjbECPublicKey(skey.pub), [64]byte(skey.signature),
		identity.NewKey(ecc.NewDjbECPublicKey([32]byte(ident)))), nil
}
