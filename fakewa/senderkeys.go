//go:build !js

package fakewa

import (
	"context"
	"sync"

	"go.mau.fi/whatsmeow/store"
)

// memSenderKeyStore keeps a simulated phone's sender keys (one record per
// group and sending device), as sqlstore's whatsmeow_sender_keys table does.
// Putting a nil record forgets it: the next send starts a new key.
type memSenderKeyStore struct {
	mu   sync.Mutex
	keys map[[2]string][]byte
}

var _ store.SenderKeyStore = (*memSenderKeyStore)(nil)

func newMemSenderKeyStore() *memSenderKeyStore {
	return &memSenderKeyStore{keys: make(map[[2]string][]byte)}
}

func (m *memSenderKeyStore) PutSenderKey(_ context.Context, group, user string, session []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if session == nil {
		delete(m.keys, [2]string{group, user})
	} else {
		m.keys[[2]string{group, user}] = session
	}
	return nil
}

// clear forgets every key (fault injection).
func (m *memSenderKeyStore) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = make(map[[2]string][]byte)
}

func (m *memSenderKeyStore) GetSenderKey(_ context.Context, group, user string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keys[[2]string{group, user}], nil
}
