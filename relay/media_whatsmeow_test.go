package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/fakewa"
)

// pageOrigin is the origin of the page the media client pretends to be.
const pageOrigin = "http://localhost:5173"

// asPage is the HTTP client a page's whatsmeow would have: every URL
// rewritten to the relay's media proxy (MediaURL, as the wasm client's
// mediaProxyURL does), and the headers a browser sends instead of
// whatsmeow's (its own Origin, no Referer of web.whatsapp.com). It records
// the CORS answer of each response.
type asPage struct {
	base string
	mu   sync.Mutex
	acao []string
}

func (p *asPage) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	rewritten, err := out.URL.Parse(MediaURL(p.base, req.URL.String()))
	if err != nil {
		return nil, err
	}
	out.URL, out.Host = rewritten, ""
	out.Header.Set("Origin", pageOrigin)
	out.Header.Del("Referer")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err == nil {
		p.mu.Lock()
		p.acao = append(p.acao, resp.Header.Get("Access-Control-Allow-Origin"))
		p.mu.Unlock()
	}
	return resp, err
}

// headerRecorder is the relay's upstream transport: fakewa's, recording
// the Origin and Referer of each request.
type headerRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (h *headerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen = append(h.seen, req.Method+" "+req.URL.Host+" Origin="+req.Header.Get("Origin")+" Referer="+req.Header.Get("Referer"))
	h.mu.Unlock()
	return h.next.RoundTrip(req)
}

// An unmodified whatsmeow whose media HTTP goes through the relay as a
// page's would (rewritten URLs, the page's Origin): after pairing, its
// history-sync blobs arrive; a phone's image downloads and decrypts; its own
// upload downloads again; a blob the host fails gives whatsmeow the status
// it knows (410). Every request reached fakewa with WhatsApp's Origin and
// Referer, and every answer carried the page's CORS header.
func TestWhatsmeowMediaThroughRelay(t *testing.T) {
	fw, err := fakewa.New(fakewa.Config{Log: waLog.Noop})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fw.Close() })
	const alice, bob = "15550108801", "15550108802"
	for _, p := range []string{alice, bob} {
		if _, err := fw.CreateAccount(p, "Media "+p); err != nil {
			t.Fatal(err)
		}
	}

	upstream := fw.HTTPClient().Transport
	rec := &headerRecorder{next: upstream}
	rl, base := serveMedia(t, Config{MediaTransport: rec, AllowedOrigins: []string{"localhost:*"}})
	page := &asPage{base: base}

	fakewa.UseVersion(fakewa.CurrentVersion)
	oldKey := whatsmeow.WACertPubKey
	whatsmeow.WACertPubKey = fw.RootPublicKey()
	t.Cleanup(func() { whatsmeow.WACertPubKey = oldKey })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	container, err := sqlstore.New(ctx, "sqlite3",
		"file:"+filepath.Join(t.TempDir(), "media.db")+"?_foreign_keys=on&_busy_timeout=5000", waLog.Noop)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = container.Close() })
	dev, err := container.GetFirstDevice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cli := whatsmeow.NewClient(dev, waLog.Noop)
	cli.SetPreLoginHTTPClient(fw.HTTPClient())
	cli.SetWebsocketHTTPClient(fw.HTTPClient())
	cli.SetMediaHTTPClient(&http.Client{Transport: page})
	evts := make(chan any, 1000)
	cli.AddEventHandler(func(evt any) {
		select {
		case evts <- evt:
		default:
		}
	})
	t.Cleanup(cli.Disconnect)
	wait := func(what string, match func(any) bool) any {
		t.Helper()
		for {
			select {
			case e := <-evts:
				if match(e) {
					return e
				}
			case <-ctx.Done():
				t.Fatalf("no %s", what)
			}
		}
	}

	if err := cli.Connect(); err != nil {
		t.Fatal(err)
	}
	qr := wait("QR", func(e any) bool { _, ok := e.(*events.QR); return ok }).(*events.QR)
	if _, err := fw.ScanQR(ctx, alice, qr.Codes[0]); err != nil {
		t.Fatal(err)
	}
	// History sync is a blob downloaded through the relay.
	wait("history sync", func(e any) bool { _, ok := e.(*events.HistorySync); return ok })

	photo := make([]byte, 70000)
	_, _ = rand.Read(photo)
	_, direct, err := fw.SendMedia(bob, alice, fakewa.MediaSpec{Type: "image", Data: photo, Mimetype: "image/jpeg"})
	if err != nil {
		t.Fatal(err)
	}
	msg := wait("image message", func(e any) bool {
		m, ok := e.(*events.Message)
		return ok && m.Message.GetImageMessage() != nil
	}).(*events.Message)
	img := msg.Message.GetImageMessage()
	got, err := cli.Download(ctx, img)
	if err != nil || !bytes.Equal(got, photo) {
		t.Fatalf("Download through the relay: %d bytes, %v; want the %d the phone sent", len(got), err, len(photo))
	}

	doc := make([]byte, 20000)
	_, _ = rand.Read(doc)
	up, err := cli.Upload(ctx, doc, whatsmeow.MediaDocument)
	if err != nil {
		t.Fatalf("Upload through the relay: %v", err)
	}
	got, err = cli.DownloadMediaWithPath(ctx, up.DirectPath, up.FileEncSHA256, up.FileSHA256, up.MediaKey, len(doc), whatsmeow.MediaDocument, "")
	if err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("downloading the upload again: %d bytes, %v", len(got), err)
	}

	if err := fw.FailBlob(direct, "", "410"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Download(ctx, img); !errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith410) {
		t.Errorf("Download of a blob the host answers 410 for: %v; want ErrMediaDownloadFailedWith410", err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) < 4 {
		t.Errorf("fakewa got %d media requests through the relay: %q", len(rec.seen), rec.seen)
	}
	for _, s := range rec.seen {
		if !bytes.HasSuffix([]byte(s), []byte(" Origin="+WhatsAppOrigin+" Referer="+WhatsAppOrigin+"/")) {
			t.Errorf("upstream request %s; want WhatsApp's Origin and Referer", s)
		}
	}
	page.mu.Lock()
	defer page.mu.Unlock()
	for i, a := range page.acao {
		if a != pageOrigin {
			t.Errorf("answer %d had Access-Control-Allow-Origin %q, want %q", i, a, pageOrigin)
		}
	}
	st := rl.Stats()
	t.Logf("relay: %d media requests, %d bytes up, %d down; upstream saw %d", st.MediaRequests, st.MediaBytesUp, st.MediaBytesDown, len(rec.seen))
}
