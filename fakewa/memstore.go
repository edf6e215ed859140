//go:build !js

package fakewa

import (
	"context"
	"strings"
	"sync"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
)

// memSignalStore keeps a simulated phone's Signal state in memory: the
// identities, sessions and prekeys parts of a whatsmeow store.Device, with
// the semantics of sqlstore for one device.
type memSignalStore struct {
	mu         sync.Mutex
	identities map[string][32]byte
	sessions   map[string][]byte
	preKeys    map[uint32]*keys.PreKey
	uploaded   map[uint32]bool
	lastPreKey uint32
}

var (
	_ store.IdentityStore = (*memSignalStore)(nil)
	_ store.SessionStore  = (*memSignalStore)(nil)
	_ store.PreKeyStore   = (*memSignalStore)(nil)
)

func newMemSignalStore() *memSignalStore {
	return &memSignalStore{
		identities: make(map[string][32]byte),
		sessions:   make(map[string][]byte),
		preKeys:    make(map[uint32]*keys.PreKey),
		uploaded:   make(map[uint32]bool),
	}
}

// deletePrefix removes the keys of one user ("user:" prefix), as sqlstore's LIKE 'phone:%'.
func deletePrefix[V any](m map[string]V, user string) {
	for k := range m {
		if strings.HasPrefix(k, user+":") {
			delete(m, k)
		}
	}
}

func (m *memSignalStore) PutIdentity(_ context.Context, address string, key [32]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.identities[address] = key
	return nil
}

func (m *memSignalStore) DeleteAllIdentities(_ context.Context, phone string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	deletePrefix(m.identities, phone)
	return nil
}

func (m *memSignalStore) DeleteIdentity(_ context.Context, address string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.identities, address)
	return nil
}

func (m *memSignalStore) IsTrustedIdentity(_ context.Context, address string, key [32]byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	existing, ok := m.identities[address]
	return !ok || existing == key, nil // unknown identities are trusted and saved later
}

func (m *memSignalStore) GetSession(_ context.Context, address string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[address], nil
}

func (m *memSignalStore) HasSession(_ context.Context, address string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.sessions[address]
	return ok, nil
}

func (m *memSignalStore) GetManySessions(_ context.Context, addresses []string) (map[string][]byte, error) {
	if len(addresses) == 0 {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]byte, len(addresses))
	for _, a := range addresses {
		out[a] = m.sessions[a]
	}
	return out, nil
}

func (m *memSignalStore) PutSession(_ context.Context, address string, session []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[address] = session
	return nil
}

func (m *memSignalStore) PutManySessions(_ context.Context, sessions map[string][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for a, s := range sessions {
		m.sessions[a] = s
	}
	return nil
}

func (m *memSignalStore) DeleteAllSessions(_ context.Context, phone string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	deletePrefix(m.sessions, phone)
	return nil
}

func (m *memSignalStore) DeleteSession(_ context.Context, address string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, address)
	return nil
}

// forgetSessions drops every session (a fault; see Server.ForgetSessions).
func (m *memSignalStore) forgetSessions() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.sessions)
}

// MigratePNToLID moves a user's sessions and identities from its phone-number
// address to its LID address, as sqlstore does.
func (m *memSignalStore) MigratePNToLID(_ context.Context, pn, lid types.JID) error {
	pnUser, lidUser := pn.SignalAddressUser(), lid.SignalAddressUser()
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.sessions {
		if strings.HasPrefix(k, pnUser+":") {
			m.sessions[lidUser+k[len(pnUser):]] = v
			delete(m.sessions, k)
		}
	}
	for k, v := range m.identities {
		if strings.HasPrefix(k, pnUser+":") {
			m.identities[lidUser+k[len(pnUser):]] = v
			delete(m.identities, k)
		}
	}
	return nil
}

func (m *memSignalStore) genLocked(uploaded bool) *keys.PreKey {
	m.lastPreKey++
	k := keys.NewPreKey(m.lastPreKey)
	m.preKeys[k.KeyID] = k
	m.uploaded[k.KeyID] = uploaded
	return k
}

func (m *memSignalStore) GetOrGenPreKeys(_ context.Context, count uint32) ([]*keys.PreKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*keys.PreKey, 0, count)
	for id := uint32(1); id <= m.lastPreKey && uint32(len(out)) < count; id++ {
		if k, ok := m.preKeys[id]; ok && !m.uploaded[id] {
			out = append(out, k)
		}
	}
	for uint32(len(out)) < count {
		out = append(out, m.genLocked(false))
	}
	return out, nil
}

func (m *memSignalStore) GenOnePreKey(_ context.Context) (*keys.PreKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.genLocked(true), nil
}

func (m *memSignalStore) GetPreKey(_ context.Context, id uint32) (*keys.PreKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.preKeys[id], nil
}

func (m *memSignalStore) RemovePreKey(_ context.Context, id uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.preKeys, id)
	delete(m.uploaded, id)
	return nil
}

func (m *memSignalStore) MarkPreKeysAsUploaded(_ context.Context, upToID uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.preKeys {
		if id <= upToID {
			m.uploaded[id] = true
		}
	}
	return nil
}

func (m *memSignalStore) UploadedPreKeyCount(_ context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, up := range m.uploaded {
		if up {
			n++
		}
	}
	return n, nil
}

// memAppState keeps a phone's app state keys and its own view of the app
// state (versions and mutation MACs), as whatsmeow's appstate.Processor needs
// to encode patches.
type memAppState struct {
	mu       sync.Mutex
	keys     map[string]store.AppStateSyncKey
	latest   []byte
	versions map[string]appStateVersion
	macs     map[string]map[string][]byte // collection -> index MAC -> value MAC
}

type appStateVersion struct {
	version uint64
	hash    [128]byte
}

var (
	_ store.AppStateSyncKeyStore = (*memAppState)(nil)
	_ store.AppStateStore        = (*memAppState)(nil)
)

func newMemAppState() *memAppState {
	return &memAppState{
		keys:     make(map[string]store.AppStateSyncKey),
		versions: make(map[string]appStateVersion),
		macs:     make(map[string]map[string][]byte),
	}
}

func (m *memAppState) PutAppStateSyncKey(_ context.Context, id []byte, key store.AppStateSyncKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[string(id)] = key
	if prev, ok := m.keys[string(m.latest)]; !ok || key.Timestamp >= prev.Timestamp {
		m.latest = append([]byte(nil), id...)
	}
	return nil
}

func (m *memAppState) GetAppStateSyncKey(_ context.Context, id []byte) (*store.AppStateSyncKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keys[string(id)]; ok {
		return &k, nil
	}
	return nil, nil
}

func (m *memAppState) GetLatestAppStateSyncKeyID(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.latest, nil
}

func (m *memAppState) PutAppStateVersion(_ context.Context, name string, version uint64, hash [128]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.versions[name] = appStateVersion{version, hash}
	return nil
}

func (m *memAppState) GetAppStateVersion(_ context.Context, name string) (uint64, [128]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.versions[name]
	return v.version, v.hash, nil
}

func (m *memAppState) DeleteAppStateVersion(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.versions, name)
	delete(m.macs, name)
	return nil
}

func (m *memAppState) PutAppStateMutationMACs(_ context.Context, name string, _ uint64, mutations []store.AppStateMutationMAC) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.macs[name] == nil {
		m.macs[name] = make(map[string][]byte)
	}
	for _, mm := range mutations {
		m.macs[name][string(mm.IndexMAC)] = mm.ValueMAC
	}
	return nil
}

func (m *memAppState) DeleteAppStateMutationMACs(_ context.Context, name string, indexMACs [][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, im := range indexMACs {
		delete(m.macs[name], string(im))
	}
	return nil
}

func (m *memAppState) GetAppStateMutationMAC(_ context.Context, name string, indexMAC []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.macs[name][string(indexMAC)], nil
}
