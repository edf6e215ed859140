//go:build !js

package fakewa

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// A removed stanza key leaves no copy in the age order: added again, it
// stays remembered for a full recentStanzaCount more adds.
func TestRecentStanzasRemoveThenAdd(t *testing.T) {
	var r recentStanzas
	r.add("a")
	r.remove("a")
	r.remove("never added")
	if !r.add("a") {
		t.Fatal("a removed key counts as seen")
	}
	for i := 0; i < recentStanzaCount-1; i++ {
		r.add(fmt.Sprint(i))
	}
	if r.add("a") {
		t.Fatalf("the re-added key aged out after %d adds, want it kept for %d", recentStanzaCount-1, recentStanzaCount)
	}
	if len(r.order) != recentStanzaCount || len(r.seen) != recentStanzaCount {
		t.Fatalf("order %d, seen %d, want %d each", len(r.order), len(r.seen), recentStanzaCount)
	}
	r.add("one more")
	if !r.add("a") {
		t.Fatal("the oldest key did not age out")
	}
}

// A token issue with a future t is recorded at the present: a client
// cannot make a token valid for longer than the lifetime. A past t stands.
func TestTokenIssueClampsFutureTime(t *testing.T) {
	srv, err := New(Config{Log: waLog.Noop})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	for _, p := range []string{"15556660001", "15556660002"} {
		if _, err = srv.CreateAccount(p, p); err != nil {
			t.Fatal(err)
		}
	}
	issuer, holder := srv.accounts["15556660001"], srv.accounts["15556660002"]
	d := &device{acct: issuer}
	past := time.Now().Add(-time.Hour).Unix()
	for _, tc := range []struct {
		sent        int64
		want, until time.Time
	}{
		{time.Now().Add(10 * 365 * 24 * time.Hour).Unix(), time.Now().Add(-time.Second), time.Now().Add(time.Second)},
		{past, time.Unix(past, 0), time.Unix(past, 0)},
	} {
		iq := waBinary.Node{Tag: "iq", Attrs: waBinary.Attrs{"id": "1", "type": "set", "xmlns": "privacy"}, Content: []waBinary.Node{{
			Tag: "tokens", Content: []waBinary.Node{{Tag: "token", Attrs: waBinary.Attrs{
				"jid": types.NewJID(holder.Phone, types.DefaultUserServer), "t": strconv.FormatInt(tc.sent, 10), "type": "trusted_contact",
			}}},
		}}}
		resp := srv.handleTokenIssue(d, &iq)
		if resp.Attrs["type"] != "result" {
			t.Fatalf("t=%d answered %s", tc.sent, resp.XMLString())
		}
		srv.mu.Lock()
		list := srv.tokens[tokenKey{issuer.Phone, holder.Phone}]
		got := list[len(list)-1].t
		srv.mu.Unlock()
		if got.Before(tc.want.Truncate(time.Second)) || got.After(tc.until) {
			t.Errorf("t=%d recorded as %v, want within [%v, %v]", tc.sent, got, tc.want, tc.until)
		}
		answered, _ := resp.GetChildByTag("tokens", "token").Attrs["t"].(string)
		if answered != strconv.FormatInt(got.Unix(), 10) {
			t.Errorf("t=%d answered t=%s, recorded %d", tc.sent, answered, got.Unix())
		}
	}
}
