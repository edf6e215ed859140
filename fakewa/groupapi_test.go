//go:build !js

package fakewa_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

// The groups part of the control API: a phone creates a group, lists it,
// changes participants, sends to it; bad requests get coded errors.
func TestGroupControlAPI(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	base := "http" + strings.TrimSuffix(strings.TrimPrefix(srv.WebsocketURL(), "ws"), "/ws/chat")
	bob := mustAccount(t, srv, "15552220062", "Bob")
	carol := mustAccount(t, srv, "15552220063", "Carol")
	alice := newMember(t, srv, "15552220061", "Alice")

	var g fakewa.GroupInfo
	if code := apiCall(t, "POST", base+"/api/accounts/"+bob.Phone+"/groups", `{"subject": "By API", "participants": ["`+alice.acct.Phone+`"]}`, &g); code != 200 {
		t.Fatalf("create: %d", code)
	}
	if g.Subject != "By API" || g.AddressingMode != "lid" || len(g.Participants) != 2 || g.Participants[0].Admin != "superadmin" || g.Participants[0].LID != bob.LID {
		t.Fatalf("created %+v", g)
	}
	groupJID, _ := types.ParseJID(g.JID)
	waitEvent[*events.JoinedGroup](alice.tc, 10*time.Second, func(e *events.JoinedGroup) bool { return e.JID == groupJID })

	var results []fakewa.ParticipantResult
	if code := apiCall(t, "POST", base+"/api/accounts/"+bob.Phone+"/groups/"+g.JID+"/participants", `{"action": "add", "participants": ["`+carol.JID+`", "`+alice.acct.Phone+`"]}`, &results); code != 200 {
		t.Fatalf("add: %d", code)
	}
	if len(results) != 2 || results[0].Error != 0 || results[1].Error != 409 {
		t.Fatalf("add results %+v", results)
	}
	var list []fakewa.GroupInfo
	if code := apiCall(t, "GET", base+"/api/accounts/"+carol.Phone+"/groups", "", &list); code != 200 || len(list) != 1 || len(list[0].Participants) != 3 {
		t.Fatalf("carol's groups: %d %+v", code, list)
	}
	var sent struct{ ID string }
	if code := apiCall(t, "POST", base+"/api/accounts/"+carol.Phone+"/send", `{"to": "`+g.JID+`", "text": "carol's phone by API"}`, &sent); code != 200 || sent.ID == "" {
		t.Fatalf("send to group: %d", code)
	}
	waitGroupText(t, alice, groupJID, member{acct: carol}, "carol's phone by API")

	var pic struct{ ID string }
	jpeg := base64.StdEncoding.EncodeToString(fakeJPEG("carol"))
	if code := apiCall(t, "POST", base+"/api/accounts/"+carol.Phone+"/picture", `{"data": "`+jpeg+`"}`, &pic); code != 200 || pic.ID == "" {
		t.Fatalf("picture: %d %+v", code, pic)
	}
	info, err := alice.tc.cli.GetProfilePictureInfo(ctx10(t), types.NewJID(carol.Phone, types.DefaultUserServer), nil)
	if err != nil || info.ID != pic.ID {
		t.Fatalf("carol's picture as alice sees it: %+v, %v", info, err)
	}

	var apiErr struct{ Error string }
	for _, c := range []struct {
		path, body string
		code       int
	}{
		{"/api/accounts/" + carol.Phone + "/groups/" + g.JID + "/participants", `{"action": "remove", "participants": ["` + bob.Phone + `"]}`, 401},
		{"/api/accounts/" + bob.Phone + "/groups/" + g.JID + "/participants", `{"action": "kick", "participants": []}`, 400},
		{"/api/accounts/" + bob.Phone + "/groups/120363000000000000@g.us/participants", `{"action": "add", "participants": []}`, 404},
		{"/api/accounts/" + bob.Phone + "/groups", `{"subject": "", "participants": []}`, 400},
		{"/api/accounts/" + bob.Phone + "/groups", `{"subject": "` + strings.Repeat("x", 101) + `"}`, 406},
		{"/api/accounts/" + bob.Phone + "/picture", `{"data": "R0lGODlh"}`, 406},
	} {
		if code := apiCall(t, "POST", base+c.path, c.body, &apiErr); code != c.code || apiErr.Error == "" {
			t.Fatalf("POST %s %s: %d %q, want %d", c.path, c.body, code, apiErr.Error, c.code)
		}
	}
}
