// Package filltest pairs a device into an idbstore container and writes a
// record into every table through whatsmeow's store interfaces: the fixture
// of the tests that map those records elsewhere (baileysauth, kv/jskv).
package filltest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mau.fi/util/random"
	"google.golang.org/protobuf/proto"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"

	"github.com/wasmeow/wasmeow/idbstore"
)

// Device is a paired device's fields (no stores), with every field set.
func Device() *store.Device {
	id := types.NewADJID("15551234567", 0, 12)
	lid := types.NewADJID("123456789012345", 1, 12)
	lid.Server = types.HiddenUserServer
	identity := keys.NewKeyPair()
	return &store.Device{
		NoiseKey:       keys.NewKeyPair(),
		IdentityKey:    identity,
		SignedPreKey:   identity.CreateSignedPreKey(7),
		RegistrationID: 0xfedcba98,
		AdvSecretKey:   random.Bytes(32),
		ID:             &id,
		LID:            lid,
		Account: &waAdv.ADVSignedDeviceIdentity{
			Details: random.Bytes(40), AccountSignatureKey: random.Bytes(32),
			AccountSignature: random.Bytes(64), DeviceSignature: random.Bytes(64),
		},
		Platform:              "smba",
		BusinessName:          "Alice's shop",
		PushName:              "Alice",
		LIDMigrationTimestamp: 1764000000,
		FacebookUUID:          uuid.New(),
	}
}

// Fill stores Device() in c and a record in every table of it; it returns
// the stored device.
func Fill(t testing.TB, c *idbstore.Container) *store.Device {
	t.Helper()
	ctx := context.Background()
	d := Device()
	dev := c.NewDevice()
	dev.NoiseKey, dev.IdentityKey, dev.SignedPreKey, dev.RegistrationID, dev.AdvSecretKey = d.NoiseKey, d.IdentityKey, d.SignedPreKey, d.RegistrationID, d.AdvSecretKey
	dev.ID, dev.LID, dev.Account, dev.Platform, dev.PushName = d.ID, d.LID, d.Account, d.Platform, d.PushName
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.PutDevice(ctx, dev))
	peer := types.NewJID("15550001111", types.DefaultUserServer)
	peerLID := types.NewJID("98765432109876", types.HiddenUserServer)
	peerDev := types.NewADJID("98765432109876", 1, 3)
	peerDev.Server = types.HiddenUserServer
	must(dev.Identities.PutIdentity(ctx, peerDev.SignalAddress().String(), [32]byte(random.Bytes(32))))
	must(dev.Sessions.PutSession(ctx, peerDev.SignalAddress().String(), random.Bytes(300)))
	must(dev.Sessions.PutSession(ctx, types.NewADJID(peer.User, 0, 0).SignalAddress().String(), random.Bytes(200)))
	pks, err := dev.PreKeys.GetOrGenPreKeys(ctx, 3)
	must(err)
	must(dev.PreKeys.MarkPreKeysAsUploaded(ctx, pks[1].KeyID))
	_, err = dev.PreKeys.GenOnePreKey(ctx)
	must(err)
	must(dev.SenderKeys.PutSenderKey(ctx, "120363000000000001@g.us", peerDev.SignalAddress().String(), random.Bytes(150)))
	fp, _ := proto.Marshal(&waE2E.AppStateSyncKeyFingerprint{RawID: proto.Uint32(7), CurrentIndex: proto.Uint32(2), DeviceIndexes: []uint32{0, 2}})
	must(dev.AppStateKeys.PutAppStateSyncKey(ctx, []byte{0, 0, 0, 0, 1, 2}, store.AppStateSyncKey{Data: random.Bytes(32), Fingerprint: fp, Timestamp: 1764000000123}))
	must(dev.AppStateKeys.PutAppStateSyncKey(ctx, []byte{9}, store.AppStateSyncKey{Data: random.Bytes(32), Fingerprint: []byte{0xff}, Timestamp: 5}))
	must(dev.AppState.PutAppStateVersion(ctx, "critical_block", 42, [128]byte(random.Bytes(128))))
	must(dev.AppState.PutAppStateMutationMACs(ctx, "critical_block", 42, []store.AppStateMutationMAC{{IndexMAC: random.Bytes(32), ValueMAC: random.Bytes(32)}}))
	_, _, err = dev.Contacts.PutPushName(ctx, peer, "Bob")
	must(err)
	must(dev.ChatSettings.PutMutedUntil(ctx, peer, time.Unix(1900000000, 0)))
	must(dev.MsgSecrets.PutMessageSecret(ctx, peer, peer, "3EB0ABCDEF", random.Bytes(32)))
	must(dev.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: peer, Token: random.Bytes(20), Timestamp: time.Unix(1764000000, 0)}))
	must(dev.EventBuffer.PutBufferedEvent(ctx, [32]byte(random.Bytes(32)), random.Bytes(50), time.Unix(1764000000, 0)))
	must(dev.LIDs.PutLIDMapping(ctx, peerLID, peer))
	must(c.Flush(ctx))
	return dev
}
