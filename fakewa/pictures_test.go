//go:build !js

package fakewa_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

// fakeJPEG starts like a JPEG file (the service checks the format).
func fakeJPEG(tag string) []byte {
	return append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte("fakewa picture "+tag)...)
}

func fetchPicture(t *testing.T, srv *fakewa.Server, url string) []byte {
	t.Helper()
	resp, err := srv.HTTPClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return body
}

// Profile and group pictures: a phone's picture and a group photo set by a
// companion are answered with a URL that serves the JPEG, an unchanged id with
// 304 (nil info), a removed or never set one with 404; members hear of a
// group photo as events.Picture; a file that is no JPEG is refused.
func TestPictures(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := newMember(t, srv, "15552220101", "Alice")
	bob := newMember(t, srv, "15552220102", "Bob")

	if _, err := alice.tc.cli.GetProfilePictureInfo(ctx10(t), bob.jid(), nil); !errors.Is(err, whatsmeow.ErrProfilePictureNotSet) {
		t.Fatalf("no picture yet: %v", err)
	}
	id, err := srv.SetProfilePicture(bob.acct.Phone, fakeJPEG("bob"))
	if err != nil {
		t.Fatal(err)
	}
	pic, err := alice.tc.cli.GetProfilePictureInfo(ctx10(t), bob.jid(), nil)
	if err != nil || pic.ID != id || pic.URL == "" || pic.DirectPath == "" {
		t.Fatalf("bob's picture %+v, %v", pic, err)
	}
	if got := fetchPicture(t, srv, pic.URL); !bytes.Equal(got, fakeJPEG("bob")) {
		t.Fatalf("served %q", got)
	}
	if same, err := alice.tc.cli.GetProfilePictureInfo(ctx10(t), bob.jid(), &whatsmeow.GetProfilePictureParams{ExistingID: id}); same != nil || err != nil {
		t.Fatalf("unchanged picture: %+v, %v", same, err)
	}
	// Bob's own companion hears of his phone's new picture.
	e := waitEvent[*events.Picture](bob.tc, 10*time.Second, nil)
	if e.PictureID != id || !sameUser(e.JID, bob.acct) {
		t.Fatalf("picture event %+v", e)
	}

	info, err := alice.tc.cli.CreateGroup(ctx10(t), whatsmeow.ReqCreateGroup{Name: "Pictured", Participants: []types.JID{bob.jid()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = alice.tc.cli.SetGroupPhoto(ctx10(t), info.JID, []byte("GIF89a")); !errors.Is(err, whatsmeow.ErrInvalidImageFormat) {
		t.Fatalf("a GIF as group photo: %v", err)
	}
	gid, err := alice.tc.cli.SetGroupPhoto(ctx10(t), info.JID, fakeJPEG("group"))
	if err != nil {
		t.Fatal(err)
	}
	e = waitEvent[*events.Picture](bob.tc, 10*time.Second, func(e *events.Picture) bool { return e.JID == info.JID })
	if e.PictureID != gid || !sameUser(e.Author, alice.acct) || e.Remove {
		t.Fatalf("group picture event %+v", e)
	}
	gpic, err := bob.tc.cli.GetProfilePictureInfo(ctx10(t), info.JID, &whatsmeow.GetProfilePictureParams{Preview: true})
	if err != nil || gpic.ID != gid || gpic.Type != "preview" || !bytes.Equal(fetchPicture(t, srv, gpic.URL), fakeJPEG("group")) {
		t.Fatalf("group picture %+v, %v", gpic, err)
	}
	if _, err = alice.tc.cli.SetGroupPhoto(ctx10(t), info.JID, nil); err != nil {
		t.Fatal(err)
	}
	waitEvent[*events.Picture](bob.tc, 10*time.Second, func(e *events.Picture) bool { return e.JID == info.JID && e.Remove })
	if _, err = bob.tc.cli.GetProfilePictureInfo(ctx10(t), info.JID, nil); !errors.Is(err, whatsmeow.ErrProfilePictureNotSet) {
		t.Fatalf("removed group picture: %v", err)
	}
	outsider := newMember(t, srv, "15552220103", "Carol")
	if _, err = outsider.tc.cli.GetProfilePictureInfo(ctx10(t), info.JID, nil); !errors.Is(err, whatsmeow.ErrProfilePictureUnauthorized) {
		t.Fatalf("a non-member asking for the group picture: %v", err)
	}
}
