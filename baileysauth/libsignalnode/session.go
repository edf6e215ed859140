package libsignalnode

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"go.mau.fi/libsignal/kdf"
	"go.mau.fi/libsignal/keys/chain"
	"go.mau.fi/libsignal/keys/message"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/serialize"
	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/libsignal/util/optional"
)

// serializer is the one whatsmeow's store uses for every Signal record
// (store.SignalProtobufSerializer, whose session records are JSON).
var serializer = serialize.NewProtoBufSerializer()

// Local is what a whatsmeow session state holds about our own side and a
// libsignal-node record does not (libsignal-node reads it from the
// credentials when it encrypts).
type Local struct {
	IdentityKey    [32]byte // the device's identity public key
	RegistrationID uint32
}

// Dropped names what a conversion left out, one line each.
type Dropped []string

// Add appends one line.
func (d *Dropped) Add(format string, args ...any) { *d = append(*d, fmt.Sprintf(format, args...)) }

// ErrNoOpenSession is returned for a libsignal-node record with no open
// session: whatsmeow always encrypts with a record's current state, which
// must then be one that libsignal-node would use, so there is nothing to
// convert (libsignal-node itself would start a new session to send).
var ErrNoOpenSession = errors.New("the record has no open session")

// SessionToWhatsmeow converts a libsignal-node session record (the JSON
// object SessionRecord.serialize() returns, as Baileys stores it) into
// whatsmeow's serialized session record. The open session becomes the
// current state, closed ones the previous states (most recently closed
// first).
func SessionToWhatsmeow(nodeJSON []byte, local Local) ([]byte, Dropped, error) {
	var rec nodeRecord
	if err := json.Unmarshal(nodeJSON, &rec); err != nil {
		return nil, nil, fmt.Errorf("not a libsignal-node session record: %w", err)
	}
	if rec.Version != recordVersion {
		return nil, nil, fmt.Errorf("session record version %q: only %q is known", rec.Version, recordVersion)
	}
	var open *nodeEntry
	var closed []*nodeEntry
	for _, id := range slices.Sorted(maps.Keys(rec.Sessions)) {
		e := rec.Sessions[id]
		if e == nil {
			return nil, nil, fmt.Errorf("session %s is null", id)
		}
		// libsignal-node encrypts with the first open one; two open ones do
		// not happen (each new session closes the open one), but if they do,
		// the most recently used is the one that talks.
		if e.IndexInfo.Closed == closedNever && (open == nil || e.IndexInfo.Used > open.IndexInfo.Used) {
			if open != nil {
				closed = append(closed, open)
			}
			open = e
		} else {
			closed = append(closed, e)
		}
	}
	if open == nil {
		return nil, nil, ErrNoOpenSession
	}
	var dropped Dropped
	current, err := stateFromNode(open, local, &dropped)
	if err != nil {
		return nil, dropped, fmt.Errorf("open session %s: %w", b64(open.IndexInfo.BaseKey), err)
	}
	sort.SliceStable(closed, func(i, j int) bool { return closed[i].IndexInfo.Closed > closed[j].IndexInfo.Closed })
	out := &record.SessionStructure{SessionState: current, PreviousStates: []*record.StateStructure{}}
	for _, e := range closed {
		st, err := stateFromNode(e, local, &dropped)
		if err != nil {
			dropped.Add("closed session %s: %v", b64(e.IndexInfo.BaseKey), err)
			continue
		}
		out.PreviousStates = append(out.PreviousStates, st)
	}
	if _, err := record.NewSessionFromStructure(out, serializer.Session, serializer.State); err != nil {
		return nil, dropped, fmt.Errorf("the converted record does not load: %w", err)
	}
	return serializer.Session.Serialize(out), dropped, nil
}

func stateFromNode(e *nodeEntry, local Local, dropped *Dropped) (*record.StateStructure, error) {
	r := e.CurrentRatchet
	if err := checkKeys(
		keyCheck{"base key", e.IndexInfo.BaseKey, publicKeyLength},
		keyCheck{"remote identity key", e.IndexInfo.RemoteIdentityKey, publicKeyLength},
		keyCheck{"ephemeral public key", r.EphemeralKeyPair.PubKey, publicKeyLength},
		keyCheck{"ephemeral private key", r.EphemeralKeyPair.PrivKey, 32},
		keyCheck{"root key", r.RootKey, 32},
	); err != nil {
		return nil, err
	}
	if e.RegistrationID == nil {
		return nil, errors.New("no remote registration id")
	}
	sendID := b64(r.EphemeralKeyPair.PubKey)
	send := e.Chains.find(sendID)
	if send == nil || send.ChainType != chainSending || send.ChainKey.Key == nil {
		// libsignal-node stores a session it received only once the first
		// message decrypted, which makes the sending chain: this one never
		// talked, and whatsmeow's state would need the chain key
		// libsignal-node threw away.
		return nil, errors.New("no sending chain (the session never decrypted a message)")
	}
	sender, err := chainFromNode(r.EphemeralKeyPair.PubKey, send)
	if err != nil {
		return nil, fmt.Errorf("sending chain: %w", err)
	}
	sender.SenderRatchetKeyPrivate = r.EphemeralKeyPair.PrivKey
	if n := len(send.MessageKeys); n > 0 {
		dropped.Add("session %s: %d unused message keys of its sending chain (whatsmeow keeps none there)", b64(e.IndexInfo.BaseKey), n)
		sender.MessageKeys = []*message.KeysStructure{}
	}
	st := &record.StateStructure{
		LocalIdentityPublic:  append([]byte{curve25519Type}, local.IdentityKey[:]...),
		LocalRegistrationID:  local.RegistrationID,
		PreviousCounter:      r.PreviousCounter,
		RemoteIdentityPublic: e.IndexInfo.RemoteIdentityKey,
		RemoteRegistrationID: *e.RegistrationID,
		RootKey:              r.RootKey,
		SenderBaseKey:        e.IndexInfo.BaseKey,
		SenderChain:          sender,
		SessionVersion:       protocol.CurrentVersion,
	}
	if e.Chains.find(b64(r.LastRemoteEphemeralKey)) == nil {
		// The initiator before any answer: libsignal-node keeps the peer's
		// signed prekey only as lastRemoteEphemeralKey, where whatsmeow has a
		// receiving chain for it (never used: the answer comes on a new
		// ratchet key). A chain with an unusable key records it, so the way
		// back finds it again.
		if err := checkKeys(keyCheck{"last remote ephemeral key", r.LastRemoteEphemeralKey, publicKeyLength}); err != nil {
			return nil, err
		}
		ch, err := chainFromNode(r.LastRemoteEphemeralKey, &nodeChain{ChainKey: nodeChainKey{Counter: -1}, ChainType: chainReceiving})
		if err != nil {
			return nil, err
		}
		st.ReceiverChains = append(st.ReceiverChains, ch)
	}
	for _, nc := range e.Chains {
		if nc.ID == sendID {
			continue
		}
		if nc.Chain.ChainType != chainReceiving {
			dropped.Add("session %s: an old sending chain %s", b64(e.IndexInfo.BaseKey), nc.ID)
			continue
		}
		pub, err := base64.StdEncoding.DecodeString(nc.ID)
		if err != nil {
			return nil, fmt.Errorf("chain id %q is not base64", nc.ID)
		}
		ch, err := chainFromNode(pub, nc.Chain)
		if err != nil {
			return nil, fmt.Errorf("receiving chain %s: %w", nc.ID, err)
		}
		st.ReceiverChains = append(st.ReceiverChains, ch)
	}
	if p := e.PendingPreKey; p != nil {
		if err := checkKeys(keyCheck{"pending prekey base key", p.BaseKey, publicKeyLength}); err != nil {
			return nil, err
		}
		id := optional.NewEmptyUint32()
		if p.PreKeyID != nil && *p.PreKeyID != 0 { // libsignal-node sends no prekey id when it is 0 or absent
			id = optional.NewOptionalUint32(*p.PreKeyID)
		}
		st.PendingPreKey = &record.PendingPreKeyStructure{PreKeyID: id, SignedPreKeyID: p.SignedKeyID, BaseKey: p.BaseKey}
	}
	return st, nil
}

// chainFromNode converts one chain: index = counter + 1, message key seeds
// expanded as go.mau.fi/libsignal's ChainKey.MessageKeys does.
func chainFromNode(pub []byte, c *nodeChain) (*record.ChainStructure, error) {
	if err := checkKeys(keyCheck{"ratchet key", pub, publicKeyLength}); err != nil {
		return nil, err
	}
	if c.ChainKey.Counter < -1 || c.ChainKey.Counter >= 1<<32-1 {
		return nil, fmt.Errorf("chain counter %d out of range", c.ChainKey.Counter)
	}
	key := c.ChainKey.Key
	if key == nil {
		// A closed chain: libsignal-node derives nothing more from it. The
		// whatsmeow state needs some key; a random one derives keys that
		// never verify, so the chain stays as closed as it was (a fixed key
		// would let anyone forge messages on it).
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	} else if len(key) != 32 {
		return nil, fmt.Errorf("chain key of %d bytes", len(key))
	}
	out := &record.ChainStructure{
		SenderRatchetKeyPublic: pub,
		ChainKey:               &chain.KeyStructure{Key: key, Index: uint32(c.ChainKey.Counter + 1)},
		MessageKeys:            []*message.KeysStructure{}, // as whatsmeow writes an empty list
	}
	counters, err := sortedCounters(c.MessageKeys)
	if err != nil {
		return nil, err
	}
	for _, n := range counters {
		seed := c.MessageKeys[fmt.Sprint(n)]
		if len(seed) != 32 {
			return nil, fmt.Errorf("message key %d of %d bytes", n, len(seed))
		}
		material, err := kdf.DeriveSecrets(seed, nil, []byte(message.KdfSalt), message.DerivedSecretsSize)
		if err != nil {
			return nil, err
		}
		out.MessageKeys = append(out.MessageKeys, &message.KeysStructure{
			CipherKey: material[:32], MacKey: material[32:64], IV: material[64:80], Index: n,
		})
	}
	return out, nil
}

// SessionFromWhatsmeow converts whatsmeow's serialized session record into
// a libsignal-node session record (the JSON SessionRecord.deserialize
// reads). now stamps the times libsignal-node keeps and whatsmeow does not
// (when a session was created, last used and closed: they order the
// sessions as whatsmeow's states were ordered).
func SessionFromWhatsmeow(goRecord []byte, now time.Time) ([]byte, Dropped, error) {
	rec, err := serializer.Session.Deserialize(goRecord)
	if err != nil {
		return nil, nil, fmt.Errorf("not a whatsmeow session record: %w", err)
	}
	if rec.SessionState == nil || rec.SessionState.SenderChain == nil {
		return nil, nil, ErrNoOpenSession
	}
	ms := now.UnixMilli()
	var dropped Dropped
	out := nodeRecord{Sessions: map[string]*nodeEntry{}, Version: recordVersion}
	cur, err := stateToNode(rec.SessionState, &dropped)
	if err != nil {
		return nil, dropped, fmt.Errorf("current state: %w", err)
	}
	cur.IndexInfo.Closed, cur.IndexInfo.Used, cur.IndexInfo.Created = closedNever, ms, ms
	out.Sessions[b64(cur.IndexInfo.BaseKey)] = cur
	for i, st := range rec.PreviousStates {
		e, err := stateToNode(st, &dropped)
		if err != nil {
			dropped.Add("previous state %d: %v", i, err)
			continue
		}
		id := b64(e.IndexInfo.BaseKey)
		if _, dup := out.Sessions[id]; dup {
			dropped.Add("previous state %d: a second state with base key %s", i, id)
			continue
		}
		// Newest first in whatsmeow: an older state closed and used earlier.
		t := ms - int64(i) - 1
		e.IndexInfo.Closed, e.IndexInfo.Used, e.IndexInfo.Created = t, t, t
		out.Sessions[id] = e
	}
	b, err := json.Marshal(out)
	return b, dropped, err
}

func stateToNode(st *record.StateStructure, dropped *Dropped) (*nodeEntry, error) {
	if st == nil || st.SenderChain == nil {
		return nil, errors.New("no sender chain")
	}
	if len(st.ReceiverChains) == 0 {
		// whatsmeow stores a session it received only after decrypting the
		// first message, which adds a receiving chain; libsignal-node's
		// state needs the remote ratchet key it comes from.
		return nil, errors.New("no receiving chain (the session never decrypted a message)")
	}
	if slices.Contains(st.ReceiverChains, nil) {
		return nil, errors.New("an empty receiving chain")
	}
	sc := st.SenderChain
	if err := checkKeys(
		keyCheck{"base key", st.SenderBaseKey, publicKeyLength},
		keyCheck{"remote identity key", st.RemoteIdentityPublic, publicKeyLength},
		keyCheck{"sender ratchet public key", sc.SenderRatchetKeyPublic, publicKeyLength},
		keyCheck{"sender ratchet private key", sc.SenderRatchetKeyPrivate, 32},
		keyCheck{"root key", st.RootKey, 32},
	); err != nil {
		return nil, err
	}
	reg := st.RemoteRegistrationID
	e := &nodeEntry{
		RegistrationID: &reg,
		CurrentRatchet: nodeRatchet{
			EphemeralKeyPair:       nodeKeyPair{PubKey: sc.SenderRatchetKeyPublic, PrivKey: sc.SenderRatchetKeyPrivate},
			LastRemoteEphemeralKey: st.ReceiverChains[len(st.ReceiverChains)-1].SenderRatchetKeyPublic,
			PreviousCounter:        st.PreviousCounter,
			RootKey:                st.RootKey,
		},
		IndexInfo: nodeIndexInfo{
			BaseKey: st.SenderBaseKey,
			// whatsmeow does not record who started the session. Ours is
			// certain while our prekey message is unacknowledged; otherwise
			// "theirs" is the safe guess: libsignal-node only refuses to look
			// up a session by a base key of ours, which no peer sends.
			BaseKeyType:       baseKeyTheirs,
			RemoteIdentityKey: st.RemoteIdentityPublic,
		},
	}
	for _, rc := range st.ReceiverChains {
		nc, err := chainToNode(rc, chainReceiving)
		if err != nil {
			return nil, fmt.Errorf("receiving chain: %w", err)
		}
		if n := len(rc.MessageKeys); n > 0 {
			dropped.Add("session %s: %d skipped message keys of a receiving chain (whatsmeow keeps them expanded, libsignal-node needs the seeds): those late messages will need a retry", b64(st.SenderBaseKey), n)
		}
		e.Chains = append(e.Chains, namedChain{b64(rc.SenderRatchetKeyPublic), nc})
	}
	send, err := chainToNode(sc, chainSending)
	if err != nil {
		return nil, fmt.Errorf("sending chain: %w", err)
	}
	e.Chains = append(e.Chains, namedChain{b64(sc.SenderRatchetKeyPublic), send})
	if p := st.PendingPreKey; p != nil {
		if err := checkKeys(keyCheck{"pending prekey base key", p.BaseKey, publicKeyLength}); err != nil {
			return nil, err
		}
		np := &nodePendingPreKey{SignedKeyID: p.SignedPreKeyID, BaseKey: p.BaseKey}
		if p.PreKeyID != nil && !p.PreKeyID.IsEmpty {
			id := p.PreKeyID.Value
			np.PreKeyID = &id
		}
		e.PendingPreKey = np
		e.IndexInfo.BaseKeyType = baseKeyOurs
	}
	return e, nil
}

func chainToNode(c *record.ChainStructure, typ int) (*nodeChain, error) {
	if c == nil {
		return nil, errors.New("an empty chain")
	}
	if err := checkKeys(keyCheck{"ratchet key", c.SenderRatchetKeyPublic, publicKeyLength}); err != nil {
		return nil, err
	}
	if c.ChainKey == nil || len(c.ChainKey.Key) != 32 {
		return nil, errors.New("no 32-byte chain key")
	}
	return &nodeChain{
		ChainKey:    nodeChainKey{Counter: int64(c.ChainKey.Index) - 1, Key: c.ChainKey.Key},
		ChainType:   typ,
		MessageKeys: map[string][]byte{},
	}, nil
}

type keyCheck struct {
	what string
	key  []byte
	size int
}

// checkKeys checks lengths (and the type byte of public keys) before
// go.mau.fi/libsignal decodes them: its ecc.DecodePoint indexes without
// checking.
func checkKeys(checks ...keyCheck) error {
	for _, c := range checks {
		if len(c.key) != c.size {
			return fmt.Errorf("%s has %d bytes, want %d", c.what, len(c.key), c.size)
		}
		if c.size == publicKeyLength && c.key[0] != curve25519Type {
			return fmt.Errorf("%s has type byte %#x, want %#x", c.what, c.key[0], curve25519Type)
		}
	}
	return nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
