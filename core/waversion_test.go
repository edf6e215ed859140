package core

import (
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/store"
)

func TestParseWAVersion(t *testing.T) {
	v, err := ParseWAVersion(" 2.3000.1034270928 ")
	if err != nil || v != (store.WAVersionContainer{2, 3000, 1034270928}) {
		t.Fatalf("parse: %v %v", v, err)
	}
	for _, bad := range []string{"", "2.3000", "2.3000.x", "0.1.2", "2.3000.1.4", "2.3000.99999999999", "-2.1.1", "NaN"} {
		if _, err := ParseWAVersion(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestAnnounceWAVersionSetsThePayload(t *testing.T) {
	before := store.GetWAVersion()
	defer announceWAVersion(before)
	v := store.WAVersionContainer{2, 3000, 1045649999}
	announceWAVersion(v)
	av := store.BaseClientPayload.GetUserAgent().GetAppVersion()
	if got := (store.WAVersionContainer{av.GetPrimary(), av.GetSecondary(), av.GetTertiary()}); got != v {
		t.Fatalf("the ClientPayload announces %s, want %s", got, v)
	}
}

func TestRelayVersionURL(t *testing.T) {
	for in, want := range map[string]string{
		"ws://127.0.0.1:8080/ws/chat":    "http://127.0.0.1:8080/version",
		"wss://relay.example/ws?x=1":     "https://relay.example/version",
		"http://relay.example/ws/chat":   "",
		"ws://":                          "",
		"":                               "", // no socketURL: the service itself, never asked
		"wss://web.whatsapp.com/ws/chat": "", // the service named explicitly: never asked either
	} {
		got, ok := relayVersionURL(in)
		if got != want || ok != (want != "") {
			t.Errorf("%q: got %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestDecodeRelayVersion(t *testing.T) {
	v, err := decodeRelayVersion(strings.NewReader(`{"version":"2.3000.1040000000","source":"service"}`))
	if err != nil || v != (store.WAVersionContainer{2, 3000, 1040000000}) {
		t.Fatalf("got %v %v", v, err)
	}
	if _, err := decodeRelayVersion(strings.NewReader(`<html>`)); err == nil {
		t.Fatal("an HTML page was taken as a version")
	}
	if _, err := decodeRelayVersion(strings.NewReader(`{"version":""}`)); err == nil {
		t.Fatal("an empty version was accepted")
	}
}
