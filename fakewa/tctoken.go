//go:build !js

package fakewa

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Trusted-contact privacy tokens (tctoken). User X issues a token to user Y
// (an iq of xmlns privacy); the service hands it to Y's devices in a
// privacy_token notification; Y attaches it (<tctoken>) to its 1:1 messages
// to X, and the service refuses with ack error 463 a message to X that lacks
// a token X issued to Y. See docs/SERVICE.md for the sources.

// tcTokenLifetime is the window a token counts in: 4 buckets of 7 days (AB
// props tctoken_num_buckets and tctoken_duration, as whatsmeow upstream
// tctoken.go and Baileys 7 tc-token-utils use them).
const tcTokenLifetime = 4 * 7 * 24 * time.Hour

// tcTokensKept is how many tokens of one issuer for one holder stay valid:
// a client may still hold the previous one when a new one is issued.
const tcTokensKept = 4

type tokenKey struct{ issuer, holder string } // phone numbers

type issuedToken struct {
	token []byte
	t     time.Time
}

// issueToken records a new token from issuer to holder and sends it to the
// holder's devices. It returns the token.
func (s *Server) issueToken(issuer, holder *account, t time.Time) []byte {
	s.mu.Lock()
	token := s.recordTokenLocked(issuer, holder, t)
	var targets []*device
	for _, d := range holder.sortedDevices() {
		if !d.simulatedPhone {
			targets = append(targets, d)
		}
	}
	// The simulated phone takes its token at once, so that its next send
	// carries it whatever its inbox still holds.
	holder.phone.holdToken(issuer.Phone, token)
	node := s.privacyTokenNotificationLocked(issuer, holder, issuedToken{token: token, t: t})
	s.mu.Unlock()
	s.log.Infof("%s issued a privacy token to %s", issuer.Phone, holder.Phone)
	for _, d := range targets {
		s.deliver(d, node)
	}
	return token
}

// recordTokenLocked keeps a new token from issuer to holder (the newest
// tcTokensKept count) and returns it.
func (s *Server) recordTokenLocked(issuer, holder *account, t time.Time) []byte {
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	k := tokenKey{issuer.Phone, holder.Phone}
	list := append(s.tokens[k], issuedToken{token: token, t: t})
	if len(list) > tcTokensKept {
		list = list[len(list)-tcTokensKept:]
	}
	s.tokens[k] = list
	return token
}

// IssueToken has the account of phone issue a privacy token to the user to
// (a phone number or a PN/LID JID), as if one of its devices had sent the
// issuance iq. With notify false nobody is told: the holder's phone and
// companions lack the token the service now expects on their messages to
// phone, so their next 1:1 message there is refused with 463 (a client that
// missed the privacy_token notification). The issuer's phone still issues
// its own tokens when it next writes (its 7-day bucket is not touched).
func (s *Server) IssueToken(phone, to string, notify bool) error {
	issuer, err := s.lookupAccount(phone)
	if err != nil {
		return err
	}
	var holder *account
	if strings.Contains(to, "@") {
		jid, err := types.ParseJID(to)
		if err != nil {
			return fmt.Errorf("bad holder %q: %w", to, err)
		}
		s.mu.Lock()
		holder = s.userAccountLocked(jid.ToNonAD())
		s.mu.Unlock()
		if holder == nil {
			return fmt.Errorf("no account for %s", jid)
		}
	} else if holder, err = s.lookupAccount(to); err != nil {
		return err
	}
	if holder == issuer {
		return fmt.Errorf("an account issues no token to itself")
	}
	if notify {
		s.issueToken(issuer, holder, time.Now())
		return nil
	}
	s.mu.Lock()
	s.recordTokenLocked(issuer, holder, time.Now())
	s.mu.Unlock()
	s.log.Infof("%s issued a privacy token to %s, telling nobody", issuer.Phone, holder.Phone)
	return nil
}

// TokenInfo is a token in the control API: issued by From to To (phone
// numbers) at T (unix seconds), the newest of that pair.
type TokenInfo struct {
	From string `json:"from"`
	To   string `json:"to"`
	T    int64  `json:"t"`
}

// Tokens lists the newest token of each pair the account of phone is part
// of: those it issued and those it holds.
func (s *Server) Tokens(phone string) (issued, held []TokenInfo, err error) {
	a, err := s.lookupAccount(phone)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	issued, held = []TokenInfo{}, []TokenInfo{}
	for k, list := range s.tokens {
		if len(list) == 0 {
			continue
		}
		ti := TokenInfo{From: k.issuer, To: k.holder, T: list[len(list)-1].t.Unix()}
		if k.issuer == a.Phone {
			issued = append(issued, ti)
		}
		if k.holder == a.Phone {
			held = append(held, ti)
		}
	}
	for _, l := range [][]TokenInfo{issued, held} {
		sort.Slice(l, func(i, j int) bool { return l[i].From+l[i].To < l[j].From+l[j].To })
	}
	return issued, held, nil
}

// privacyTokenNotificationLocked is the notification that hands a holder a token,
// in the shape the pinned whatsmeow parses (handlePrivacyTokenNotification:
// the token's jid must be the holder, it is stored under from) and with
// sender_lid as whatsmeow upstream and whatsapp-rust read it.
func (s *Server) privacyTokenNotificationLocked(issuer, holder *account, tok issuedToken) waBinary.Node {
	holderJID := holder.LID
	if s.settings.PNAddressing {
		holderJID = holder.JID
	}
	ts := strconv.FormatInt(tok.t.Unix(), 10)
	return waBinary.Node{Tag: "notification", Attrs: waBinary.Attrs{
		"from": issuer.JID, "sender_lid": issuer.LID, "type": "privacy_token", "id": s.newID(), "t": ts,
	}, Content: []waBinary.Node{{Tag: "tokens", Content: []waBinary.Node{{
		Tag: "token", Attrs: waBinary.Attrs{"jid": holderJID, "t": ts, "type": "trusted_contact"}, Content: tok.token,
	}}}}}
}

// sendHeldTokens gives a newly paired companion the tokens its account holds
// (the newest of each issuer). The real service carries them in history sync
// (Conversation.tcToken); the double has no history sync, so it sends the
// notifications a live companion would have got.
func (s *Server) sendHeldTokens(d *device) {
	s.mu.Lock()
	var nodes []waBinary.Node
	for k, list := range s.tokens {
		if k.holder != d.acct.Phone || len(list) == 0 {
			continue
		}
		if issuer := s.accounts[k.issuer]; issuer != nil {
			nodes = append(nodes, s.privacyTokenNotificationLocked(issuer, d.acct, list[len(list)-1]))
		}
	}
	s.mu.Unlock()
	for _, n := range nodes {
		s.deliver(d, n)
	}
}

// handleTokenIssue answers <iq xmlns=privacy type=set><tokens><token jid t
// type=trusted_contact/></tokens>: the device's user issues a token to each
// named user. The result lists the issued tokens, as whatsapp-rust
// (wacore/src/iq/tctoken.rs) documents the response.
func (s *Server) handleTokenIssue(d *device, node *waBinary.Node) waBinary.Node {
	var issued []waBinary.Node
	tokens := node.GetChildByTag("tokens")
	for _, tok := range tokens.GetChildren() {
		jid, ok := tok.Attrs["jid"].(types.JID)
		typ, _ := tok.Attrs["type"].(string)
		if tok.Tag != "token" || !ok || typ != "trusted_contact" {
			return iqError(node, 400, "bad-request")
		}
		// The client's timestamp, but never a future one: a token issued
		// "next year" would stay valid for as long as a client likes.
		now := time.Now()
		t := now
		if sec, ok := tok.AttrGetter().GetInt64("t", true); ok && sec > 0 && sec < now.Unix() {
			t = time.Unix(sec, 0)
		}
		s.mu.Lock()
		holder := s.userAccountLocked(jid.ToNonAD())
		s.mu.Unlock()
		if holder == nil {
			return iqError(node, 404, "item-not-found")
		}
		token := s.issueToken(d.acct, holder, t)
		issued = append(issued, waBinary.Node{Tag: "token", Attrs: waBinary.Attrs{
			"jid": jid.ToNonAD(), "t": strconv.FormatInt(t.Unix(), 10), "type": "trusted_contact",
		}, Content: token})
	}
	return iqResult(node, waBinary.Node{Tag: "tokens", Content: issued})
}

// tcTokenMissing reports whether a 1:1 message from sender to chat must be
// refused with 463: chat issued sender a token within its lifetime, and the
// message carries none of chat's valid tokens.
func (s *Server) tcTokenMissing(sender, chat *account, node *waBinary.Node) bool {
	if sender == chat {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settings.NoTCTokenCheck {
		return false
	}
	var valid []issuedToken
	for _, tok := range s.tokens[tokenKey{chat.Phone, sender.Phone}] {
		if time.Since(tok.t) < tcTokenLifetime {
			valid = append(valid, tok)
		}
	}
	if len(valid) == 0 {
		return false
	}
	got, _ := node.GetChildByTag("tctoken").Content.([]byte)
	for _, tok := range valid {
		if len(got) > 0 && bytes.Equal(got, tok.token) {
			return false
		}
	}
	return true
}

// holdToken keeps the newest token an issuer gave the phone's account.
func (p *phone) holdToken(issuer string, token []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tokens == nil {
		p.tokens = make(map[string][]byte)
	}
	p.tokens[issuer] = token
}

// tokenFor is the token the phone attaches to a message to user to.
func (p *phone) tokenFor(to string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokens[to]
}

// issueIfDue has the phone issue a token to a user it writes to, once per
// 7-day bucket, as current clients do (whatsmeow upstream tctoken.go
// shouldSendNewTCToken, Baileys 7 shouldSendNewTcToken).
func (p *phone) issueIfDue(s *Server, to *account) {
	now := time.Now()
	bucket := now.Unix() / int64(tcTokenLifetime/time.Second/4)
	p.mu.Lock()
	if p.issuedBucket == nil {
		p.issuedBucket = make(map[string]int64)
	}
	due := p.issuedBucket[to.Phone] < bucket
	p.issuedBucket[to.Phone] = bucket
	p.mu.Unlock()
	if due {
		s.issueToken(p.acct, to, now)
	}
}
