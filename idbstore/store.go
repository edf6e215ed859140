package idbstore

import (
	"context"
	"sync"

	"go.mau.fi/util/exsync"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
)

// Store is one device's view of the container: every whatsmeow store
// interface, with keys scoped by our device JID (sqlstore's our_jid).
// Like sqlstore's SQLStore, a new one is made for every Device object, and the
// small per-instance caches sqlstore keeps (contacts, migrated phone numbers)
// live here with the same rules, so results match sqlstore's exactly.
// Record data itself is cached once per container.
type Store struct {
	c   *Container
	e   *engine
	JID string

	preKeyLock sync.Mutex

	contactCache     map[types.JID]*types.ContactInfo
	contactCacheLock sync.Mutex

	migratedPNSessionsCache *exsync.Set[string]

	// macIdx caches the decoded mutation MAC index per collection name.
	macMu  sync.Mutex
	macIdx map[string]*macIndex

	bucketKeysOnce sync.Once
	bucketKeys     [contactBuckets]string
}

var (
	_ store.AllStores                = (*Store)(nil)
	_ store.AllSessionSpecificStores = (*Store)(nil)
)

func newStore(c *Container, jid types.JID) *Store {
	return &Store{
		c:                       c,
		e:                       c.e,
		JID:                     jid.String(),
		contactCache:            make(map[types.JID]*types.ContactInfo),
		migratedPNSessionsCache: exsync.NewSet[string](),
	}
}

// k builds a key of this device's records.
func (s *Store) k(parts ...string) string {
	return key(append([]string{s.JID}, parts...)...)
}

// all is the scan prefix of this device's records.
func (s *Store) all() string { return prefix(s.JID) }

func (s *Store) tx(ctx context.Context) *txn { return s.e.txnFrom(ctx) }

func (s *Store) get(ctx context.Context, table, k string) ([]byte, error) {
	return s.e.get1(ctx, s.tx(ctx), table, k)
}

// The LID map is container-wide, as in sqlstore; Store exposes it too so that
// one value satisfies store.AllStores.

func (s *Store) PutManyLIDMappings(ctx context.Context, mappings []store.LIDMapping) (err error) {
	defer s.c.reported(&err)
	return s.c.lids.PutManyLIDMappings(ctx, mappings)
}

func (s *Store) PutLIDMapping(ctx context.Context, lid, pn types.JID) (err error) {
	defer s.c.reported(&err)
	return s.c.lids.PutLIDMapping(ctx, lid, pn)
}

func (s *Store) GetPNForLID(ctx context.Context, lid types.JID) (_ types.JID, err error) {
	defer s.c.reported(&err)
	return s.c.lids.GetPNForLID(ctx, lid)
}

func (s *Store) GetLIDForPN(ctx context.Context, pn types.JID) (_ types.JID, err error) {
	defer s.c.reported(&err)
	return s.c.lids.GetLIDForPN(ctx, pn)
}

func (s *Store) GetManyLIDsForPNs(ctx context.Context, pns []types.JID) (_ map[types.JID]types.JID, err error) {
	defer s.c.reported(&err)
	return s.c.lids.GetManyLIDsForPNs(ctx, pns)
}
