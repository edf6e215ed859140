package sessionrepair

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/util/optional"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
)

// memStore keeps one party's identities, sessions and prekeys in maps.
type memStore struct {
	mu       sync.Mutex
	sessions map[string][]byte
	preKeys  map[uint32]*keys.PreKey
	next     uint32
}

func (m *memStore) PutIdentity(context.Context, string, [32]byte) error { return nil }
func (m *memStore) DeleteAllIdentities(context.Context, string) error   { return nil }
func (m *memStore) DeleteIdentity(context.Context, string) error        { return nil }
func (m *memStore) IsTrustedIdentity(context.Context, string, [32]byte) (bool, error) {
	return true, nil
}
func (m *memStore) GetSession(_ context.Context, a string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[a], nil
}
func (m *memStore) HasSession(ctx context.Context, a string) (bool, error) {
	s, _ := m.GetSession(ctx, a)
	return s != nil, nil
}
func (m *memStore) GetManySessions(context.Context, []string) (map[string][]byte, error) {
	return nil, errors.New("unused")
}
func (m *memStore) PutSession(_ context.Context, a string, s []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[a] = s
	return nil
}
func (m *memStore) PutManySessions(context.Context, map[string][]byte) error {
	return errors.New("unused")
}
func (m *memStore) DeleteAllSessions(context.Context, string) error { return errors.New("unused") }
func (m *memStore) DeleteSession(context.Context, string) error     { return errors.New("unused") }
func (m *memStore) MigratePNToLID(context.Context, types.JID, types.JID) error {
	return errors.New("unused")
}
func (m *memStore) GetOrGenPreKeys(context.Context, uint32) ([]*keys.PreKey, error) {
	return nil, errors.New("unused")
}
func (m *memStore) GenOnePreKey(context.Context) (*keys.PreKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	k := keys.NewPreKey(m.next)
	m.preKeys[k.KeyID] = k
	return k, nil
}
func (m *memStore) GetPreKey(_ context.Context, id uint32) (*keys.PreKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.preKeys[id], nil
}
func (m *memStore) RemovePreKey(_ context.Context, id uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.preKeys, id)
	return nil
}
func (m *memStore) MarkPreKeysAsUploaded(context.Context, uint32) error { return nil }
func (m *memStore) UploadedPreKeyCount(context.Context) (int, error)    { return 0, nil }

// party is one device: whatsmeow's store.Device over a memStore, its
// sessions behind Store when repair is on.
type party struct {
	name string
	dev  *store.Device
	mem  *memStore
	peer *protocol.SignalAddress // the other party's address
}

func newParty(t testing.TB, name string, repair bool) *party {
	t.Helper()
	mem := &memStore{sessions: map[string][]byte{}, preKeys: map[uint32]*keys.PreKey{}}
	id := keys.NewKeyPair()
	dev := &store.Device{
		IdentityKey: id, SignedPreKey: id.CreateSignedPreKey(1), RegistrationID: 7,
		Identities: mem, Sessions: mem, PreKeys: mem,
	}
	if repair {
		dev.Sessions = Wrap(mem, nil)
	}
	return &party{name: name, dev: dev, mem: mem}
}

// bundle is p's prekey bundle with a fresh one-time prekey.
func (p *party) bundle(t testing.TB) *prekey.Bundle {
	t.Helper()
	pk, err := p.dev.PreKeys.GenOnePreKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return prekey.NewBundle(p.dev.RegistrationID, 0, optional.NewOptionalUint32(pk.KeyID), p.dev.SignedPreKey.KeyID,
		ecc.NewDjbECPublicKey(*pk.Pub), ecc.NewDjbECPublicKey(*p.dev.SignedPreKey.Pub), *p.dev.SignedPreKey.Signature,
		identity.NewKey(ecc.NewDjbECPublicKey(*p.dev.IdentityKey.Pub)))
}

func (p *party) cipher() *session.Cipher {
	b := session.NewBuilderFromSignal(p.dev, p.peer, store.SignalProtobufSerializer)
	return session.NewCipher(b, p.peer)
}

// wire is one encrypted message in flight.
type wire struct {
	text   string
	prekey bool
	body   []byte
}

func (p *party) send(t testing.TB, text string) wire {
	t.Helper()
	ct, err := p.cipher().Encrypt(context.Background(), []byte(text))
	if err != nil {
		t.Fatalf("%s encrypting %q: %v", p.name, text, err)
	}
	return wire{text: text, prekey: ct.Type() == protocol.PREKEY_TYPE, body: ct.Serialize()}
}

// receive decrypts as whatsmeow does: inside a decryption (marked context).
func (p *party) receive(w wire) error {
	ctx := Decrypting(context.Background())
	var plain []byte
	var err error
	if w.prekey {
		var m *protocol.PreKeySignalMessage
		if m, err = protocol.NewPreKeySignalMessageFromBytes(w.body, store.SignalProtobufSerializer.PreKeySignalMessage, store.SignalProtobufSerializer.SignalMessage); err == nil {
			plain, err = p.cipher().DecryptMessage(ctx, m)
		}
	} else {
		var m *protocol.SignalMessage
		if m, err = protocol.NewSignalMessageFromBytes(w.body, store.SignalProtobufSerializer.SignalMessage); err == nil {
			plain, err = p.cipher().Decrypt(ctx, m)
		}
	}
	if err != nil {
		return fmt.Errorf("%s decrypting %q: %w", p.name, w.text, err)
	}
	if string(plain) != w.text {
		return fmt.Errorf("%s decrypted %q as %q", p.name, w.text, plain)
	}
	return nil
}

// crossFirstContact is the interleaving wasmeow's kill suite met: Kim and
// Leo each start a session from the other's bundle and send before either
// has received anything, then messages cross. It returns the first message
// that could not be decrypted.
func crossFirstContact(t *testing.T, repair bool) error {
	return crossParties(t, newParty(t, "kim", repair), newParty(t, "leo", repair))
}

func crossParties(t *testing.T, kim, leo *party) error {
	kim.peer = protocol.NewSignalAddress("leo", 0)
	leo.peer = protocol.NewSignalAddress("kim", 1)
	ctx := context.Background()
	if err := session.NewBuilderFromSignal(kim.dev, kim.peer, store.SignalProtobufSerializer).ProcessBundle(ctx, leo.bundle(t)); err != nil {
		t.Fatal(err)
	}
	if err := session.NewBuilderFromSignal(leo.dev, leo.peer, store.SignalProtobufSerializer).ProcessBundle(ctx, kim.bundle(t)); err != nil {
		t.Fatal(err)
	}
	k1 := kim.send(t, "k1")                        // pkmsg on Kim's session
	l1, l2 := leo.send(t, "l1"), leo.send(t, "l2") // pkmsgs on Leo's session
	steps := []func() error{
		func() error { return kim.receive(l1) }, // Kim: Leo's session current, Kim's previous
		func() error { return leo.receive(k1) }, // Leo: Kim's session current
		func() error {
			l3 := leo.send(t, "l3") // on Kim's session now
			return kim.receive(l3)  // Kim tries Leo's session first (the failed attempt), then Kim's
		},
		func() error { return leo.receive(kim.send(t, "k2")) },
		func() error { return kim.receive(l2) }, // the late pkmsg: Kim's session tried and failed first
		func() error { return leo.receive(kim.send(t, "k3")) },
		func() error { return kim.receive(leo.send(t, "l4")) },
		func() error { return leo.receive(kim.send(t, "k4")) },
		func() error { return kim.receive(leo.send(t, "l5")) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func TestCrossingFirstContactKeepsDecrypting(t *testing.T) {
	// Without the repair, libsignal-go's failed attempts damage the other
	// state and the conversation breaks (the defect this package exists for).
	if err := crossFirstContact(t, false); err == nil {
		t.Fatal("without the repair every message decrypted: the scenario no longer shows libsignal's in-place attempts, so this test proves nothing")
	} else {
		t.Logf("without the repair: %v", err)
	}
	for i := 0; i < 20; i++ {
		if err := crossFirstContact(t, true); err != nil {
			t.Fatalf("run %d with the repair: %v", i, err)
		}
	}
}

func TestRepairLeavesAnUntouchedRecordAlone(t *testing.T) {
	kim, leo := newParty(t, "kim", true), newParty(t, "leo", true)
	kim.peer = protocol.NewSignalAddress("leo", 0)
	leo.peer = protocol.NewSignalAddress("kim", 1)
	if err := session.NewBuilderFromSignal(kim.dev, kim.peer, store.SignalProtobufSerializer).ProcessBundle(context.Background(), leo.bundle(t)); err != nil {
		t.Fatal(err)
	}
	if err := leo.receive(kim.send(t, "hi")); err != nil {
		t.Fatal(err)
	}
	addr := kim.peer.String()
	before, _ := kim.mem.GetSession(context.Background(), addr)
	kim.send(t, "again")
	now, _ := kim.mem.GetSession(context.Background(), addr)
	if before == nil || now == nil {
		t.Fatalf("no stored session at %q", addr)
	}
	out, changed, err := Repair(before, now)
	if err != nil || changed || string(out) != string(now) {
		t.Fatalf("a record with one state: changed=%v err=%v", changed, err)
	}
	if _, _, err := Repair([]byte("garbage"), now); err == nil {
		t.Fatal("a garbage record was accepted")
	}
}

// conversation is Ann and Bob (sessions behind Store) with Ann's session
// built from Bob's bundle: Ann writes first.
func conversation(t testing.TB) (ann, bob *party) {
	t.Helper()
	ann, bob = newParty(t, "ann", true), newParty(t, "bob", true)
	ann.peer, bob.peer = protocol.NewSignalAddress("bob", 0), protocol.NewSignalAddress("ann", 1)
	if err := session.NewBuilderFromSignal(ann.dev, ann.peer, store.SignalProtobufSerializer).ProcessBundle(context.Background(), bob.bundle(t)); err != nil {
		t.Fatal(err)
	}
	return ann, bob
}
