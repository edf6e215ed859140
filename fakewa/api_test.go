//go:build !js

package fakewa_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

func apiCall(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if out != nil {
		if err = json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v in %q", method, url, err, buf.String())
		}
	}
	return resp.StatusCode
}

func TestControlAPI(t *testing.T) {
	srv, base := apiServer(t) // phonesend_test.go

	var info struct{ WSURL, RootKey string }
	if code := apiCall(t, "GET", base+"/api/info", "", &info); code != 200 {
		t.Fatalf("info: %d", code)
	}
	root := srv.RootPublicKey()
	if info.RootKey != base64.StdEncoding.EncodeToString(root[:]) || info.WSURL != "ws"+strings.TrimPrefix(base, "http")+"/ws/chat" {
		t.Fatalf("info = %+v", info)
	}
	var acct fakewa.AccountInfo
	if code := apiCall(t, "POST", base+"/api/accounts", `{"phone":"15551234567","pushName":"Alice"}`, &acct); code != 200 {
		t.Fatalf("create: %d", code)
	}
	if acct.JID != "15551234567@s.whatsapp.net" || !strings.HasSuffix(acct.LID, "@lid") || acct.PushName != "Alice" {
		t.Fatalf("created %+v", acct)
	}
	var apiErr struct{ Error string }
	if code := apiCall(t, "POST", base+"/api/accounts", `{"phone":"15551234567"}`, &apiErr); code != 400 || !strings.Contains(apiErr.Error, "exists") {
		t.Fatalf("duplicate account: %d %q", code, apiErr.Error)
	}
	if code := apiCall(t, "POST", base+"/api/accounts", `{"phone":"12ab"}`, &apiErr); code != 400 || apiErr.Error == "" {
		t.Fatalf("bad phone: %d %q", code, apiErr.Error)
	}
	if code := apiCall(t, "POST", base+"/api/accounts", `{`, &apiErr); code != 400 {
		t.Fatalf("bad JSON: %d", code)
	}

	// Pair a client through the API's scan endpoint.
	tc := newTestClientOn(t, srv, "alice-web", nil, newContainer(t, "alice-web").NewDevice())
	tc.connect()
	qr := waitEvent[*events.QR](tc, 10*time.Second, nil)
	var scanned struct{ Device string }
	body, _ := json.Marshal(map[string]string{"qr": qr.Codes[0]})
	if code := apiCall(t, "POST", base+"/api/accounts/15551234567/scan", string(body), &scanned); code != 200 {
		t.Fatalf("scan: %d", code)
	}
	waitEvent[*events.Connected](tc, 15*time.Second, nil)
	if scanned.Device != tc.cli.Store.ID.String() {
		t.Fatalf("scan says %s, client is %s", scanned.Device, tc.cli.Store.ID)
	}
	var list []fakewa.AccountInfo
	apiCall(t, "GET", base+"/api/accounts", "", &list)
	if len(list) != 1 || len(list[0].Devices) != 2 || !list[0].Devices[1].Online || list[0].Devices[1].JID != scanned.Device {
		t.Fatalf("accounts = %+v", list)
	}

	// Keepalive and an iq the double does not know both get a result.
	ctx := context.Background()
	for _, ns := range []string{"w:p", "fakewa:unknown"} {
		resp, err := tc.cli.DangerousInternals().SendIQ(ctx, whatsmeow.DangerousInfoQuery{Namespace: ns, Type: "get", To: types.ServerJID})
		if err != nil || resp.Attrs["type"] != "result" {
			t.Fatalf("iq %s: %v %v", ns, resp, err)
		}
	}
	if code := apiCall(t, "POST", base+"/api/devices/"+scanned.Device+"/cut", `{"afterFrames":0}`, nil); code != 200 {
		t.Fatalf("cut: %d", code)
	}
	waitEvent[*events.Disconnected](tc, 5*time.Second, nil)
	// whatsmeow reconnects by itself after a cut.
	waitEvent[*events.Connected](tc, 15*time.Second, nil)

	if code := apiCall(t, "POST", base+"/api/devices/"+scanned.Device+"/logout", "", nil); code != 200 {
		t.Fatalf("logout: %d", code)
	}
	lo := waitEvent[*events.LoggedOut](tc, 5*time.Second, nil)
	if lo.OnConnect {
		t.Fatalf("LoggedOut %+v, want a live logout", lo)
	}
	if code := apiCall(t, "POST", base+"/api/devices/"+scanned.Device+"/logout", "", &apiErr); code != 404 {
		t.Fatalf("second logout: %d", code)
	}
}

func TestVerboseLogsNodesAndUnknownIQs(t *testing.T) {
	logs := &fakewa.LineCapture{}
	srv := newServer(t, fakewa.Config{Verbose: true, Log: logs})
	acct := mustAccount(t, srv, "15551234000", "Vera")
	tc := newTestClient(t, srv, "vera-web", nil)
	pairQR(t, srv, tc, acct.Phone)
	_, err := tc.cli.DangerousInternals().SendIQ(context.Background(), whatsmeow.DangerousInfoQuery{
		Namespace: "fakewa:nothing", Type: "get", To: types.ServerJID, Content: []waBinary.Node{{Tag: "mystery"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`-> <iq from="s.whatsapp.net"`, // a node sent, in XML
		`<- <iq id=`,                   // a node received
		"<pair-device>",
		`unknown iq xmlns="fakewa:nothing" type="get" <mystery>`,
	} {
		if !logs.Has(want) {
			t.Errorf("no log line with %q", want)
		}
	}
}

func TestControlAPIMessagingAndLinkCode(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	base := strings.TrimSuffix(strings.Replace(srv.WebsocketURL(), "ws://", "http://", 1), "/ws/chat")
	for _, body := range []string{`{"phone":"15556660001","pushName":"Ann"}`, `{"phone":"15556660002","pushName":"Ben"}`} {
		if code := apiCall(t, "POST", base+"/api/accounts", body, nil); code != 200 {
			t.Fatalf("create %s: %d", body, code)
		}
	}
	// Ann's phone writes to Ben by phone number, then by JID.
	var sent struct{ ID string }
	if code := apiCall(t, "POST", base+"/api/accounts/15556660001/send", `{"to":"15556660002","text":"one"}`, &sent); code != 200 || sent.ID == "" {
		t.Fatalf("send: %d %+v", code, sent)
	}
	apiCall(t, "POST", base+"/api/accounts/15556660001/send", `{"to":"15556660002@s.whatsapp.net","text":"two"}`, nil)
	var msgs []fakewa.ReceivedMessage
	deadline := time.Now().Add(5 * time.Second)
	for len(msgs) < 2 && time.Now().Before(deadline) {
		apiCall(t, "GET", base+"/api/accounts/15556660002/messages", "", &msgs)
		time.Sleep(20 * time.Millisecond)
	}
	if len(msgs) != 2 || msgs[0].ID != sent.ID || msgs[0].Text != "one" || msgs[1].Text != "two" ||
		msgs[0].From != "15556660001@s.whatsapp.net" || msgs[0].Chat != "15556660001@s.whatsapp.net" {
		t.Fatalf("Ben's phone got %+v", msgs)
	}
	// count: several texts in one call, numbered, in order.
	var many struct{ IDs []string }
	if code := apiCall(t, "POST", base+"/api/accounts/15556660001/send", `{"to":"15556660002","text":"many","count":3}`, &many); code != 200 || len(many.IDs) != 3 {
		t.Fatalf("send count 3: %d %+v", code, many)
	}
	for deadline := time.Now().Add(5 * time.Second); len(msgs) < 5 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		apiCall(t, "GET", base+"/api/accounts/15556660002/messages", "", &msgs)
	}
	if len(msgs) != 5 || msgs[2].Text != "many #1" || msgs[4].Text != "many #3" || msgs[4].ID != many.IDs[2] {
		t.Fatalf("after count 3 Ben's phone has %+v", msgs)
	}
	var apiErr struct{ Error string }
	if code := apiCall(t, "POST", base+"/api/accounts/15556660001/send", `{"to":"15556660002","text":"x","count":-1}`, &apiErr); code != 400 || !strings.Contains(apiErr.Error, "count") {
		t.Fatalf("send count -1: %d %q", code, apiErr.Error)
	}
	if code := apiCall(t, "POST", base+"/api/accounts/15556660001/send", `{"to":"19990000000","text":"x"}`, &apiErr); code != 409 || !strings.Contains(apiErr.Error, "no account") {
		t.Fatalf("send to nobody: %d %q", code, apiErr.Error)
	}
	if code := apiCall(t, "GET", base+"/api/accounts/19990000000/messages", "", &apiErr); code != 404 {
		t.Fatalf("messages of nobody: %d", code)
	}

	// Code pairing through the API: a wrong code is a 409 naming it, the right one pairs.
	tc := newTestClient(t, srv, "ben-web", nil)
	tc.connect()
	waitEvent[*events.QR](tc, 10*time.Second, nil)
	code, err := tc.cli.PairPhone(context.Background(), "15556660002", true, whatsmeow.PairClientFirefox, "Firefox (Linux)")
	if err != nil {
		t.Fatal(err)
	}
	wrong := "AAAA-AAAA"
	if code == wrong {
		wrong = "BBBB-BBBB"
	}
	if status := apiCall(t, "POST", base+"/api/accounts/15556660002/link-code", `{"code":"`+wrong+`"}`, &apiErr); status != 409 || !strings.Contains(apiErr.Error, "wrong pairing code") {
		t.Fatalf("wrong code: %d %q", status, apiErr.Error)
	}
	if code, err = tc.cli.PairPhone(context.Background(), "15556660002", true, whatsmeow.PairClientFirefox, "Firefox (Linux)"); err != nil {
		t.Fatal(err)
	}
	var paired struct{ Device string }
	if status := apiCall(t, "POST", base+"/api/accounts/15556660002/link-code", `{"code":"`+code+`"}`, &paired); status != 200 {
		t.Fatalf("right code: %d", status)
	}
	waitEvent[*events.Connected](tc, 15*time.Second, nil)
	if paired.Device != tc.cli.Store.ID.String() {
		t.Fatalf("API paired %s, client is %s", paired.Device, tc.cli.Store.ID)
	}
}
