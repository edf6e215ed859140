package idbstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// BenchmarkInMemoryPath measures idbstore's own work (memkv below it), the
// part that stays the same on IndexedDB.
func BenchmarkInMemoryPath(b *testing.B) {
	c, err := idbstore.New(ctx, memkv.New(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	d := randomDevice(rand.New(rand.NewPCG(1, 1)), c, types.NewADJID("491700000001", 0, 7))
	if err := c.PutDevice(ctx, d); err != nil {
		b.Fatal(err)
	}
	b.Run("PutAllContactNames-5000", func(b *testing.B) {
		cs := make([]store.ContactEntry, 5000)
		for i := range cs {
			cs[i] = store.ContactEntry{JID: types.JID{User: fmt.Sprintf("4916%08d", i), Server: types.DefaultUserServer}, FirstName: "F", FullName: "F L"}
		}
		for i := 0; i < b.N; i++ {
			if err := d.Contacts.PutAllContactNames(ctx, cs); err != nil {
				b.Fatal(err)
			}
			if err := c.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Iteration numbers restart with every b.N; these keep keys unique.
	var macRound, decryptRound int
	b.Run("PutAppStateMutationMACs-5000", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			macRound++
			i := macRound
			if err := d.AppState.PutAppStateVersion(ctx, "regular", uint64(i+1), [128]byte{}); err != nil {
				b.Fatal(err)
			}
			muts := make([]store.AppStateMutationMAC, 5000)
			for j := range muts {
				idx := make([]byte, 32)
				idx[0], idx[1], idx[2] = byte(j), byte(j>>8), byte(i)
				muts[j] = store.AppStateMutationMAC{IndexMAC: idx, ValueMAC: make([]byte, 32)}
			}
			if err := d.AppState.PutAppStateMutationMACs(ctx, "regular", uint64(i+1), muts); err != nil {
				b.Fatal(err)
			}
			if err := c.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecryptTxn", func(b *testing.B) {
		sess := make([]byte, 1024)
		if err := d.Sessions.PutSession(ctx, "1:0", sess); err != nil {
			b.Fatal(err)
		}
		for n := 0; n < b.N; n++ {
			decryptRound++
			i := decryptRound
			h := [32]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}
			err := d.EventBuffer.DoDecryptionTxn(ctx, func(ctx2 idbCtx) error {
				if _, err := d.Sessions.GetSession(ctx2, "1:0"); err != nil {
					return err
				}
				if _, err := d.Identities.IsTrustedIdentity(ctx2, "1:0", [32]byte{1}); err != nil {
					return err
				}
				if err := d.Identities.PutIdentity(ctx2, "1:0", [32]byte{1}); err != nil {
					return err
				}
				if err := d.Sessions.PutSession(ctx2, "1:0", sess); err != nil {
					return err
				}
				if err := d.EventBuffer.PutBufferedEvent(ctx2, h, sess[:160], testTime); err != nil {
					return err
				}
				return d.EventBuffer.ClearBufferedEventPlaintext(ctx2, h)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := c.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	})
	_ = idbstore.Tables
}

type idbCtx = context.Context

var testTime = time.Unix(1700000000, 0)
