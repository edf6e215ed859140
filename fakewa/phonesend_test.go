package fakewa_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/fakewa"
)

// apiServer is a listening fakewa and its base URL, closed when the test ends.
func apiServer(t *testing.T) (*fakewa.Server, string) {
	t.Helper()
	srv, err := fakewa.New(fakewa.Config{RootKey: &testRootKey, Log: newTestLogger(t, "fakewa", "INFO")})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, base
}

// A phone sends any message type through the control API as protobuf JSON,
// and the receiving phone reports it whole (raw); bad input is refused.
func TestControlAPISendMessage(t *testing.T) {
	_, base := apiServer(t)
	for _, p := range []string{`{"phone":"15550031001","pushName":"Ann"}`, `{"phone":"15550031002","pushName":"Bo"}`} {
		if code := apiCall(t, "POST", base+"/api/accounts", p, nil); code != 200 {
			t.Fatalf("create: %d", code)
		}
	}
	// Bo writes first: Ann then holds Bo's privacy token.
	if code := apiCall(t, "POST", base+"/api/accounts/15550031002/send", `{"to":"15550031001","text":"hi"}`, nil); code != 200 {
		t.Fatalf("send: %d", code)
	}
	var sent struct{ ID string }
	body := `{"to":"15550031002","message":{"reactionMessage":{"key":{"remoteJID":"15550031001@s.whatsapp.net","fromMe":false,"ID":"ABC"},"text":"👍"}}}`
	if code := apiCall(t, "POST", base+"/api/accounts/15550031001/send-message", body, &sent); code != 200 || sent.ID == "" {
		t.Fatalf("send-message: %d %+v", code, sent)
	}
	var got fakewa.ReceivedMessage
	for deadline := time.Now().Add(10 * time.Second); got.ID == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var msgs []fakewa.ReceivedMessage
		apiCall(t, "GET", base+"/api/accounts/15550031002/messages", "", &msgs)
		for _, m := range msgs {
			if m.ID == sent.ID {
				got = m
			}
		}
	}
	var raw struct {
		ReactionMessage struct {
			Text string
			Key  struct{ ID string }
		}
	}
	if err := json.Unmarshal(got.Raw, &raw); err != nil || raw.ReactionMessage.Text != "👍" || raw.ReactionMessage.Key.ID != "ABC" {
		t.Fatalf("Bo got %+v (%s): %v", got, got.Raw, err)
	}
	for body, want := range map[string]int{
		`{"to":"15550031002","message":{"noSuchField":1}}`:                    400,
		`{"to":"15550031002","message":"text"}`:                               400,
		`{"to":"15550031002"}`:                                                400,
		`{"to":"15559999999","message":{"conversation":"x"}}`:                 409,
		`{"to":"1@g.us","message":{"conversation":"x"}}`:                      409,
		`{"to":"15550031002","message":"` + strings.Repeat("x", 2<<20) + `"}`: 400,
	} {
		if code := apiCall(t, "POST", base+"/api/accounts/15550031001/send-message", body, nil); code != want {
			t.Errorf("%.60s: %d, want %d", body, code, want)
		}
	}
}
