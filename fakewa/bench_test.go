//go:build !js

package fakewa_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/fakewa"
)

// BenchmarkTextRoundTrip: one whatsmeow companion sends a text to another
// account's companion through the double, until the recipient's event.
func BenchmarkTextRoundTrip(b *testing.B) {
	srv := newServer(b, fakewa.Config{Log: waLog.Noop})
	alice := mustAccount(b, srv, "15557770001", "Alice")
	bob := mustAccount(b, srv, "15557770002", "Bob")
	a1 := newTestClient(b, srv, "alice-web", nil)
	pairQR(b, srv, a1, alice.Phone)
	b1 := newTestClient(b, srv, "bob-web", nil)
	pairQR(b, srv, b1, bob.Phone)
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		text := fmt.Sprintf("bench %d", i)
		if _, err := a1.cli.SendMessage(ctx, bobJID, textMessage(text)); err != nil {
			b.Fatal(err)
		}
		waitEvent[*events.Message](b1, 10*time.Second, func(m *events.Message) bool { return textOf(m) == text })
	}
}
