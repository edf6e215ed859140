package baileysauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
)

// Creds is Baileys' AuthenticationCreds (src/Types/Auth.ts in
// WhiskeySockets/Baileys: noiseKey, signedIdentityKey, signedPreKey,
// registrationId, advSecretKey, me, account, platform, nextPreKeyId,
// firstUnuploadedPreKeyId, registered, pairingCode, ...) plus the fields of
// whatsmeow's store.Device that Baileys has no place for, under their own
// names. Fields this type does not model (processedHistoryMessages,
// accountSettings, routingInfo, additionalData, ...) are kept in Rest and
// written back unchanged, so creds are loaded and saved whole.
type Creds struct {
	NoiseKey                KeyPair          `json:"noiseKey"`
	PairingEphemeralKeyPair *KeyPair         `json:"pairingEphemeralKeyPair,omitempty"`
	SignedIdentityKey       KeyPair          `json:"signedIdentityKey"`
	SignedPreKey            SignedKeyPair    `json:"signedPreKey"`
	RegistrationID          uint32           `json:"registrationId"`
	AdvSecretKey            string           `json:"advSecretKey"` // base64, as Baileys keeps it
	Me                      *Contact         `json:"me,omitempty"`
	Account                 *Account         `json:"account,omitempty"`
	SignalIdentities        []SignalIdentity `json:"signalIdentities,omitempty"`
	FirstUnuploadedPreKeyID uint32           `json:"firstUnuploadedPreKeyId"`
	NextPreKeyID            uint32           `json:"nextPreKeyId"`
	Platform                string           `json:"platform,omitempty"`
	Registered              bool             `json:"registered"`
	PairingCode             string           `json:"pairingCode,omitempty"`

	// whatsmeow's own fields.
	BusinessName          string `json:"businessName,omitempty"`
	FacebookUUID          string `json:"facebookUUID,omitempty"`
	LIDMigrationTimestamp int64  `json:"lidMigrationTimestamp,omitempty"`

	// Rest is every other field, as loaded.
	Rest map[string]json.RawMessage `json:"-"`
}

// KeyPair is Baileys' KeyPair: Curve25519 keys of 32 bytes, the public one
// without libsignal's 0x05 type byte.
type KeyPair struct {
	Public  Bytes `json:"public"`
	Private Bytes `json:"private"`
}

// SignedKeyPair is Baileys' SignedKeyPair (the signed prekey).
type SignedKeyPair struct {
	KeyPair    KeyPair `json:"keyPair"`
	Signature  Bytes   `json:"signature"`
	KeyID      uint32  `json:"keyId"`
	TimestampS int64   `json:"timestampS,omitempty"`
}

// Contact is Baileys' creds.me: the device's own JID, LID and push name.
type Contact struct {
	ID   string `json:"id"`
	LID  string `json:"lid,omitempty"`
	Name string `json:"name,omitempty"`
}

// Account is proto.IADVSignedDeviceIdentity, the account's signature of
// this device.
type Account struct {
	Details             Bytes `json:"details"`
	AccountSignatureKey Bytes `json:"accountSignatureKey"`
	AccountSignature    Bytes `json:"accountSignature"`
	DeviceSignature     Bytes `json:"deviceSignature"`
}

// SignalIdentity is an identity Baileys trusts from pairing: the primary
// device's identity key (with the 0x05 type byte).
type SignalIdentity struct {
	Identifier struct {
		Name     string `json:"name"`
		DeviceID int    `json:"deviceId"`
	} `json:"identifier"`
	IdentifierKey Bytes `json:"identifierKey"`
}

// ErrInvalidCreds is wrapped by every error about a creds value that cannot
// be a whatsmeow device.
var ErrInvalidCreds = errors.New("invalid Baileys creds")

type credsFields Creds // no methods: the default encoding of the fields

// The JSON names of the modelled fields, so that Rest keeps only the others.
// Worked out on first use, not at package init: every page loading wasmeow
// would otherwise pay for JSON encoding by reflection while it starts.
var credsNames = sync.OnceValue(func() map[string]bool {
	b, _ := json.Marshal(credsFields{PairingEphemeralKeyPair: &KeyPair{}, Me: &Contact{}, Account: &Account{},
		SignalIdentities: []SignalIdentity{{}}, Platform: "x", PairingCode: "x", BusinessName: "x", FacebookUUID: "x", LIDMigrationTimestamp: 1})
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	names := map[string]bool{}
	for k := range m {
		names[k] = true
	}
	return names
})

func (c Creds) MarshalJSON() ([]byte, error) {
	own, err := json.Marshal(credsFields(c))
	if err != nil {
		return nil, err
	}
	if len(c.Rest) == 0 {
		return own, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(own, &m); err != nil {
		return nil, err
	}
	for k, v := range c.Rest {
		if !credsNames()[k] {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

func (c *Creds) UnmarshalJSON(data []byte) error {
	var f credsFields
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCreds, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCreds, err)
	}
	for k := range m {
		if credsNames()[k] || bytes.Equal(m[k], []byte("null")) {
			delete(m, k)
		}
	}
	f.Rest = nil
	if len(m) > 0 {
		f.Rest = m
	}
	*c = Creds(f)
	return nil
}

// baileysDefaults are the fields Baileys' initAuthCreds sets that whatsmeow
// has no value for, so that creds made from a whatsmeow device load in
// Baileys as they are.
var baileysDefaults = map[string]json.RawMessage{
	"processedHistoryMessages": json.RawMessage(`[]`),
	"accountSyncCounter":       json.RawMessage(`0`),
	"accountSettings":          json.RawMessage(`{"unarchiveChats":false}`),
}

// FromDevice is the creds of a paired whatsmeow device. base, when not nil,
// is the creds this replaces: what whatsmeow does not hold (Rest, the
// prekey counters, pairing leftovers) is kept from it.
func FromDevice(d *store.Device, base *Creds) (*Creds, error) {
	switch {
	case d == nil || d.ID == nil:
		return nil, fmt.Errorf("%w: the device has no JID (not paired)", ErrInvalidCreds)
	case d.NoiseKey == nil || d.IdentityKey == nil || d.SignedPreKey == nil || d.SignedPreKey.Signature == nil:
		return nil, fmt.Errorf("%w: device %s lacks its noise, identity or signed prekey", ErrInvalidCreds, d.ID)
	case d.Account == nil:
		return nil, fmt.Errorf("%w: device %s has no account signature", ErrInvalidCreds, d.ID)
	}
	c := &Creds{}
	if base != nil {
		*c = *base
		c.Rest = make(map[string]json.RawMessage, len(base.Rest))
		for k, v := range base.Rest {
			c.Rest[k] = v
		}
	}
	for k, v := range baileysDefaults {
		if _, ok := c.Rest[k]; !ok {
			if c.Rest == nil {
				c.Rest = map[string]json.RawMessage{}
			}
			c.Rest[k] = v
		}
	}
	c.NoiseKey = pairOf(d.NoiseKey)
	c.SignedIdentityKey = pairOf(d.IdentityKey)
	c.SignedPreKey = SignedKeyPair{KeyPair: pairOf(&d.SignedPreKey.KeyPair), Signature: Bytes(d.SignedPreKey.Signature[:]), KeyID: d.SignedPreKey.KeyID,
		TimestampS: c.SignedPreKey.TimestampS}
	c.RegistrationID = d.RegistrationID
	c.AdvSecretKey = base64.StdEncoding.EncodeToString(d.AdvSecretKey)
	c.Me = &Contact{ID: d.ID.String(), Name: d.PushName}
	if !d.LID.IsEmpty() {
		c.Me.LID = d.LID.String()
	}
	c.Account = &Account{
		Details:             Bytes(d.Account.Details),
		AccountSignatureKey: Bytes(d.Account.AccountSignatureKey),
		AccountSignature:    Bytes(d.Account.AccountSignature),
		DeviceSignature:     Bytes(d.Account.DeviceSignature),
	}
	c.SignalIdentities = primaryIdentities(d)
	c.Platform = d.Platform
	c.Registered = true
	c.PairingCode = ""
	c.BusinessName = d.BusinessName
	c.FacebookUUID = ""
	if d.FacebookUUID != uuid.Nil {
		c.FacebookUUID = d.FacebookUUID.String()
	}
	c.LIDMigrationTimestamp = d.LIDMigrationTimestamp
	return c, nil
}

// primaryIdentities is what Baileys records at pairing
// (configureSuccessfulPairing in its Utils/validate-connection): the
// account's identity key (the primary device's), with the 0x05 type byte,
// trusted for the device's LID (its JID when it has no LID).
func primaryIdentities(d *store.Device) []SignalIdentity {
	if len(d.Account.AccountSignatureKey) != 32 {
		return nil
	}
	var id SignalIdentity
	id.Identifier.Name = d.ID.String()
	if !d.LID.IsEmpty() {
		id.Identifier.Name = d.LID.String()
	}
	id.IdentifierKey = append([]byte{0x05}, d.Account.AccountSignatureKey...)
	return []SignalIdentity{id}
}

func pairOf(k *keys.KeyPair) KeyPair {
	return KeyPair{Public: Bytes(k.Pub[:]), Private: Bytes(k.Priv[:])}
}

// IsPaired reports whether c is the creds of a paired device (Baileys'
// initAuthCreds makes keys long before pairing; only pairing sets me and
// account).
func (c *Creds) IsPaired() bool {
	return c != nil && c.Me != nil && c.Me.ID != "" && c.Account != nil
}

// Device is the whatsmeow device these creds describe: keys, JIDs, account
// signature and the fields whatsmeow keeps beside them. Its stores are not
// set (a container's PutDevice does that). Every key is checked: a public
// key must be the one of its private key.
func (c *Creds) Device() (*store.Device, error) {
	if !c.IsPaired() {
		return nil, fmt.Errorf("%w: not a paired device (no me.id or account)", ErrInvalidCreds)
	}
	id, err := types.ParseJID(c.Me.ID)
	if err != nil || id.User == "" {
		return nil, fmt.Errorf("%w: me.id %q is not a JID", ErrInvalidCreds, c.Me.ID)
	}
	var lid types.JID
	if c.Me.LID != "" {
		if lid, err = types.ParseJID(c.Me.LID); err != nil {
			return nil, fmt.Errorf("%w: me.lid %q is not a JID", ErrInvalidCreds, c.Me.LID)
		}
	}
	noise, err := c.NoiseKey.keyPair("noiseKey")
	if err != nil {
		return nil, err
	}
	identity, err := c.SignedIdentityKey.keyPair("signedIdentityKey")
	if err != nil {
		return nil, err
	}
	spk, err := c.SignedPreKey.KeyPair.keyPair("signedPreKey.keyPair")
	if err != nil {
		return nil, err
	}
	if len(c.SignedPreKey.Signature) != 64 {
		return nil, fmt.Errorf("%w: signedPreKey.signature has %d bytes, want 64", ErrInvalidCreds, len(c.SignedPreKey.Signature))
	}
	if c.SignedPreKey.KeyID >= 1<<24 {
		return nil, fmt.Errorf("%w: signedPreKey.keyId %d out of range", ErrInvalidCreds, c.SignedPreKey.KeyID)
	}
	adv, err := decodeBase64(c.AdvSecretKey)
	if err != nil || len(adv) == 0 {
		return nil, fmt.Errorf("%w: advSecretKey is not base64", ErrInvalidCreds)
	}
	a := c.Account
	if len(a.Details) == 0 || len(a.AccountSignatureKey) != 32 || len(a.AccountSignature) != 64 || len(a.DeviceSignature) != 64 {
		return nil, fmt.Errorf("%w: account: details %d bytes, signature key/account signature/device signature %d/%d/%d bytes, want 32/64/64",
			ErrInvalidCreds, len(a.Details), len(a.AccountSignatureKey), len(a.AccountSignature), len(a.DeviceSignature))
	}
	var fb uuid.UUID
	if c.FacebookUUID != "" {
		if fb, err = uuid.Parse(c.FacebookUUID); err != nil {
			return nil, fmt.Errorf("%w: facebookUUID %q: %w", ErrInvalidCreds, c.FacebookUUID, err)
		}
	}
	sig := [64]byte(c.SignedPreKey.Signature)
	return &store.Device{
		NoiseKey:       noise,
		IdentityKey:    identity,
		SignedPreKey:   &keys.PreKey{KeyPair: *spk, KeyID: c.SignedPreKey.KeyID, Signature: &sig},
		RegistrationID: c.RegistrationID,
		AdvSecretKey:   adv,
		ID:             &id,
		LID:            lid,
		Account: &waAdv.ADVSignedDeviceIdentity{
			Details:             bytes.Clone(a.Details),
			AccountSignatureKey: bytes.Clone(a.AccountSignatureKey),
			AccountSignature:    bytes.Clone(a.AccountSignature),
			DeviceSignature:     bytes.Clone(a.DeviceSignature),
		},
		Platform:              c.Platform,
		BusinessName:          c.BusinessName,
		PushName:              c.Me.Name,
		LIDMigrationTimestamp: c.LIDMigrationTimestamp,
		FacebookUUID:          fb,
	}, nil
}

// keyPair checks k (a public key may carry libsignal's 0x05 type byte) and
// returns it as whatsmeow's.
func (k KeyPair) keyPair(name string) (*keys.KeyPair, error) {
	if len(k.Private) != 32 {
		return nil, fmt.Errorf("%w: %s.private has %d bytes, want 32", ErrInvalidCreds, name, len(k.Private))
	}
	kp := keys.NewKeyPairFromPrivateKey([32]byte(k.Private))
	pub := k.Public
	if len(pub) == 33 && pub[0] == 0x05 {
		pub = pub[1:]
	}
	if len(pub) != 0 && !bytes.Equal(pub, kp.Pub[:]) {
		return nil, fmt.Errorf("%w: %s.public is not the public key of %s.private", ErrInvalidCreds, name, name)
	}
	return kp, nil
}
