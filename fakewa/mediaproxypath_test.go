//go:build !js

package fakewa_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wasmeow/wasmeow/fakewa"
)

// fakewa answers the relay's media proxy shape on its own listener:
// /media/<host>/<direct path> serves the blob of https://<host><direct path>
// (query kept as sent), CORS following the mediaCORS switch; hosts it does
// not announce are refused.
func TestMediaProxyPathOnOwnListener(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	base := "http" + strings.TrimSuffix(strings.TrimPrefix(srv.WebsocketURL(), "ws"), "/ws/chat")
	mustAccount(t, srv, "15552220013", "Carol")
	mustAccount(t, srv, "15552220014", "Dave")
	_, direct, err := srv.SendMedia("15552220013", "15552220014", fakewa.MediaSpec{Type: "image", Data: []byte("png bytes"), Mimetype: "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := io.ReadAll(mustGet(t, "https://mmg.whatsapp.net"+direct, srv.HTTPClient(), "").Body)
	if err != nil || len(stored) == 0 {
		t.Fatalf("the blob itself: %d bytes, %v", len(stored), err)
	}
	get := func(host string) *http.Response {
		return mustGet(t, base+"/media/"+host+direct+"&hash=a%2Bb%3D&mms-type=image&__wa-mms=", http.DefaultClient, "http://localhost:5173")
	}
	resp := get("mmg.whatsapp.net")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, stored) || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("via /media/ without mediaCORS: status %d, %d bytes (want the %d stored), CORS %q", resp.StatusCode, len(body), len(stored), resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if resp := get("evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a host fakewa does not announce: status %d, want 403", resp.StatusCode)
	}
	if _, err = srv.UpdateSettings(fakewa.SettingsUpdate{MediaCORS: proto.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if got := get("MMG-FNA.whatsapp.net").Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:5173" {
		t.Fatalf("with mediaCORS: Access-Control-Allow-Origin %q", got)
	}
}

func mustGet(t *testing.T, url string, hc *http.Client, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
