package fakewa

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/util/keys"
	waLog "go.mau.fi/whatsmeow/util/log"
)

// phoneUploadedPreKeys is how many one-time prekeys a simulated phone keeps
// published; it tops them up when fetches drain them below MinPreKeyCount.
const phoneUploadedPreKeys = 50

// ReceivedMessage is a message a simulated phone received and decrypted.
type ReceivedMessage struct {
	ID   string    `json:"id"`
	From string    `json:"from"` // the sending device
	Chat string    `json:"chat"` // the sender's user JID
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

// phone is the simulated primary device of an account. Its Signal state is a
// whatsmeow store.Device over memory stores.
type phone struct {
	acct  *Account
	dev   *store.Device
	store *memSignalStore

	mu       sync.Mutex
	received []ReceivedMessage
	// cryptoMu serialises Signal operations: sessions are read-modify-write.
	cryptoMu sync.Mutex
}

func newPhone() (*phone, error) {
	ms := newMemSignalStore()
	identity := keys.NewKeyPair()
	dev := &store.Device{
		Log:            waLog.Noop,
		NoiseKey:       keys.NewKeyPair(),
		IdentityKey:    identity,
		SignedPreKey:   identity.CreateSignedPreKey(1),
		RegistrationID: randomUint32(),
		Identities:     ms,
		Sessions:       ms,
		PreKeys:        ms,
		Initialized:    true,
	}
	p := &phone{dev: dev, store: ms}
	ctx := context.Background()
	pks, err := ms.GetOrGenPreKeys(ctx, phoneUploadedPreKeys)
	if err != nil {
		return nil, fmt.Errorf("generating phone prekeys: %w", err)
	}
	if err = ms.MarkPreKeysAsUploaded(ctx, pks[len(pks)-1].KeyID); err != nil {
		return nil, fmt.Errorf("marking phone prekeys uploaded: %w", err)
	}
	return p, nil
}

func (p *phone) identityKeyPair() *keys.KeyPair { return p.dev.IdentityKey }

// fillDevice publishes the phone's keys in the server's prekey registry.
func (p *phone) fillDevice(d *Device) {
	d.identity = *p.dev.IdentityKey.Pub
	d.regID = p.dev.RegistrationID
	d.signedPreKey = preKey{id: p.dev.SignedPreKey.KeyID, pub: *p.dev.SignedPreKey.Pub, signature: p.dev.SignedPreKey.Signature[:]}
	d.preKeys = d.preKeys[:0]
	for id := uint32(1); id <= p.store.lastPreKey; id++ {
		if k := p.store.preKeys[id]; k != nil && p.store.uploaded[id] {
			d.preKeys = append(d.preKeys, preKey{id: id, pub: *k.Pub})
		}
	}
}
