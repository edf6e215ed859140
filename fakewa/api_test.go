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
	srv, err := fakewa.New(fakewa.Config{RootKey: &testRootKey, Log: newTestLogger(t, "fakewa", "INFO")})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

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
