//go:build !js

package core

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.mau.fi/whatsmeow/store"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// The page asks the relay for its version as soon as it knows the socket
// URL (askRelayEarly, from SetPage), so that the first connect does not wait
// for one more HTTP round trip after opening its storage: a connect while
// the question is under way waits for that answer rather than asking again,
// and uses it.
func TestConnectUsesTheVersionAskedEarly(t *testing.T) {
	before := store.GetWAVersion()
	defer announceWAVersion(before)
	served := store.WAVersionContainer{defaultWAVersion[0], defaultWAVersion[1], defaultWAVersion[2] + 1}
	var asked atomic.Int32
	release := make(chan struct{})
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/version" {
			http.NotFound(w, r)
			return
		}
		asked.Add(1)
		<-release
		fmt.Fprintf(w, `{"version":%q}`, served.String())
	}))
	defer relay.Close()
	socketURL := "ws" + strings.TrimPrefix(relay.URL, "http") + "/ws/chat"

	askRelayEarly(socketURL)
	got := make(chan store.WAVersionContainer, 1)
	go func() { got <- applyWAVersion(context.Background(), socketURL, waLog.Noop) }()
	close(release)
	if v := <-got; v != served {
		t.Fatalf("connect announced %s, want the relay's %s", v, served)
	}
	if n := asked.Load(); n != 1 {
		t.Fatalf("the relay was asked %d times, want once", n)
	}
	// A later connect uses the kept answer.
	if v := applyWAVersion(context.Background(), socketURL, waLog.Noop); v != served || asked.Load() != 1 {
		t.Fatalf("second connect: %s after %d questions", v, asked.Load())
	}
}
