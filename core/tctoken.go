package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// Trusted-contact privacy tokens (tctoken). Today's service expects a 1:1
// message to carry the token its recipient issued to the sender, and
// answers one without it with ack error 463. The pinned whatsmeow stores
// the tokens others issue to us (privacy_token notifications) and attaches
// them, but never issues its own, so the people we write to could not
// answer. tokenIssuer issues ours: an iq of xmlns "privacy" naming the
// contact, once per contact and 7-day bucket, and again after the contact's
// identity changed (docs/SERVICE.md: Baileys 7 tc-token-utils, whatsmeow
// upstream tctoken.go, whatsapp-rust iq/tctoken).

const tokenBucket = 7 * 24 * time.Hour

type tokenIssuer struct {
	mu     sync.Mutex
	issued map[types.JID]int64 // contact (non-AD) -> bucket last issued in
}

// issueAfterSend issues our token to the recipient of a 1:1 message, in the
// background: the message is already sent, and a failure here only means
// the contact's reply may be refused, which the next send retries.
func (t *tokenIssuer) issueAfterSend(cli *whatsmeow.Client, to types.JID, log func(string, ...any)) {
	if to.Server != types.DefaultUserServer && to.Server != types.HiddenUserServer {
		return // groups, broadcasts, newsletters: no trusted-contact tokens
	}
	to = to.ToNonAD()
	if own := cli.Store.GetJID(); own.User == to.User || cli.Store.GetLID().User == to.User {
		return
	}
	bucket := time.Now().Unix() / int64(tokenBucket/time.Second)
	t.mu.Lock()
	if t.issued == nil {
		t.issued = map[types.JID]int64{}
	}
	if t.issued[to] == bucket {
		t.mu.Unlock()
		return
	}
	t.issued[to] = bucket
	t.mu.Unlock()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				log("issuing a privacy token to %s panicked: %v", to, r)
			}
		}()
		if err := issuePrivacyToken(context.Background(), cli, to); err != nil {
			t.forget(to)
			log("issuing a privacy token to %s: %v", to, err)
		}
	}()
}

// forget makes the next send to contact issue again (after its identity
// changed, or a failed issue).
func (t *tokenIssuer) forget(contact types.JID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.issued, contact.ToNonAD())
}

// issuePrivacyToken sends <iq xmlns="privacy" type="set"><tokens><token
// jid t type="trusted_contact"/></tokens></iq>, naming the contact by LID
// where we know it (the service keys tokens by LID since the migration).
func issuePrivacyToken(ctx context.Context, cli *whatsmeow.Client, contact types.JID) error {
	target := contact
	if contact.Server == types.DefaultUserServer {
		if lid, err := cli.Store.LIDs.GetLIDForPN(ctx, contact); err == nil && !lid.IsEmpty() {
			target = lid
		}
	}
	in := cli.DangerousInternals()
	id := in.GenerateRequestID()
	resp := in.WaitResponse(id)
	node := waBinary.Node{
		Tag:   "iq",
		Attrs: waBinary.Attrs{"id": id, "xmlns": "privacy", "type": "set", "to": types.ServerJID},
		Content: []waBinary.Node{{Tag: "tokens", Content: []waBinary.Node{{
			Tag:   "token",
			Attrs: waBinary.Attrs{"jid": target, "t": strconv.FormatInt(time.Now().Unix(), 10), "type": "trusted_contact"},
		}}}},
	}
	if err := in.SendNode(ctx, node); err != nil {
		in.CancelResponse(id, resp)
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case res := <-resp:
		if res.AttrGetter().OptionalString("type") == "error" {
			return fmt.Errorf("the server refused: %s", res.XMLString())
		}
		return nil
	case <-ctx.Done():
		in.CancelResponse(id, resp)
		return errors.New("no answer from the server within 30 s")
	}
}

// sendFailureReason names what a refused send means, for the page.
func sendFailureReason(err error) string {
	switch {
	case errors.Is(err, whatsmeow.ErrServerReturnedError) && strings.HasSuffix(err.Error(), " 463"):
		return "the service refused the message (463): it lacks the privacy token this contact issued to you; tokens arrive when the contact writes to you, so wait for that or ask them to"
	}
	return ""
}
