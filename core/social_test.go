//go:build !js

package core

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/fakewa"
)

// call runs a page method with JSON arguments, as the binding does.
func call(t *testing.T, c *testClient, name string, args ...any) (any, error) {
	t.Helper()
	raw := make([]json.RawMessage, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		raw[i] = b
	}
	return c.CallJSON(ctxT(t), name, raw)
}

func mustCall(t *testing.T, c *testClient, name string, args ...any) any {
	t.Helper()
	v, err := call(t, c, name, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// reachMediaHosts points c's media downloads (app-state snapshots and
// patches are blobs on the media hosts) at fakewa, as the browser's are.
func reachMediaHosts(t *testing.T, c *testClient) {
	t.Helper()
	cli, err := c.current()
	if err != nil || cli == nil {
		t.Fatalf("no whatsmeow client: %v", err)
	}
	cli.SetMediaHTTPClient(srv.HTTPClient())
}

// appStateSynced waits until c has the phone's app state (its push name
// comes with it: the service refuses presence without one).
func appStateSynced(t *testing.T, c *testClient) {
	t.Helper()
	waitFor(t, c.rec, 0, 20*time.Second, func(u CredsUpdate) bool { return u.Creds.PushName != "" })
}

func TestReceiptsPresenceAndChatStates(t *testing.T) {
	t.Parallel()
	a, b := newAccount(t, "Nora"), newAccount(t, "Olaf")
	ca, cb := newClient(t, Options{}, nil, nil), newClient(t, Options{}, nil, nil)
	reachMediaHosts(t, ca)
	reachMediaHosts(t, cb)
	pairQR(t, ca, a)
	pairQR(t, cb, b)
	exchange(t, ca, a, b, "1") // b's phone writes to a: a holds b's token
	bJID, aJID := b+"@s.whatsapp.net", a+"@s.whatsapp.net"
	key := mustCall(t, ca, "sendMessage", bJID, map[string]any{"text": "read me"}).(MessageKey)
	got := waitFor(t, cb.rec, 0, 20*time.Second, func(m Message) bool { return m.ID == key.ID })
	if got.Text != "read me" || got.Type != MsgText {
		t.Fatalf("b got %+v", got)
	}
	delivered := waitFor(t, ca.rec, 0, 20*time.Second, func(r Receipt) bool { return r.Type == ReceiptDelivered && slices.Contains(r.IDs, key.ID) })
	if !strings.HasPrefix(delivered.Reader, b) || !strings.HasPrefix(delivered.Chat, b) || delivered.FromMe {
		t.Fatalf("delivered %+v", delivered)
	}
	mustCall(t, cb, "markRead", aJID, []string{key.ID})
	read := waitFor(t, ca.rec, 0, 20*time.Second, func(r Receipt) bool { return r.Type == ReceiptRead && slices.Contains(r.IDs, key.ID) })
	if !strings.HasPrefix(read.Reader, b) || !strings.HasPrefix(read.Chat, b) {
		t.Fatalf("read %+v", read)
	}

	appStateSynced(t, ca)
	appStateSynced(t, cb)
	mustCall(t, ca, "subscribePresence", bJID)
	from := ca.rec.count()
	mustCall(t, cb, "sendPresence", "available")
	waitFor(t, ca.rec, from, 20*time.Second, func(p Presence) bool { return strings.HasPrefix(p.JID, b) && p.Available })
	from = ca.rec.count()
	mustCall(t, cb, "sendPresence", "unavailable")
	waitFor(t, ca.rec, from, 20*time.Second, func(p Presence) bool { return strings.HasPrefix(p.JID, b) && !p.Available })

	for _, state := range []string{ChatComposing, ChatRecording, ChatPaused} {
		mustCall(t, cb, "sendChatPresence", aJID, state)
		cp := waitFor(t, ca.rec, 0, 20*time.Second, func(p ChatPresence) bool { return p.State == state })
		if !strings.HasPrefix(cp.Sender, b) || !strings.HasPrefix(cp.Chat, b) {
			t.Fatalf("chat presence %+v", cp)
		}
	}
	for _, bad := range [][]any{{"sendPresence", "away"}, {"sendChatPresence", bJID, "typing"}, {"markRead", aJID, []string{}},
		{"markRead", aJID, "id"}, {"subscribePresence", "120363000000000001@g.us"}, {"markRead", "120363000000000001@g.us", []string{"A"}}} {
		if _, err := call(t, ca, bad[0].(string), bad[1:]...); CodeOf(err) != CodeInvalidOption && CodeOf(err) != CodeInvalidJID {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestContactLookUps(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Pia"), newAccount(t, "Quin")
	if err := srv.AddContacts(me, []fakewa.Contact{{Phone: peer, FirstName: "Quin", FullName: "Quin Q"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.SetProfilePicture(peer, []byte("\xff\xd8\xff\xe0 a jpeg")); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{}, nil, nil)
	reachMediaHosts(t, c)
	pairQR(t, c, me)
	res := mustCall(t, c, "isOnWhatsApp", []string{"+" + peer, "15550009999"}).([]OnWhatsApp)
	if len(res) != 2 {
		t.Fatalf("isOnWhatsApp %+v", res)
	}
	for _, r := range res {
		if want := strings.Contains(r.Query, peer); r.IsIn != want || (want && r.JID != peer+"@s.whatsapp.net") {
			t.Fatalf("isOnWhatsApp %+v", res)
		}
	}
	info := mustCall(t, c, "getUserInfo", []string{peer}).([]UserInfo)
	if len(info) != 1 || info[0].JID != peer+"@s.whatsapp.net" || len(info[0].Devices) == 0 {
		t.Fatalf("getUserInfo %+v", info)
	}
	url := mustCall(t, c, "getProfilePicture", peer).(*string)
	if url == nil || !strings.HasPrefix(*url, "http") {
		t.Fatalf("getProfilePicture %v", url)
	}
	if none := mustCall(t, c, "getProfilePicture", me).(*string); none != nil {
		t.Fatalf("a picture that is not set: %v", *none)
	}
	appStateSynced(t, c)
	var contacts []ContactEntry
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if contacts = mustCall(t, c, "getContacts").([]ContactEntry); slices.ContainsFunc(contacts, func(e ContactEntry) bool { return e.FullName == "Quin Q" }) {
			break
		}
	}
	if !slices.ContainsFunc(contacts, func(e ContactEntry) bool { return e.JID == peer+"@s.whatsapp.net" && e.FullName == "Quin Q" }) {
		t.Fatalf("getContacts %+v", contacts)
	}
	for _, bad := range [][]any{{"isOnWhatsApp", "x"}, {"isOnWhatsApp", []string{"abc"}}, {"getUserInfo", []string{}}, {"getUserInfo", []string{"1@g.us"}}, {"getProfilePicture", 5}} {
		if _, err := call(t, c, bad[0].(string), bad[1:]...); !slices.Contains([]string{CodeInvalidOption, CodeInvalidJID, CodeInvalidPhone}, CodeOf(err)) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
