//go:build !js

package fakewa

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/appstate"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waServerSync"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// A companion's patch made on a stale version gets 409 with the patches it
// lacks; made again on the current version, it is taken, and the phone's
// next patch builds on it (a client following every version verifies all).
func TestAppStateUploadConflict(t *testing.T) {
	s, err := New(Config{Log: waLog.Noop, Contacts: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err = s.CreateAccount("15554440010", "Zed"); err != nil {
		t.Fatal(err)
	}
	a := s.accounts["15554440010"]
	companion := &device{acct: a, ID: 1, JID: a.deviceJID(1), LID: a.deviceLID(1)}
	chat := types.NewJID("15554440011", types.DefaultUserServer)
	for _, muted := range []bool{true, false} { // regular_high v1, v2
		if err = s.SetChatState(a.Phone, chat.User, ChatState{Muted: proto.Bool(muted)}); err != nil {
			t.Fatal(err)
		}
	}

	// The companion: the phone's key, and regular_high as of v1.
	cs := newMemAppState()
	dev := &store.Device{Log: waLog.Noop, AppStateKeys: cs, AppState: cs}
	key, _ := a.phone.dev.AppStateKeys.GetAppStateSyncKey(context.Background(), a.phone.appKeyID)
	if err = cs.PutAppStateSyncKey(context.Background(), a.phone.appKeyID, *key); err != nil {
		t.Fatal(err)
	}
	proc := appstate.NewProcessor(dev, waLog.Noop)
	follow := func(state appstate.HashState, coll waBinary.Node, upTo uint64) appstate.HashState {
		t.Helper()
		list, err := appstate.ParsePatchList(context.Background(), &coll, nil)
		if err != nil {
			t.Fatal(err)
		}
		var keep []*waServerSync.SyncdPatch
		for _, p := range list.Patches {
			if p.GetVersion().GetVersion() <= upTo {
				keep = append(keep, p)
			}
		}
		list.Patches = keep
		_, state, err = proc.DecodePatches(context.Background(), list, state, true)
		if err != nil {
			t.Fatalf("decoding up to v%d: %v", upTo, err)
		}
		return state
	}
	all, err := a.phone.syncd.answer(s, appstate.WAPatchRegularHigh, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	state := follow(appstate.HashState{}, all, 1)
	upload := func(state appstate.HashState) waBinary.Node {
		t.Helper()
		raw, err := proc.EncodePatch(context.Background(), a.phone.appKeyID, state, appstate.BuildMuteAbs(chat, true, nil))
		if err != nil {
			t.Fatal(err)
		}
		answer, err := s.takeAppStatePatch(companion, appstate.WAPatchRegularHigh, state.Version, waBinary.Node{Tag: "patch", Content: raw})
		if err != nil {
			t.Fatal(err)
		}
		return answer
	}

	stale := upload(state)
	if stale.Attrs["type"] != "error" || stale.GetChildByTag("error").Attrs["code"] != "409" {
		t.Fatalf("upload on v1 of v2: %s", stale.XMLString())
	}
	state = follow(state, stale, 2) // the conflict answer carries v2
	if ok := upload(state); ok.Attrs["type"] == "error" || ok.Attrs["version"] != "3" {
		t.Fatalf("upload on v2: %s", ok.XMLString())
	}
	if err = s.SetChatState(a.Phone, chat.User, ChatState{Muted: proto.Bool(true)}); err != nil { // v4, on the companion's v3
		t.Fatal(err)
	}
	all, err = a.phone.syncd.answer(s, appstate.WAPatchRegularHigh, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if state = follow(state, all, 4); state.Version != 4 {
		t.Fatalf("companion at v%d, want 4", state.Version)
	}
}
