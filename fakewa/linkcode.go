//go:build !js

package fakewa

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/pbkdf2"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"go.mau.fi/whatsmeow/util/keys"
)

// linkCodeReg is a companion waiting for its phone-number pairing code to be
// entered on the phone (stage companion_hello done).
type linkCodeReg struct {
	c            *conn
	phone        string
	ref          string
	wrappedEph   []byte // salt32 | iv16 | AES-CTR(companion ephemeral pub)
	primaryEph   *keys.KeyPair
	companionEph []byte
	result       chan linkCodeResult // companion_finish outcome, for EnterPairingCode
}

type linkCodeResult struct {
	advSecret []byte
	err       error
}

// ErrWrongCode is returned by EnterPairingCode when the code the phone
// entered is not the one the companion shows.
var ErrWrongCode = errors.New("wrong pairing code")

// linkCodeKey is PBKDF2-SHA256 of the 8-character code, as pair-code.go.
func linkCodeKey(code string, salt []byte) []byte {
	return pbkdf2.Key([]byte(code), salt, 2<<16, 32, sha256.New)
}

func ctrXOR(key, iv, data []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(data))
	cipher.NewCTR(block, iv).XORKeyStream(out, data)
	return out, nil
}

// handleLinkCodeIQ serves both link_code_companion_reg stages. It runs on the
// read loop; EnterPairingCode waits on reg.result in its own goroutine.
func (s *Server) handleLinkCodeIQ(c *conn, node *waBinary.Node) waBinary.Node {
	reg := node.GetChildByTag("link_code_companion_reg")
	stage, _ := reg.Attrs["stage"].(string)
	jid, _ := reg.Attrs["jid"].(types.JID)
	s.mu.Lock()
	unpaired := c.reg != nil && c.device == nil && !c.paired
	s.mu.Unlock()
	if !unpaired {
		s.log.Warnf("%s: link code %s from a socket that is not an unpaired companion", c.name(), stage)
		return iqError(node, 400, "bad-request")
	}
	switch stage {
	case "companion_hello":
		return s.linkCodeHello(c, node, reg, jid)
	case "companion_finish":
		return s.linkCodeFinish(c, node, reg)
	default:
		s.log.Warnf("%s: unknown link code stage %q", c.name(), stage)
		return iqError(node, 400, "bad-request")
	}
}

func (s *Server) linkCodeHello(c *conn, node *waBinary.Node, reg waBinary.Node, jid types.JID) waBinary.Node {
	wrapped, _ := reg.GetChildByTag("link_code_pairing_wrapped_companion_ephemeral_pub").Content.([]byte)
	noise, _ := reg.GetChildByTag("companion_server_auth_key_pub").Content.([]byte)
	if len(wrapped) != 80 {
		s.log.Warnf("%s: companion_hello with a %d-byte wrapped ephemeral key", c.name(), len(wrapped))
		return iqError(node, 400, "bad-request")
	}
	if !bytes.Equal(noise, c.noisePub[:]) {
		s.log.Warnf("%s: companion_hello names a noise key that is not the socket's", c.name())
		return iqError(node, 400, "bad-request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if jid.Server != types.DefaultUserServer || s.accounts[jid.User] == nil {
		s.log.Warnf("%s: pairing code requested for %s, which has no account", c.name(), jid)
		return iqError(node, 404, "item-not-found")
	}
	refBytes := make([]byte, 16)
	_, _ = rand.Read(refBytes)
	lr := &linkCodeReg{c: c, phone: jid.User, ref: base64.RawURLEncoding.EncodeToString(refBytes), wrappedEph: wrapped}
	s.linkRegs[jid.User] = lr
	s.log.Infof("%s: waiting for the pairing code to be entered on %s", c.name(), jid.User)
	return iqResult(node, waBinary.Node{Tag: "link_code_companion_reg", Content: []waBinary.Node{
		{Tag: "link_code_pairing_ref", Content: []byte(lr.ref)},
	}})
}

func (s *Server) linkCodeFinish(c *conn, node *waBinary.Node, reg waBinary.Node) waBinary.Node {
	ref, _ := reg.GetChildByTag("link_code_pairing_ref").Content.([]byte)
	bundle, _ := reg.GetChildByTag("link_code_pairing_wrapped_key_bundle").Content.([]byte)
	companionIdentity, _ := reg.GetChildByTag("companion_identity_public").Content.([]byte)
	s.mu.Lock()
	var lr *linkCodeReg
	for _, r := range s.linkRegs {
		if r.c == c && r.ref == string(ref) && r.result != nil {
			lr = r
		}
	}
	var a *account
	if lr != nil {
		delete(s.linkRegs, lr.phone)
		a = s.accounts[lr.phone]
	}
	regIdentity := c.reg.identity
	s.mu.Unlock()
	if lr == nil || a == nil {
		s.log.Warnf("%s: companion_finish for an unknown pairing ref", c.name())
		return iqError(node, 404, "item-not-found")
	}
	adv, err := s.openKeyBundle(lr, a, bundle, companionIdentity, regIdentity)
	lr.result <- linkCodeResult{advSecret: adv, err: err}
	if errors.Is(err, ErrWrongCode) {
		s.log.Warnf("%s: %v", c.name(), err)
		return iqError(node, 401, "wrong-code")
	} else if err != nil {
		s.log.Warnf("%s: companion_finish: %v", c.name(), err)
		return iqError(node, 400, "bad-request")
	}
	return iqResult(node)
}

// openKeyBundle is the phone's side of companion_finish: it decrypts the key
// bundle and derives the adv secret the way pair-code.go does.
func (s *Server) openKeyBundle(lr *linkCodeReg, a *account, bundle, companionIdentity []byte, regIdentity [32]byte) ([]byte, error) {
	if len(bundle) < 32+12+16 || len(companionIdentity) != 32 {
		return nil, fmt.Errorf("malformed key bundle (%d bytes) or companion identity (%d bytes)", len(bundle), len(companionIdentity))
	}
	if !bytes.Equal(companionIdentity, regIdentity[:]) {
		return nil, fmt.Errorf("companion identity differs from the one it registered with")
	}
	eph, err := curve25519.X25519(lr.primaryEph.Priv[:], lr.companionEph)
	if err != nil {
		// A wrong code unwraps to random bytes, which can be a bad point.
		return nil, fmt.Errorf("%w: %v", ErrWrongCode, err)
	}
	key := hkdfutil.SHA256(eph, bundle[:32], []byte("link_code_pairing_key_bundle_encryption_key"), 32)
	gcm, err := newAESGCM(key)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, bundle[32:44], bundle[44:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: the companion's key bundle does not decrypt", ErrWrongCode)
	}
	if len(plain) != 96 || !bytes.Equal(plain[:32], companionIdentity) || !bytes.Equal(plain[32:64], a.identity.Pub[:]) {
		return nil, fmt.Errorf("key bundle names other identities than the companion's and the phone's")
	}
	identityShared, err := curve25519.X25519(a.identity.Priv[:], companionIdentity)
	if err != nil {
		return nil, fmt.Errorf("identity key agreement: %w", err)
	}
	return hkdfutil.SHA256(concat(eph, identityShared, plain[64:]), nil, []byte("adv_secret"), 32), nil
}

// EnterPairingCode is the account's phone entering the 8-character code a
// companion shows after PairPhone. It returns the new device once the
// companion accepted pair-success; ErrWrongCode when the code is not the
// companion's (the companion's companion_finish is refused too).
func (s *Server) EnterPairingCode(ctx context.Context, phone, code string) (types.JID, error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return types.EmptyJID, err
	}
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	if len(code) != 8 {
		return types.EmptyJID, fmt.Errorf("pairing code must have 8 characters (XXXX-XXXX), got %d", len(code))
	}
	s.mu.Lock()
	lr := s.linkRegs[a.Phone]
	s.mu.Unlock()
	if lr == nil {
		return types.EmptyJID, fmt.Errorf("no companion is waiting for a pairing code for %s", a.Phone)
	}
	// PBKDF2 is slow: derive outside the lock, then claim the registration.
	primaryEph := keys.NewKeyPair()
	companionEph, err := ctrXOR(linkCodeKey(code, lr.wrappedEph[:32]), lr.wrappedEph[32:48], lr.wrappedEph[48:80])
	if err != nil {
		return types.EmptyJID, fmt.Errorf("unwrapping companion ephemeral key: %w", err)
	}
	salt, iv := make([]byte, 32), make([]byte, 16)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(iv)
	wrappedPrimary, err := ctrXOR(linkCodeKey(code, salt), iv, primaryEph.Pub[:])
	if err != nil {
		return types.EmptyJID, fmt.Errorf("wrapping primary ephemeral key: %w", err)
	}
	s.mu.Lock()
	if s.linkRegs[a.Phone] != lr || lr.result != nil {
		s.mu.Unlock()
		return types.EmptyJID, fmt.Errorf("the companion waiting for %s changed or is already being paired", a.Phone)
	}
	lr.primaryEph, lr.companionEph = primaryEph, companionEph
	lr.result = make(chan linkCodeResult, 1)
	s.mu.Unlock()
	s.log.Infof("Phone %s entered a pairing code for %s", a.Phone, lr.c.name())
	err = lr.c.send(waBinary.Node{Tag: "notification", Attrs: waBinary.Attrs{
		"from": types.ServerJID, "type": "link_code_companion_reg", "id": s.newID(),
		"t": fmt.Sprint(time.Now().Unix()),
	}, Content: []waBinary.Node{{Tag: "link_code_companion_reg", Attrs: waBinary.Attrs{"stage": "primary_hello"}, Content: []waBinary.Node{
		{Tag: "link_code_pairing_ref", Content: []byte(lr.ref)},
		{Tag: "link_code_pairing_wrapped_primary_ephemeral_pub", Content: concat(salt, iv, wrappedPrimary)},
		{Tag: "primary_identity_pub", Content: a.identity.Pub[:]},
	}}}})
	if err != nil {
		return types.EmptyJID, fmt.Errorf("notifying companion of the entered code: %w", err)
	}
	timer := time.NewTimer(s.cfg.RequestTimeout)
	defer timer.Stop()
	var res linkCodeResult
	select {
	case res = <-lr.result:
	case <-lr.c.closedCh:
		return types.EmptyJID, fmt.Errorf("companion %s disconnected before finishing code pairing", lr.c.name())
	case <-timer.C:
		s.mu.Lock()
		if s.linkRegs[a.Phone] == lr {
			delete(s.linkRegs, a.Phone)
		}
		s.mu.Unlock()
		return types.EmptyJID, fmt.Errorf("companion %s sent no companion_finish within %s", lr.c.name(), s.cfg.RequestTimeout)
	case <-ctx.Done():
		return types.EmptyJID, ctx.Err()
	}
	if res.err != nil {
		return types.EmptyJID, res.err
	}
	return s.pairCompanion(ctx, a, lr.c, res.advSecret)
}
