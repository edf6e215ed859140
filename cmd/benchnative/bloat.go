//go:build !js

package main

import (
	"context"
	"crypto/rand"
	"fmt"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// bloat gives dev the records of a big account, through whatsmeow's store
// interfaces: for n = 1000, 5,000 contacts, 2,000 Signal sessions, 300
// sender keys, 20,000 message secrets and 20,000 app-state mutation MACs
// (the shape issue 16 measures). The values are random bytes of typical
// sizes: opening a store does not decode them.
func bloat(ctx context.Context, dev *store.Device, n int) error {
	if n <= 0 {
		return fmt.Errorf("bloat: n must be positive, got %d", n)
	}
	user := func(i int) types.JID { return types.NewJID(fmt.Sprintf("1666%07d", i), types.DefaultUserServer) }
	contacts := make([]store.ContactEntry, n*5)
	for i := range contacts {
		contacts[i] = store.ContactEntry{JID: user(i), FirstName: fmt.Sprintf("First %d", i), FullName: fmt.Sprintf("Full Name %d", i)}
	}
	if err := dev.Contacts.PutAllContactNames(ctx, contacts); err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	sessions := make(map[string][]byte, n*2)
	for i := range n * 2 {
		sessions[user(i).SignalAddress().String()] = random(1200)
	}
	if err := dev.Sessions.PutManySessions(ctx, sessions); err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	for i := range max(1, n*3/10) {
		group := fmt.Sprintf("1203630%08d@g.us", i)
		if err := dev.SenderKeys.PutSenderKey(ctx, group, user(i).SignalAddress().String(), random(400)); err != nil {
			return fmt.Errorf("sender keys: %w", err)
		}
	}
	secrets := make([]store.MessageSecretInsert, n*20)
	for i := range secrets {
		secrets[i] = store.MessageSecretInsert{Chat: user(i % (n * 5)), Sender: user(i % (n * 5)), ID: types.MessageID(fmt.Sprintf("3EB0%016X", i)), Secret: random(32)}
	}
	if err := dev.MsgSecrets.PutMessageSecrets(ctx, secrets); err != nil {
		return fmt.Errorf("message secrets: %w", err)
	}
	macs := make([]store.AppStateMutationMAC, n*20)
	for i := range macs {
		macs[i] = store.AppStateMutationMAC{IndexMAC: random(32), ValueMAC: random(32)}
	}
	if err := dev.AppState.PutAppStateMutationMACs(ctx, "regular", 1, macs); err != nil {
		return fmt.Errorf("mutation MACs: %w", err)
	}
	return nil
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
