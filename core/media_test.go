//go:build !js

package core

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/fakewa"
)

// TestHistoryContactsAndPushNamesAfterPairing: the phone's earlier
// conversations arrive as history_sync (messages as message events give
// them), the address book from the app-state snapshot and the peers' push
// names as contacts.update, the own push name as creds.update; all of it
// over HTTP through the media proxy derived from socketURL (fakewa's /media/).
func TestHistoryContactsAndPushNamesAfterPairing(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Hanna"), newAccount(t, "Ivo")
	if _, err := srv.SendText(peer, me, "earlier, from Ivo"); err != nil {
		t.Fatal(err)
	}
	sentTo(t, me, "earlier, from Ivo")
	if _, err := srv.SendText(me, peer, "earlier, from Hanna"); err != nil {
		t.Fatal(err)
	}
	sentTo(t, peer, "earlier, from Hanna")
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)

	hist := waitFor(t, c.rec, 0, 20*time.Second, func(h HistorySync) bool { return h.SyncType == "initial_bootstrap" })
	var texts []string
	for _, conv := range hist.Conversations {
		for _, m := range conv.Messages {
			if m.Text != "" {
				texts = append(texts, m.Text)
			}
			if m.ID == "" || m.Time == 0 || m.Chat == "" {
				t.Errorf("history message without id, time or chat: %+v", m)
			}
		}
	}
	if strings.Join(texts, "|") != "earlier, from Ivo|earlier, from Hanna" {
		t.Fatalf("history_sync texts %q, want the two earlier ones in order; event %+v", texts, hist)
	}
	if hist.Progress == 0 {
		t.Errorf("history_sync without progress: %+v", hist)
	}
	push := waitFor(t, c.rec, 0, 20*time.Second, func(u ContactsUpdate) bool {
		return len(u.Contacts) > 0 && strings.HasPrefix(u.Contacts[0].JID, peer) && u.Contacts[0].PushName != nil
	})
	if *push.Contacts[0].PushName != "Ivo" {
		t.Fatalf("push name %+v, want Ivo", push)
	}
	book := waitFor(t, c.rec, 0, 20*time.Second, func(u ContactsUpdate) bool {
		return len(u.Contacts) > 0 && u.Contacts[0].FullName != nil
	})
	if *book.Contacts[0].FullName == "" || book.Contacts[0].JID == "" {
		t.Fatalf("address-book contact %+v", book)
	}
	waitFor(t, c.rec, 0, 20*time.Second, func(u CredsUpdate) bool { return u.Creds.PushName == "Hanna" })
	for _, e := range c.rec.snapshot() {
		if ev, ok := e.(ErrorEvent); ok {
			t.Errorf("error event: %v", ev.Err)
		}
	}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMediaBothWays: a phone's image arrives with its media descriptor and
// downloads to the same bytes; a document the client sends is decrypted by
// the phone to the same bytes.
func TestMediaBothWays(t *testing.T) {
	t.Parallel()
	me, peer := newAccount(t, "Jon"), newAccount(t, "Kim")
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	from := c.rec.count()
	img := randomBytes(t, 70_000)
	id, _, err := srv.SendMedia(peer, me, fakewa.MediaSpec{Type: "image", Data: img, Mimetype: "image/png", Caption: "a picture", Width: 640, Height: 480})
	if err != nil {
		t.Fatal(err)
	}
	msg := waitFor(t, c.rec, from, 20*time.Second, func(m Message) bool { return m.ID == id })
	md := msg.Media
	if md == nil || md.Type != "image" || md.Mimetype != "image/png" || md.Caption != "a picture" || md.Width != 640 || md.Height != 480 || md.Size != uint64(len(img)) {
		t.Fatalf("media descriptor %+v", md)
	}
	got, err := c.DownloadMedia(ctxT(t), md)
	if err != nil {
		t.Fatalf("downloadMedia: %v", err)
	}
	if !bytes.Equal(got, img) {
		t.Fatalf("downloaded %d bytes that differ from the %d sent", len(got), len(img))
	}
	tampered := *md
	tampered.FileSHA256 = bytes.Repeat([]byte{1}, 32)
	if _, err := c.DownloadMedia(ctxT(t), &tampered); CodeOf(err) != CodeMedia {
		t.Fatalf("a download with a wrong plaintext hash gave %v, want %s", err, CodeMedia)
	}

	doc := randomBytes(t, 12_345)
	content, _ := json.Marshal(map[string]any{"document": doc, "mimetype": "application/pdf", "fileName": "report.pdf", "caption": "the report"})
	key, err := c.SendMessage(ctxT(t), peer, content)
	if err != nil {
		t.Fatalf("sendMessage(document): %v", err)
	}
	rm := phoneReceived(t, peer, key.ID, func(m fakewa.ReceivedMessage) bool { return m.ID == key.ID && m.Media != nil }).Media
	if rm.Error != "" || !bytes.Equal(rm.Data, doc) || rm.Type != "document" || rm.FileName != "report.pdf" || rm.Mimetype != "application/pdf" || rm.Caption != "the report" {
		t.Fatalf("the phone got %+v (data equal: %v)", rm, bytes.Equal(rm.Data, doc))
	}
	for _, bad := range []string{`{"image":"not base64!"}`, `{"image":"AAAA","width":-1}`, `{"sticker":"AAAA","caption":"x"}`, `{"image":"AAAA","quoted":"x"}`, `{"audio":""}`} {
		if _, err := c.SendMessage(ctxT(t), peer, []byte(bad)); CodeOf(err) != CodeInvalidOption {
			t.Errorf("sendMessage(%s) gave %v, want invalid_option", bad, err)
		}
	}
}

// failBlobs makes every blob of an mms type fail until the test ends. It is
// server-wide: tests using it do not run in parallel.
func failBlobs(t *testing.T, mmsType, mode string) {
	if err := srv.FailBlob("", mmsType, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.FailBlob("", mmsType, "") })
}

// TestFailedHistoryBlobGivesSyncFailed (not parallel: blob faults are
// server-wide).
func TestFailedHistoryBlobGivesSyncFailed(t *testing.T) {
	me := newAccount(t, "Lea")
	failBlobs(t, "md-msg-hist", "404")
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	ev := waitFor(t, c.rec, 0, 20*time.Second, func(e ErrorEvent) bool { return CodeOf(e.Err) == CodeSyncFailed })
	msg := ev.Err.Error()
	if !strings.Contains(msg, "history sync") || !strings.Contains(msg, "404") || !strings.Contains(msg, "not retried") {
		t.Fatalf("sync_failed says %q; want what was lost (history sync), why (404) and that it is not retried", msg)
	}
}

// TestAppStateSyncRetried: while the media host fails the app-state blobs
// the address book does not come (and a failure that a retry may heal is no
// error event); once it serves them again, a retry brings it (not
// parallel: blob faults are server-wide).
func TestAppStateSyncRetried(t *testing.T) {
	me := newAccount(t, "Max")
	failBlobs(t, "md-app-state", "500")
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	time.Sleep(time.Second) // whatsmeow's own sync and our first pass fail meanwhile
	for _, e := range c.rec.snapshot() {
		if u, ok := e.(ContactsUpdate); ok && len(u.Contacts) > 0 && u.Contacts[0].FullName != nil {
			t.Fatalf("contacts arrived while the snapshot failed: %+v", u)
		}
	}
	if err := srv.FailBlob("", "md-app-state", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c.rec, 0, 30*time.Second, func(u ContactsUpdate) bool { return len(u.Contacts) > 0 && u.Contacts[0].FullName != nil })
	waitFor(t, c.rec, 0, 30*time.Second, func(u CredsUpdate) bool { return u.Creds.PushName == "Max" })
	for _, e := range c.rec.snapshot() {
		if ev, ok := e.(ErrorEvent); ok {
			t.Errorf("error event for a failure a retry healed: %v", ev.Err)
		}
	}
}

// TestAppStateLostGivesSyncFailed: a collection that fails every attempt
// is an error event naming it, how it failed and that the client gave up
// (not parallel: blob faults are server-wide, and the backoff is shortened).
func TestAppStateLostGivesSyncFailed(t *testing.T) {
	saved := syncBackoff
	syncBackoff = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
	t.Cleanup(func() { syncBackoff = saved })
	me := newAccount(t, "Nils")
	failBlobs(t, "md-app-state", "500")
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	ev := waitFor(t, c.rec, 0, 30*time.Second, func(e ErrorEvent) bool { return CodeOf(e.Err) == CodeSyncFailed })
	msg := ev.Err.Error()
	if !strings.Contains(msg, "app state critical_block (your push name and settings)") || !strings.Contains(msg, "500") || !strings.Contains(msg, "gave up after 3 attempts") {
		t.Fatalf("sync_failed says %q; want the collection, the 500 and that it gave up", msg)
	}
}

// TestMediaProxyURL: the default follows socketURL as docs/RELAY.md says;
// an explicit URL is checked.
func TestMediaProxyURL(t *testing.T) {
	for _, tc := range []struct{ socket, proxy, want string }{
		{"ws://127.0.0.1:8090/ws/chat", "", "http://127.0.0.1:8090/media/"},
		{"wss://relay.example/ws/chat", "", "https://relay.example/media/"},
		{"wss://relay.example/other", "", ""},
		{"", "", ""},
		{"wss://relay.example/ws/chat", MediaProxyDirect, ""},
		{"", "https://media.example/m/", "https://media.example/m/"},
	} {
		if got := (Page{SocketURL: tc.socket, MediaProxyURL: tc.proxy}).mediaProxyBase(); got != tc.want {
			t.Errorf("socketURL %q, mediaProxyURL %q: %q, want %q", tc.socket, tc.proxy, got, tc.want)
		}
	}
	for _, bad := range []string{"ftp://x/", "https://", "/media/", "https://x/media/?a=b", "https://u:p@x/"} {
		if err := (Page{MediaProxyURL: bad}).Validate(); CodeOf(err) != CodeInvalidOption {
			t.Errorf("mediaProxyURL %q: %v, want invalid_option", bad, err)
		}
	}
}

// TestChatsUpdateFromAppState: a chat the phone muted before pairing comes
// with the full sync, one it pins and archives afterwards with the patches.
func TestChatsUpdateFromAppState(t *testing.T) {
	t.Parallel()
	me, peer, other := newAccount(t, "Quinn"), newAccount(t, "Rita"), newAccount(t, "Sam")
	yes := true
	if err := srv.SetChatState(me, peer, fakewa.ChatState{Muted: &yes}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{}, nil, nil)
	pairQR(t, c, me)
	muted := waitFor(t, c.rec, 0, 20*time.Second, func(u ChatsUpdate) bool {
		return len(u.Chats) == 1 && strings.HasPrefix(u.Chats[0].JID, peer) && u.Chats[0].Muted != nil
	})
	if ch := muted.Chats[0]; !*ch.Muted || ch.MuteEnd == nil || *ch.MuteEnd != -1 {
		t.Fatalf("muted for ever: %+v", ch)
	}
	from := c.rec.count()
	if err := srv.SetChatState(me, other, fakewa.ChatState{Pinned: &yes}); err != nil {
		t.Fatal(err)
	}
	pinned := waitFor(t, c.rec, from, 20*time.Second, func(u ChatsUpdate) bool {
		return len(u.Chats) == 1 && strings.HasPrefix(u.Chats[0].JID, other) && u.Chats[0].Pinned != nil
	})
	if !*pinned.Chats[0].Pinned {
		t.Fatalf("pinned: %+v", pinned.Chats[0])
	}
	if err := srv.SetChatState(me, other, fakewa.ChatState{Archived: &yes}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c.rec, from, 20*time.Second, func(u ChatsUpdate) bool {
		return len(u.Chats) == 1 && strings.HasPrefix(u.Chats[0].JID, other) && u.Chats[0].Archived != nil && *u.Chats[0].Archived
	})
}
