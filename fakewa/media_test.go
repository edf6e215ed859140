//go:build !js

package fakewa_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

// mediaPair is a whatsmeow companion of alice (media requests sent to the
// double like its websocket) and bob, whose phone sends and receives media.
func mediaPair(t *testing.T, cfg fakewa.Config) (*fakewa.Server, *testClient, fakewa.AccountInfo, fakewa.AccountInfo) {
	t.Helper()
	srv := newServer(t, cfg)
	alice := mustAccount(t, srv, "15552220001", "Alice")
	bob := mustAccount(t, srv, "15552220002", "Bob")
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)
	return srv, a1, alice, bob
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func waitImage(tc *testClient) *events.Message {
	tc.t.Helper()
	return waitEvent[*events.Message](tc, 10*time.Second, func(m *events.Message) bool { return m.Message.GetImageMessage() != nil })
}

// A phone's image reaches an unmodified whatsmeow, whose Download (media_conn,
// GET of the direct path, hash and MAC checks, decryption) gives the bytes.
func TestPhoneImageDownloadsInWhatsmeow(t *testing.T) {
	srv, a1, alice, bob := mediaPair(t, fakewa.Config{})
	photo := randomBytes(t, 70000)
	_, direct, err := srv.SendMedia(bob.Phone, alice.Phone, fakewa.MediaSpec{
		Type: "image", Data: photo, Mimetype: "image/jpeg", Caption: "the view", Width: 640, Height: 480,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(direct, "/v/t62.7118-24/") || !strings.Contains(direct, "&oe=") {
		t.Errorf("direct path %q lacks the CDN shape", direct)
	}
	evt := waitImage(a1)
	img := evt.Message.GetImageMessage()
	if img.GetCaption() != "the view" || img.GetWidth() != 640 || img.GetHeight() != 480 || img.GetFileLength() != uint64(len(photo)) {
		t.Errorf("image fields: caption %q %dx%d length %d", img.GetCaption(), img.GetWidth(), img.GetHeight(), img.GetFileLength())
	}
	got, err := a1.cli.Download(context.Background(), img)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	if !bytes.Equal(got, photo) {
		t.Fatalf("downloaded %d bytes, not the %d the phone sent", len(got), len(photo))
	}
}

// whatsmeow's Upload (POST with auth and token) and a DocumentMessage, then
// an ImageMessage: the receiving phone downloads, checks and reports the
// same bytes and fields.
func TestWhatsmeowUploadReachesPhone(t *testing.T) {
	srv, a1, _, bob := mediaPair(t, fakewa.Config{})
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	doc := randomBytes(t, 5000)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	up, err := a1.cli.Upload(ctx, doc, whatsmeow.MediaDocument)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !strings.HasPrefix(up.DirectPath, "/v/t62.7119-24/") || !strings.HasPrefix(up.URL, "https://mmg.whatsapp.net/v/") {
		t.Errorf("upload answered url %q direct_path %q", up.URL, up.DirectPath)
	}
	_, err = a1.cli.SendMessage(ctx, bobJID, &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
		URL: &up.URL, DirectPath: &up.DirectPath, MediaKey: up.MediaKey, FileEncSHA256: up.FileEncSHA256,
		FileSHA256: up.FileSHA256, FileLength: &up.FileLength, Mimetype: proto.String("application/pdf"),
		FileName: proto.String("report.pdf"), Caption: proto.String("numbers"),
	}})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	m := waitPhoneMedia(t, srv, bob.Phone, "document")
	if m.Error != "" || !bytes.Equal(m.Data, doc) {
		t.Fatalf("phone reports %+v (error %q), %d bytes", m.Type, m.Error, len(m.Data))
	}
	if m.FileName != "report.pdf" || m.Caption != "numbers" || m.Mimetype != "application/pdf" || m.Size != 5000 {
		t.Errorf("phone reports %s %q %q %q size %d", m.Type, m.FileName, m.Caption, m.Mimetype, m.Size)
	}

	photo := randomBytes(t, 30000)
	up, err = a1.cli.Upload(ctx, photo, whatsmeow.MediaImage)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	_, err = a1.cli.SendMessage(ctx, bobJID, &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
		URL: &up.URL, DirectPath: &up.DirectPath, MediaKey: up.MediaKey, FileEncSHA256: up.FileEncSHA256,
		FileSHA256: up.FileSHA256, FileLength: &up.FileLength, Mimetype: proto.String("image/jpeg"),
		Caption: proto.String("sunset"), Width: proto.Uint32(800), Height: proto.Uint32(600),
	}})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	m = waitPhoneMedia(t, srv, bob.Phone, "image")
	if m.Error != "" || !bytes.Equal(m.Data, photo) || m.Caption != "sunset" || m.Width != 800 || m.Height != 600 {
		t.Errorf("phone reports image %q %dx%d, %d bytes (error %q)", m.Caption, m.Width, m.Height, len(m.Data), m.Error)
	}
}

func waitPhoneMedia(t *testing.T, srv *fakewa.Server, phone, typ string) *fakewa.ReceivedMedia {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		msgs, err := srv.Messages(phone)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Media != nil && m.Media.Type == typ {
				return m.Media
			}
		}
	}
	t.Fatalf("phone %s received no %s", phone, typ)
	return nil
}

// Uploads need the auth of a media_conn answer and a body that matches its
// token; anything else is refused.
func TestUploadRefusesBadAuthAndToken(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	hc := srv.HTTPClient()
	post := func(path string) int {
		resp, err := hc.Post("https://mmg.whatsapp.net"+path, "application/octet-stream", strings.NewReader("not the hashed body"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const token = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU="
	if code := post("/mms/image/" + token + "?auth=made-up&token=" + token); code != http.StatusUnauthorized {
		t.Errorf("made-up auth: status %d, want 401", code)
	}
	if code := post("/v/t62.7118-24/1_2_3_n.enc?ccb=11-4"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST to a download path: status %d, want 405", code)
	}
	resp, err := hc.Get("https://mmg.whatsapp.net/v/t62.7118-24/1_2_3_n.enc?ccb=11-4&oh=x&oe=FFFFFFFF")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown blob: status %d, want 404", resp.StatusCode)
	}
}

// The control API's upload auth is as good as a media_conn one: an upload
// with it is stored.
func TestControlAPIUploadAuth(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	hc := srv.HTTPClient()
	resp, err := hc.Post("http://fakewa/api/media/auth", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Auth, Host string }
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || got.Auth == "" || got.Host != fakewa.DefaultMediaHosts[0] {
		t.Fatalf("POST /api/media/auth: %+v %v", got, err)
	}
	body := []byte("an encrypted blob")
	sum := sha256.Sum256(body)
	token := base64.URLEncoding.EncodeToString(sum[:])
	resp, err = hc.Post("https://"+got.Host+"/mms/document/"+token+"?auth="+url.QueryEscape(got.Auth)+"&token="+url.QueryEscape(token),
		"application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(srv.Blobs()) != 1 || srv.Blobs()[0].Size != len(body) {
		t.Errorf("upload with the control API's auth: status %d, blobs %+v", resp.StatusCode, srv.Blobs())
	}
}

// CORS headers (and the preflight) follow the MediaCORS switch.
func TestMediaCORSSwitch(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	mustAccount(t, srv, "15552220003", "Carol")
	mustAccount(t, srv, "15552220004", "Dave")
	_, direct, err := srv.SendMedia("15552220003", "15552220004", fakewa.MediaSpec{Type: "image", Data: []byte("png"), Mimetype: "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	hc := srv.HTTPClient()
	check := func(method string, wantCORS bool, wantStatus int) {
		t.Helper()
		req, _ := http.NewRequest(method, "https://mmg.whatsapp.net"+direct+"&mms-type=image&__wa-mms=", nil)
		req.Header.Set("Origin", "http://localhost:5173")
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if (got == "http://localhost:5173") != wantCORS || resp.StatusCode != wantStatus {
			t.Errorf("%s with mediaCORS=%v: status %d, Access-Control-Allow-Origin %q", method, wantCORS, resp.StatusCode, got)
		}
	}
	check(http.MethodGet, false, http.StatusOK)
	check(http.MethodOptions, false, http.StatusForbidden)
	if _, err = srv.UpdateSettings(fakewa.SettingsUpdate{MediaCORS: proto.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	check(http.MethodGet, true, http.StatusOK)
	check(http.MethodOptions, true, http.StatusNoContent)
}

// A blob made to fail gives whatsmeow's Download an error: 404 at once, and
// corrupt bytes fail the file_enc_sha256 check.
func TestFailedBlobFailsDownload(t *testing.T) {
	srv, a1, alice, bob := mediaPair(t, fakewa.Config{})
	ctx := context.Background()
	for _, c := range []struct {
		mode string
		want error
	}{{"404", whatsmeow.ErrMediaDownloadFailedWith404}, {"corrupt", whatsmeow.ErrInvalidMediaEncSHA256}} {
		_, direct, err := srv.SendMedia(bob.Phone, alice.Phone, fakewa.MediaSpec{Type: "image", Data: randomBytes(t, 1000), Mimetype: "image/jpeg"})
		if err != nil {
			t.Fatal(err)
		}
		img := waitImage(a1).Message.GetImageMessage()
		if err = srv.FailBlob(direct, "", c.mode); err != nil {
			t.Fatal(err)
		}
		if _, err = a1.cli.Download(ctx, img); !errors.Is(err, c.want) {
			t.Errorf("mode %s: Download error %v, want %v", c.mode, err, c.want)
		}
		if err = srv.FailBlob(direct, "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err = a1.cli.Download(ctx, img); err != nil {
			t.Errorf("healed after %s: Download error %v", c.mode, err)
		}
	}
}

// media_conn announces the configured hosts with a live auth; an upload with
// that auth is still refused when its body is empty or does not match its
// token, or its type is unknown.
func TestMediaConnAndUploadChecks(t *testing.T) {
	hosts := []string{"media.example.test", "media-fallback.example.test"}
	srv, a1, _, _ := mediaPair(t, fakewa.Config{MediaHosts: hosts})
	ctx := context.Background()
	mc, err := a1.cli.DangerousInternals().QueryMediaConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(mc.Hosts) != 2 || mc.Hosts[0].Hostname != hosts[0] || mc.Hosts[1].Hostname != hosts[1] || mc.Auth == "" || mc.TTL <= 0 || mc.AuthTTL <= 0 {
		t.Fatalf("media_conn: %+v", mc)
	}
	hc := srv.HTTPClient()
	upload := func(typ, token, body string) int {
		t.Helper()
		url := "https://" + hosts[0] + "/mms/" + typ + "/" + token + "?auth=" + mc.Auth + "&token=" + token
		resp, err := hc.Post(url, "application/octet-stream", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const emptyToken = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=" // SHA-256 of nothing
	fineSum := sha256.Sum256([]byte("fine"))
	fineToken := base64.URLEncoding.EncodeToString(fineSum[:])
	for _, c := range []struct {
		typ, token, body string
		want             int
	}{
		{"image", emptyToken, "", http.StatusBadRequest},
		{"image", emptyToken, "not nothing", http.StatusBadRequest},
		{"hologram", emptyToken, "", http.StatusBadRequest},
		// Baileys 7 sends the token without its padding; the service takes both.
		{"image", strings.TrimRight(fineToken, "="), "fine", http.StatusOK},
		{"image", fineToken, "fine", http.StatusOK},
		{"image", strings.TrimRight(fineToken, "=") + "A", "fine", http.StatusBadRequest},
	} {
		if got := upload(c.typ, c.token, c.body); got != c.want {
			t.Errorf("upload %s %q: status %d, want %d", c.typ, c.body, got, c.want)
		}
	}
	up, err := a1.cli.Upload(ctx, []byte("fine"), whatsmeow.MediaImage)
	if err != nil || !strings.HasPrefix(up.URL, "https://"+hosts[0]+"/v/") {
		t.Errorf("Upload with configured hosts: %+v, %v", up, err)
	}
}

// Video, audio, document and sticker from a phone: each arrives with its
// fields and downloads in whatsmeow.
func TestPhoneMediaTypesDownload(t *testing.T) {
	srv, a1, alice, bob := mediaPair(t, fakewa.Config{})
	ctx := context.Background()
	for _, spec := range []fakewa.MediaSpec{
		{Type: "video", Mimetype: "video/mp4", Caption: "clip", Width: 1280, Height: 720, Seconds: 12},
		{Type: "audio", Mimetype: "audio/ogg; codecs=opus", Seconds: 7, PTT: true},
		{Type: "document", Mimetype: "application/pdf", FileName: "minutes.pdf", Caption: "for monday"},
		{Type: "sticker", Mimetype: "image/webp", Width: 512, Height: 512},
	} {
		spec.Data = randomBytes(t, 2000)
		if _, _, err := srv.SendMedia(bob.Phone, alice.Phone, spec); err != nil {
			t.Fatalf("%s: %v", spec.Type, err)
		}
		evt := waitEvent[*events.Message](a1, 10*time.Second, func(m *events.Message) bool {
			msg := m.Message
			return msg.GetVideoMessage() != nil || msg.GetAudioMessage() != nil || msg.GetDocumentMessage() != nil || msg.GetStickerMessage() != nil
		})
		var dl whatsmeow.DownloadableMessage
		var ok bool
		switch m := evt.Message; spec.Type {
		case "video":
			v := m.GetVideoMessage()
			dl, ok = v, v.GetCaption() == "clip" && v.GetSeconds() == 12 && v.GetWidth() == 1280
		case "audio":
			a := m.GetAudioMessage()
			dl, ok = a, a.GetPTT() && a.GetSeconds() == 7
		case "document":
			d := m.GetDocumentMessage()
			dl, ok = d, d.GetFileName() == "minutes.pdf" && d.GetCaption() == "for monday"
		case "sticker":
			s := m.GetStickerMessage()
			dl, ok = s, s.GetWidth() == 512 && s.GetMimetype() == "image/webp"
		}
		if !ok { // the fields checked are set only on a message of the type
			t.Fatalf("%s arrived as %v", spec.Type, evt.Message)
		}
		got, err := a1.cli.Download(ctx, dl)
		if err != nil || !bytes.Equal(got, spec.Data) {
			t.Errorf("%s: Download %d bytes, %v", spec.Type, len(got), err)
		}
	}
}
