package core

import (
	"testing"

	"go.mau.fi/whatsmeow/types"
)

func TestNormalizeJID(t *testing.T) {
	for in, want := range map[string]string{
		"15550000001":                  "15550000001@s.whatsapp.net",
		"+15550000001":                 "15550000001@s.whatsapp.net",
		"15550000001@s.whatsapp.net":   "15550000001@s.whatsapp.net",
		"15550000001@c.us":             "15550000001@s.whatsapp.net",
		"123456789012345@lid":          "123456789012345@lid",
		"120363000000000001@g.us":      "120363000000000001@g.us",
		"15550000001:3@s.whatsapp.net": "15550000001:3@s.whatsapp.net",
	} {
		got, err := normalizeJID(in)
		if err != nil || got.String() != want {
			t.Errorf("%q: got %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "not a jid!", "123", "1555 0000 001", "@s.whatsapp.net", "x@example.com", "15550000001@"} {
		if j, err := normalizeJID(bad); err == nil {
			t.Errorf("%q accepted as %s", bad, j)
		}
	}
}

func TestPartyForms(t *testing.T) {
	pnJID := types.NewJID("15550000001", types.DefaultUserServer)
	lidJID := types.NewJID("98765432101234", types.HiddenUserServer)
	for _, c := range []struct{ addressed, alt, pn, lid types.JID }{
		{lidJID, pnJID, pnJID, lidJID},
		{pnJID, lidJID, pnJID, lidJID},
		{pnJID, types.EmptyJID, pnJID, types.EmptyJID},
		{lidJID, types.EmptyJID, types.EmptyJID, lidJID},
	} {
		pn, lid := partyForms(c.addressed, c.alt)
		if pn != c.pn || lid != c.lid {
			t.Errorf("partyForms(%s, %s) = %s, %s", c.addressed, c.alt, pn, lid)
		}
	}
}
