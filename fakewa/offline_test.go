//go:build !js

package fakewa_test

import (
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wasmeow/wasmeow/fakewa"
)

func waitQueued(t *testing.T, srv *fakewa.Server, dev types.JID, want int) {
	t.Helper()
	for i := 0; srv.Queued(dev) != want; i++ {
		if i == 500 {
			t.Fatalf("%s has %d queued stanzas, want %d", dev, srv.Queued(dev), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOfflineDelivery(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15552220001", "Alice")
	bob := mustAccount(t, srv, "15552220002", "Bob")
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)
	bobStore := newContainer(t, "bob-web")
	b1 := newTestClient(t, srv, "bob-web", bobStore)
	b1ID := pairQR(t, srv, b1, bob.Phone)
	b1.cli.Disconnect()

	// While bob-web is away, both Alice's phone and her companion write.
	if _, err := srv.SendText(alice.Phone, bob.Phone, "while you were out 1"); err != nil {
		t.Fatal(err)
	}
	sendText(t, a1, bobJID, "while you were out 2")
	waitPhoneText(t, srv, bob.Phone, "while you were out 2") // the phone is always online
	// The two texts and the privacy token Alice's phone issued to Bob.
	waitQueued(t, srv, b1ID, 3)

	back := newTestClient(t, srv, "bob-web-again", bobStore)
	back.connect()
	waitText(back, "while you were out 1")
	waitText(back, "while you were out 2")
	done := waitEvent[*events.OfflineSyncCompleted](back, 10*time.Second, nil)
	if done.Count != 3 {
		t.Fatalf("offline sync reported %d stanzas, want 3", done.Count)
	}
	waitQueued(t, srv, b1ID, 0)
}

// A message the client received but never acknowledged (its socket died
// first) is delivered again on the next connection.
func TestRedeliveryWithoutAck(t *testing.T) {
	srv := newServer(t, fakewa.Config{})
	alice := mustAccount(t, srv, "15552220003", "Alice")
	bob := mustAccount(t, srv, "15552220004", "Bob")
	bobJID := types.NewJID(bob.Phone, types.DefaultUserServer)
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)
	b1 := newTestClient(t, srv, "bob-web", nil)
	b1ID := pairQR(t, srv, b1, bob.Phone)

	// Receipts leave only after the event handlers return; one handler holds
	// the first copy until the socket is gone.
	b1.cli.SynchronousAck = true
	entered, release := make(chan struct{}), make(chan struct{})
	b1.cli.AddEventHandler(func(evt any) {
		if m, ok := evt.(*events.Message); ok && textOf(m) == "ack me later" {
			select {
			case <-entered: // the redelivered copy, if it gets here, passes
			default:
				close(entered)
				<-release
			}
		}
	})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	sendText(t, a1, bobJID, "warm up the session")
	waitText(b1, "warm up the session")

	id := sendText(t, a1, bobJID, "ack me later")
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("bob-web never got the message")
	}
	waitQueued(t, srv, b1ID, 1) // received, not acknowledged
	if err := srv.CutSocket(b1ID, 0); err != nil {
		t.Fatal(err)
	}
	// whatsmeow reconnects; the server sends the message again and this
	// time the client acknowledges it, while the first copy is still held.
	waitEvent[*events.Connected](b1, 15*time.Second, nil)
	waitQueued(t, srv, b1ID, 0)
	waitEvent[*events.Receipt](a1, 10*time.Second, func(r *events.Receipt) bool {
		return r.MessageIDs[0] == id && sameDevice(r.Sender, b1ID, bob)
	})
	close(release)
}

// On a live socket, a message left unacknowledged for RedeliverAfter goes
// out again.
func TestRedeliveryOnLiveSocket(t *testing.T) {
	logs := &fakewa.LineCapture{}
	srv := newServer(t, fakewa.Config{RedeliverAfter: 300 * time.Millisecond, Log: logs})
	alice := mustAccount(t, srv, "15552220005", "Alice")
	bob := mustAccount(t, srv, "15552220006", "Bob")
	a1 := newTestClient(t, srv, "alice-web", nil)
	pairQR(t, srv, a1, alice.Phone)
	b1 := newTestClient(t, srv, "bob-web", nil)
	b1ID := pairQR(t, srv, b1, bob.Phone)
	b1.cli.SynchronousAck = true
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b1.cli.AddEventHandler(func(evt any) {
		if m, ok := evt.(*events.Message); ok && textOf(m) == "slow reader" {
			once.Do(func() { close(entered); <-release })
		}
	})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	sendText(t, a1, types.NewJID(bob.Phone, types.DefaultUserServer), "slow reader")
	<-entered
	deadline := time.Now().Add(5 * time.Second)
	for !logs.Has("resending stanzas not acknowledged") {
		if time.Now().After(deadline) {
			t.Fatal("the server never resent the unacknowledged message")
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	waitQueued(t, srv, b1ID, 0)
}
