package core

import (
	"context"

	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// Storage is where one session's records live: IndexedDB behind a tab lock,
// the page's own key store, or memory. The binding gives the browser ones;
// MemoryStorage is here.
type Storage interface {
	// Open opens the session's backend (taking whatever lock guards it).
	Open(ctx context.Context) (kv.Backend, error)
	// Clear erases what the open backend holds that closing and Remove do
	// not (a user's own store); called after a flush, before the close.
	Clear(ctx context.Context) error
	// Remove deletes the closed backend's data (a database).
	Remove(ctx context.Context) error
	// Release gives up what Open took (a lock); the data stays.
	Release()
}

// MemoryStorage keeps a session in memory (strategy none): it ends with the
// client.
type MemoryStorage struct{}

func (MemoryStorage) Open(context.Context) (kv.Backend, error) { return memkv.New(), nil }
func (MemoryStorage) Clear(context.Context) error              { return nil }
func (MemoryStorage) Remove(context.Context) error             { return nil }
func (MemoryStorage) Release()                                 {}

// RemoteStore is the user's store of session snapshots (strategy remote);
// session is the clientId.
type RemoteStore interface {
	SessionExists(ctx context.Context, session string) (bool, error)
	Extract(ctx context.Context, session string) ([]byte, error)
	Save(ctx context.Context, session string, data []byte) error
	Delete(ctx context.Context, session string) error
}
