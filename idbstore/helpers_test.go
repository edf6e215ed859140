package idbstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/kv"
)

// randomDevice is a paired-looking device: fresh keys from the container, an
// ID, a LID and an account identity with the lengths sqlstore checks.
func randomDevice(r *rand.Rand, c interface{ NewDevice() *store.Device }, jid types.JID) *store.Device {
	d := c.NewDevice()
	id := jid
	d.ID = &id
	d.LID = types.NewADJID(jid.User+"9", 0, uint8(jid.Device))
	d.LID.Server = types.HiddenUserServer
	rb := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	d.Account = &waAdv.ADVSignedDeviceIdentity{Details: rb(20), AccountSignature: rb(64), AccountSignatureKey: rb(32), DeviceSignature: rb(64)}
	d.Platform = "web"
	d.PushName = "me"
	return d
}

// cloneDevice copies the stored fields of d, unwired.
func cloneDevice(d *store.Device) *store.Device {
	c := *d
	c.Initialized = false
	c.Identities, c.Sessions, c.PreKeys, c.SenderKeys, c.AppStateKeys, c.AppState = nil, nil, nil, nil, nil, nil
	c.Contacts, c.ChatSettings, c.MsgSecrets, c.PrivacyTokens, c.EventBuffer, c.LIDs, c.Container = nil, nil, nil, nil, nil, nil, nil
	if d.ID != nil {
		id := *d.ID
		c.ID = &id
	}
	return &c
}

// keepOpen lets a test reopen a container on the same backend: Close is a
// no-op.
type keepOpen struct{ kv.Backend }

func (keepOpen) Close() error { return nil }

var _ = context.Background

// deviceString shows every stored field of d.
func deviceString(d *store.Device) string {
	return fmt.Sprintf("noise=%x identity=%x spk=%x/%d/%x reg=%d adv=%x id=%v lid=%v account=%x/%x/%x/%x platform=%q business=%q push=%q lidts=%d fb=%v",
		d.NoiseKey.Priv, d.IdentityKey.Priv, d.SignedPreKey.Priv, d.SignedPreKey.KeyID, d.SignedPreKey.Signature,
		d.RegistrationID, d.AdvSecretKey, d.ID, d.LID,
		d.Account.Details, d.Account.AccountSignature, d.Account.AccountSignatureKey, d.Account.DeviceSignature,
		d.Platform, d.BusinessName, d.PushName, d.LIDMigrationTimestamp, d.FacebookUUID)
}
