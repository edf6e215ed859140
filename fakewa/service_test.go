//go:build !js

package fakewa_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

// The pinned whatsmeow's own version gets the 405 failure; the current one pairs.
func TestOutdatedClientRefused(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15553330001", "Old")
	fakewa.UseVersion(store.WAVersionContainer{2, 3000, 1031080782})
	old := newTestClient(t, srv, "old-web", nil)
	err := old.cli.Connect()
	fakewa.UseVersion(fakewa.CurrentVersion)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	waitEvent[*events.ClientOutdated](old, 10*time.Second, nil)

	pairQR(t, srv, newTestClient(t, srv, "new-web", nil), acct.Phone)

	// The minimum moves up through the control API: now the current one is old.
	base := "http://" + strings.TrimPrefix(strings.TrimSuffix(srv.WebsocketURL(), "/ws/chat"), "ws://")
	var set map[string]any
	mustAPI(t, "POST", base+"/api/settings", `{"minVersion": "2.3000.1045649368"}`, &set)
	if set["minVersion"] != "2.3000.1045649368" || set["pnAddressing"] != false {
		t.Fatalf("settings after update: %v", set)
	}
	late := newTestClient(t, srv, "late-web", nil)
	late.connect()
	waitEvent[*events.ClientOutdated](late, 10*time.Second, nil)
}

func mustAPI(t *testing.T, method, url, body string, out any) {
	t.Helper()
	if code := apiCall(t, method, url, body, out); code != http.StatusOK {
		t.Fatalf("%s %s: status %d", method, url, code)
	}
}

// Today's QR link form pairs as the bare form does; a bad client type is refused.
func TestQRLinkFormat(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	acct := mustAccount(t, srv, "15553330011", "Link")
	tc := newTestClient(t, srv, "link-web", nil)
	tc.connect()
	qr := waitEvent[*events.QR](tc, 10*time.Second, nil)
	ctx := context.Background()
	if _, err := srv.ScanQR(ctx, acct.Phone, "https://wa.me/settings/linked_devices#"+qr.Codes[0]+",x"); !errContains(err, "client type") {
		t.Fatalf("bad client type: %v", err)
	}
	if _, err := srv.ScanQR(ctx, acct.Phone, "https://wa.me/settings/linked_devices#"+qr.Codes[0]); !errContains(err, "parts") {
		t.Fatalf("link without client type: %v", err)
	}
	jid, err := srv.ScanQR(ctx, acct.Phone, "https://wa.me/settings/linked_devices#"+qr.Codes[0]+",3")
	if err != nil {
		t.Fatal(err)
	}
	if ps := waitEvent[*events.PairSuccess](tc, 10*time.Second, nil); ps.ID != jid {
		t.Fatalf("paired as %s, server says %s", ps.ID, jid)
	}
	// The control API shows the QR's client type beside the device props' platform.
	if d, ok := findDevice(srv, jid); !ok || d.ClientType != 3 || d.PlatformType == "" {
		t.Fatalf("device %+v: want clientType 3 and a platformType", d)
	}
}

// A socket that never pairs can be cut: armed before it opens, or by id.
func TestCutUnpairedConnection(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	srv.CutNextConnection(0)
	tc := newTestClient(t, srv, "cut-web", nil)
	if err := tc.cli.Connect(); err == nil {
		t.Fatal("connect succeeded on a socket cut as it opened")
	}
	tc.cli.Disconnect()

	// After one frame (pair-device: the QR) the socket drops.
	srv.CutNextConnection(1)
	tc2 := newTestClient(t, srv, "cut-web-2", nil)
	tc2.connect()
	waitEvent[*events.QR](tc2, 10*time.Second, nil)
	waitNoConnections(t, srv)
	tc2.cli.Disconnect()

	// By id through the control API.
	tc3 := newTestClient(t, srv, "cut-web-3", nil)
	tc3.connect()
	waitEvent[*events.QR](tc3, 10*time.Second, nil)
	conns := srv.Connections()
	if len(conns) != 1 || conns[0].State != "unpaired" {
		t.Fatalf("connections: %+v", conns)
	}
	base := "http://" + strings.TrimPrefix(strings.TrimSuffix(srv.WebsocketURL(), "/ws/chat"), "ws://")
	mustAPI(t, "POST", fmt.Sprintf("%s/api/connections/%d/cut", base, conns[0].ID), `{"afterFrames": 0}`, nil)
	waitNoConnections(t, srv)
	if err := srv.CutConnection(conns[0].ID, 0); err == nil {
		t.Fatal("cut of a closed connection succeeded")
	}
}

func waitNoConnections(t *testing.T, srv *fakewa.Server) {
	t.Helper()
	for i := 0; len(srv.Connections()) != 0; i++ {
		if i == 200 {
			t.Fatalf("connections still open: %+v", srv.Connections())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rawIQ(t *testing.T, tc *testClient, q whatsmeow.DangerousInfoQuery) *waBinary.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q.To = types.ServerJID
	resp, err := tc.cli.DangerousInternals().SendIQ(ctx, q)
	if err != nil {
		t.Fatalf("%s: iq %s: %v", tc.name, q.Namespace, err)
	}
	return resp
}

// The digest matches the client's own keys; props, blocklist and the
// unified_session telemetry get well-formed answers.
func TestServiceQueries(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, mustAccount(t, srv, "15553330021", "Alice").Phone)
	ctx := context.Background()

	resp := rawIQ(t, a1, whatsmeow.DangerousInfoQuery{Namespace: "encrypt", Type: "get", Content: []waBinary.Node{{Tag: "digest"}}})
	digest := resp.GetChildByTag("digest")
	dev := a1.cli.Store
	h := sha1.New()
	h.Write(dev.IdentityKey.Pub[:])
	h.Write(dev.SignedPreKey.Pub[:])
	h.Write(dev.SignedPreKey.Signature[:])
	list := digest.GetChildByTag("list")
	ids := list.GetChildren()
	if len(ids) < 5 {
		t.Fatalf("digest lists %d prekeys", len(ids))
	}
	for _, n := range ids {
		b, _ := n.Content.([]byte)
		pk, err := dev.PreKeys.GetPreKey(ctx, uint32(b[0])<<16|uint32(b[1])<<8|uint32(b[2]))
		if err != nil || pk == nil {
			t.Fatalf("digest names prekey %x the client does not have: %v", b, err)
		}
		h.Write(pk.Pub[:])
	}
	if got, _ := digest.GetChildByTag("hash").Content.([]byte); !bytes.Equal(got, h.Sum(nil)) {
		t.Fatalf("digest hash %x, client computes %x", got, h.Sum(nil))
	}
	if ident, _ := digest.GetChildByTag("identity").Content.([]byte); !bytes.Equal(ident, dev.IdentityKey.Pub[:]) {
		t.Fatal("digest identity differs")
	}

	resp = rawIQ(t, a1, whatsmeow.DangerousInfoQuery{Namespace: "abt", Type: "get", Content: []waBinary.Node{{Tag: "props", Attrs: waBinary.Attrs{"protocol": "1"}}}})
	props := resp.GetChildByTag("props")
	found := map[string]string{}
	for _, p := range props.GetChildren() {
		found[p.AttrGetter().String("config_code")] = p.AttrGetter().String("config_value")
	}
	if found["10518"] != "true" || props.AttrGetter().String("hash") == "" {
		t.Fatalf("abt props %s", resp.XMLString())
	}

	bobJID := types.NewJID("15553330022", types.DefaultUserServer) // any user may be blocked
	bl, err := a1.cli.UpdateBlocklist(ctx, bobJID, events.BlocklistChangeActionBlock)
	if err != nil || len(bl.JIDs) != 1 || bl.JIDs[0] != bobJID || bl.DHash == "" {
		t.Fatalf("block: %+v %v", bl, err)
	}
	if bl, err = a1.cli.GetBlocklist(ctx); err != nil || len(bl.JIDs) != 1 {
		t.Fatalf("blocklist: %+v %v", bl, err)
	}
	if bl, err = a1.cli.UpdateBlocklist(ctx, bobJID, events.BlocklistChangeActionUnblock); err != nil || len(bl.JIDs) != 0 {
		t.Fatalf("unblock: %+v %v", bl, err)
	}
	// Telemetry is taken without an answer and without breaking the socket.
	if err = a1.cli.DangerousInternals().SendNode(ctx, waBinary.Node{Tag: "ib", Content: []waBinary.Node{{Tag: "unified_session", Attrs: waBinary.Attrs{"id": "123"}}}}); err != nil {
		t.Fatal(err)
	}
	rawIQ(t, a1, whatsmeow.DangerousInfoQuery{Namespace: "w:p", Type: "get"})
}

func waitToken(t *testing.T, tc *testClient, from types.JID) []byte {
	t.Helper()
	for i := 0; i < 200; i++ {
		tok, err := tc.cli.Store.PrivacyTokens.GetPrivacyToken(context.Background(), from)
		if err != nil {
			t.Fatal(err)
		}
		if tok != nil {
			return tok.Token
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never got a privacy token from %s", tc.name, from)
	return nil
}

// A phone that writes issues a token; the unmodified client stores and
// attaches it; a message without the right one is refused with 463.
func TestPrivacyTokens(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15553330031", "Alice")
	bob := mustAccount(t, srv, "15553330032", "Bob")
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)

	// No token issued yet: the first message goes through without one.
	sendText(t, a1, bobJID, "hello before any token")
	if _, err := srv.SendText(bob.Phone, alice.Phone, "hi alice"); err != nil {
		t.Fatal(err)
	}
	waitText(a1, "hi alice")
	waitToken(t, a1, bobJID)
	sendText(t, a1, bobJID, "with the token")
	waitPhoneText(t, srv, bob.Phone, "with the token")

	ctx := context.Background()
	if err := a1.cli.Store.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: bobJID, Token: []byte("wrong"), Timestamp: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err := a1.cli.SendMessage(ctx, bobJID, textMessage("with a wrong token"))
	if !errors.Is(err, whatsmeow.ErrServerReturnedError) || !strings.Contains(err.Error(), "463") {
		t.Fatalf("send with a wrong token: %v", err)
	}
	// Switched off, the same message goes through.
	noCheck := true
	if _, err = srv.UpdateSettings(fakewa.SettingsUpdate{NoTCTokenCheck: &noCheck}); err != nil {
		t.Fatal(err)
	}
	sendText(t, a1, bobJID, "unchecked")
	noCheck = false
	_, _ = srv.UpdateSettings(fakewa.SettingsUpdate{NoTCTokenCheck: &noCheck})

	// A companion paired later holds the token too.
	a2 := newTestClient(t, srv, "alice-laptop", nil)
	pairQR(t, srv, a2, alice.Phone)
	waitToken(t, a2, bobJID)
	sendText(t, a2, bobJID, "from the new companion")

	// Alice's companion issues a token to Bob (as the browser client must):
	// Bob's phone attaches it from then on, and a companion of Bob gets it.
	b1 := newTestClient(t, srv, "bob-web", nil)
	pairQR(t, srv, b1, bob.Phone)
	resp := rawIQ(t, a1, whatsmeow.DangerousInfoQuery{Namespace: "privacy", Type: "set", Content: []waBinary.Node{{
		Tag: "tokens", Content: []waBinary.Node{{Tag: "token", Attrs: waBinary.Attrs{
			"jid": bobJID, "t": fmt.Sprint(time.Now().Unix()), "type": "trusted_contact"}}},
	}}})
	tokens := resp.GetChildByTag("tokens")
	issued := tokens.GetChildByTag("token")
	if b, _ := issued.Content.([]byte); len(b) == 0 {
		t.Fatalf("issuance answer %s", resp.XMLString())
	}
	aliceJID := types.NewJID(alice.Phone, types.DefaultUserServer)
	if got := waitToken(t, b1, aliceJID); !bytes.Equal(got, issued.Content.([]byte)) {
		t.Fatal("bob-web holds another token than the one issued")
	}
	if _, err = srv.SendText(bob.Phone, alice.Phone, "phone carries alice's token"); err != nil {
		t.Fatal(err)
	}
	sendText(t, b1, aliceJID, "bob-web carries it too")
	waitText(a1, "bob-web carries it too")
	if err = b1.cli.Store.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: aliceJID, Token: []byte("stale"), Timestamp: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err = b1.cli.SendMessage(ctx, aliceJID, textMessage("refused")); !errContains(err, "463") {
		t.Fatalf("bob-web with a wrong token: %v", err)
	}
}

// A token issued without notifying the holder (POST /api/accounts/{phone}/tokens
// with notify false) leaves the holder's companion without it: its next
// message is refused with 463, until the issuer writes (its phone then issues
// a token that reaches the companion). The control API lists the version
// each socket announced.
func TestSilentTokenIssue(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15553330041", "Alice")
	bob := mustAccount(t, srv, "15553330042", "Bob")
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	a1 := newTestClient(t, srv, "alice-web", nil)
	dev := pairQR(t, srv, a1, alice.Phone)
	base := "http://" + strings.TrimPrefix(strings.TrimSuffix(srv.WebsocketURL(), "/ws/chat"), "ws://")

	var conns []fakewa.ConnInfo
	mustAPI(t, "GET", base+"/api/connections", "", &conns)
	if len(conns) != 1 || conns[0].Device != dev.String() || conns[0].Version != fakewa.CurrentVersion.String() {
		t.Fatalf("connections %+v, want %s announcing %s", conns, dev, fakewa.CurrentVersion)
	}

	sendText(t, a1, bobJID, "before any token")
	mustAPI(t, "POST", base+"/api/accounts/"+bob.Phone+"/tokens", `{"to": "`+alice.Phone+`"}`, nil)
	if tok, err := a1.cli.Store.PrivacyTokens.GetPrivacyToken(context.Background(), bobJID); err != nil || tok != nil {
		t.Fatalf("alice-web was told of a silent token: %v %v", tok, err)
	}
	if _, err := a1.cli.SendMessage(context.Background(), bobJID, textMessage("lacking the token")); !errContains(err, "463") {
		t.Fatalf("send lacking the token: %v, want error 463", err)
	}
	if _, err := srv.SendText(bob.Phone, alice.Phone, "here is my token"); err != nil {
		t.Fatal(err)
	}
	waitText(a1, "here is my token")
	waitToken(t, a1, bobJID)
	sendText(t, a1, bobJID, "with the token now")
	waitPhoneText(t, srv, bob.Phone, "with the token now")
	var toks struct{ Issued, Held []fakewa.TokenInfo }
	mustAPI(t, "GET", base+"/api/accounts/"+alice.Phone+"/tokens", "", &toks)
	if len(toks.Held) != 1 || toks.Held[0].From != bob.Phone || toks.Held[0].To != alice.Phone || len(toks.Issued) != 0 {
		t.Fatalf("alice's tokens %+v: want one held from bob, none issued (whatsmeow at the pin issues none)", toks)
	}

	for _, bad := range []string{`{"to": "` + bob.Phone + `"}`, `{"to": "15559999999"}`, `{"to": "x@y@z"}`} {
		if code := apiCall(t, "POST", base+"/api/accounts/"+bob.Phone+"/tokens", bad, nil); code != http.StatusConflict {
			t.Errorf("tokens %s: status %d, want 409", bad, code)
		}
	}
	// notify true delivers it: the companion holds the newest token.
	old := waitToken(t, a1, bobJID)
	mustAPI(t, "POST", base+"/api/accounts/"+bob.Phone+"/tokens", `{"to": "`+alice.Phone+`@s.whatsapp.net", "notify": true}`, nil)
	for i := 0; bytes.Equal(waitToken(t, a1, bobJID), old); i++ {
		if i == 200 {
			t.Fatal("a token issued with notify true never reached alice-web")
		}
		time.Sleep(20 * time.Millisecond)
	}
	sendText(t, a1, bobJID, "with the notified token")
}
