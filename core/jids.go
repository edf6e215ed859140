package core

import (
	"fmt"
	"regexp"
	"strings"

	"go.mau.fi/whatsmeow/types"
)

var nonDigits = regexp.MustCompile(`[^0-9]`)

// normalizeJID reads a chat as users write it: a full JID (a phone number's
// @s.whatsapp.net, a @lid, a group's @g.us), whatsapp-web.js's @c.us form
// of a phone-number JID, or a bare phone number with an optional +.
func normalizeJID(s string) (types.JID, error) {
	if !strings.Contains(s, "@") {
		digits := nonDigits.ReplaceAllString(s, "")
		if len(digits) < 7 || len(digits) > 15 || digits != strings.TrimPrefix(s, "+") {
			return types.JID{}, fmt.Errorf("%q is neither a JID (user@s.whatsapp.net, user@lid, user@c.us) nor a phone number", s)
		}
		return types.NewJID(digits, types.DefaultUserServer), nil
	}
	if user, ok := strings.CutSuffix(s, "@"+types.LegacyUserServer); ok {
		s = user + "@" + types.DefaultUserServer
	}
	jid, err := types.ParseJID(s)
	if err != nil || jid.User == "" {
		return types.JID{}, fmt.Errorf("%q is not a valid JID", s)
	}
	switch jid.Server {
	case types.DefaultUserServer, types.HiddenUserServer, types.GroupServer, types.BroadcastServer, types.NewsletterServer:
	default:
		return types.JID{}, fmt.Errorf("%q is not a chat WhatsApp delivers to (server %q)", s, jid.Server)
	}
	return jid, nil
}

// partyForms orders the two JIDs of one person for the page: the
// phone-number form first (what users key chats by, and what
// whatsapp-web.js and older Baileys give), the LID second. Either may be
// empty when it is not known.
func partyForms(addressed, alt types.JID) (pn, lid types.JID) {
	for _, j := range []types.JID{addressed, alt} {
		switch j.Server {
		case types.DefaultUserServer:
			if pn.IsEmpty() {
				pn = j
			}
		case types.HiddenUserServer:
			if lid.IsEmpty() {
				lid = j
			}
		}
	}
	return pn, lid
}
