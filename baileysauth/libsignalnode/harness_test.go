package libsignalnode_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"go.mau.fi/libsignal/groups"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"

	"github.com/wasmeow/wasmeow/baileysauth/libsignalnode"
	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// fixture is testdata/node-records.json, made by testdata/gen.mjs with the
// real libsignal-node and Baileys group ciphers.
type fixture struct {
	Alice, Bob, Carol partyKeys
	BobRecord         json.RawMessage
	AliceRecord       json.RawMessage
	CarolRecord       json.RawMessage
	ToBob, ToAlice    []wireMsg
	CarolToBob        wireMsg
	BobSenderKey      []byte
	AliceSenderKey    []byte
	GroupToBob        []wireMsg
}

type partyKeys struct {
	IdentityPub, IdentityPriv []byte
	RegistrationID            uint32
	SignedPreKey              struct {
		ID                   uint32
		Pub, Priv, Signature []byte
	}
	PreKeys []struct {
		ID        uint32
		Pub, Priv []byte
	}
}

type wireMsg struct {
	Type, Text string
	Body       []byte
}

const groupID = "120363000000000001@g.us"

func loadFixture(t *testing.T) *fixture { return loadFixtureF(t) }

func loadFixtureF(t testing.TB) *fixture {
	t.Helper()
	raw, err := os.ReadFile("testdata/node-records.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	// Compact, as Baileys writes them (and so tests can edit them as text).
	for _, r := range []*json.RawMessage{&f.BobRecord, &f.AliceRecord, &f.CarolRecord} {
		var b bytes.Buffer
		if err := json.Compact(&b, *r); err != nil {
			t.Fatal(err)
		}
		*r = b.Bytes()
	}
	return &f
}

func arr32(t *testing.T, b []byte) *[32]byte {
	t.Helper()
	if len(b) != 32 {
		t.Fatalf("key of %d bytes", len(b))
	}
	var a [32]byte
	copy(a[:], b)
	return &a
}

func (p partyKeys) local(t *testing.T) libsignalnode.Local {
	return libsignalnode.Local{IdentityKey: *arr32(t, p.IdentityPub), RegistrationID: p.RegistrationID}
}

// device is a whatsmeow device with p's keys, on wasmeow's store (idbstore
// on memory): whatsmeow's own Signal store adapter reads the records.
func device(t *testing.T, p partyKeys) *store.Device {
	t.Helper()
	ctx := context.Background()
	c, err := idbstore.New(ctx, memkv.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	dev := c.NewDevice()
	dev.IdentityKey = &keys.KeyPair{Pub: arr32(t, p.IdentityPub), Priv: arr32(t, p.IdentityPriv)}
	dev.RegistrationID = p.RegistrationID
	var sig [64]byte
	copy(sig[:], p.SignedPreKey.Signature)
	dev.SignedPreKey = &keys.PreKey{KeyPair: keys.KeyPair{Pub: arr32(t, p.SignedPreKey.Pub), Priv: arr32(t, p.SignedPreKey.Priv)}, KeyID: p.SignedPreKey.ID, Signature: &sig}
	// The store keeps only paired devices (sqlstore's NOT NULL columns);
	// the account signature plays no part in Signal sessions.
	dev.AdvSecretKey = make([]byte, 32)
	dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	jid := types.NewADJID(fmt.Sprintf("1555000%04d", p.RegistrationID), 0, 1)
	dev.ID = &jid
	if err := c.PutDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	var rows []idbstore.PreKeyRow
	for _, k := range p.PreKeys {
		rows = append(rows, idbstore.PreKeyRow{Key: keys.PreKey{KeyPair: keys.KeyPair{Pub: arr32(t, k.Pub), Priv: arr32(t, k.Priv)}, KeyID: k.ID}, Uploaded: true})
	}
	if err := dev.PreKeys.(*idbstore.Store).ImportPreKeys(ctx, rows); err != nil {
		t.Fatal(err)
	}
	return dev
}

var pb = store.SignalProtobufSerializer

// decrypt decrypts a libsignal message from addr as whatsmeow's
// decryptDM does.
func decrypt(t *testing.T, dev *store.Device, from string, m wireMsg) (string, error) {
	t.Helper()
	ctx := context.Background()
	addr := protocol.NewSignalAddress(from, 1)
	cipher := session.NewCipher(session.NewBuilderFromSignal(dev, addr, pb), addr)
	var pt []byte
	var err error
	if m.Type == "pkmsg" {
		msg, perr := protocol.NewPreKeySignalMessageFromBytes(m.Body, pb.PreKeySignalMessage, pb.SignalMessage)
		if perr != nil {
			t.Fatal(perr)
		}
		pt, err = cipher.DecryptMessage(ctx, msg)
	} else {
		msg, perr := protocol.NewSignalMessageFromBytes(m.Body, pb.SignalMessage)
		if perr != nil {
			t.Fatal(perr)
		}
		pt, err = cipher.Decrypt(ctx, msg)
	}
	return string(pt), err
}

// encrypt encrypts text to addr as whatsmeow's encryptMessageForDevice does
// with an existing session.
func encrypt(t *testing.T, dev *store.Device, to, text string) wireMsg {
	t.Helper()
	addr := protocol.NewSignalAddress(to, 1)
	cipher := session.NewCipher(session.NewBuilderFromSignal(dev, addr, pb), addr)
	ct, err := cipher.Encrypt(context.Background(), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	typ := "msg"
	if ct.Type() == protocol.PREKEY_TYPE {
		typ = "pkmsg"
	}
	return wireMsg{Type: typ, Text: text, Body: ct.Serialize()}
}

func groupCipher(dev *store.Device, sender string) *groups.GroupCipher {
	name := protocol.NewSenderKeyName(groupID, protocol.NewSignalAddress(sender, 1))
	return groups.NewGroupCipher(groups.NewGroupSessionBuilder(dev, pb), name, dev)
}

func groupDecrypt(t *testing.T, dev *store.Device, sender string, m wireMsg) (string, error) {
	t.Helper()
	msg, err := protocol.NewSenderKeyMessageFromBytes(m.Body, pb.SenderKeyMessage)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := groupCipher(dev, sender).Decrypt(context.Background(), msg)
	return string(pt), err
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
