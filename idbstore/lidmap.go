package idbstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/rs/zerolog"
	"go.mau.fi/util/exslices"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/kv"
)

// lidMap is the container-wide LID <-> phone number map. The stored form is
// two tables kept in step (lid -> pn, and pn -> lid for the UNIQUE(pn)
// index); the in-memory caches follow sqlstore's CachedLIDMap rule for rule,
// including which lookups it caches, so results match it exactly.
type lidMap struct {
	c *Container

	pnToLIDCache map[string]string
	lidToPNCache map[string]string
	cacheFilled  bool
	lidCacheLock sync.RWMutex
}

var _ store.LIDStore = (*lidMap)(nil)

func newLIDMap(c *Container) *lidMap {
	return &lidMap{c: c, pnToLIDCache: make(map[string]string), lidToPNCache: make(map[string]string)}
}

func encodeLIDUser(user string) []byte { return newEncoder(len(user) + 2).str(user).done() }

func decodeLIDUser(table, k string, v []byte) (string, error) {
	d := newDecoder(v)
	user := d.str()
	return user, d.finish(table, k)
}

// FillCache loads the whole map into memory, like sqlstore's: afterwards
// lookups never read the backend.
func (m *lidMap) FillCache(ctx context.Context) (err error) {
	defer m.c.reported(&err)
	m.lidCacheLock.Lock()
	defer m.lidCacheLock.Unlock()
	pairs, err := m.c.e.scan(ctx, m.c.e.txnFrom(ctx), tLIDByLID, "", true)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		lid, err := unescapeComponent(p.Key)
		if err != nil {
			return decodeError(tLIDByLID, p.Key, err)
		}
		pn, err := decodeLIDUser(tLIDByLID, p.Key, p.Value)
		if err != nil {
			return err
		}
		m.pnToLIDCache[pn] = lid
		m.lidToPNCache[lid] = pn
	}
	m.cacheFilled = true
	return nil
}

func (m *lidMap) getLIDMapping(ctx context.Context, source types.JID, targetServer, table string, sourceToTarget, targetToSource map[string]string) (types.JID, error) {
	m.lidCacheLock.RLock()
	targetUser, ok := sourceToTarget[source.User]
	cacheFilled := m.cacheFilled
	m.lidCacheLock.RUnlock()
	if ok || cacheFilled {
		if targetUser == "" {
			return types.JID{}, nil
		}
		return types.JID{User: targetUser, Device: source.Device, Server: targetServer}, nil
	}
	m.lidCacheLock.Lock()
	defer m.lidCacheLock.Unlock()
	k := key(source.User)
	v, err := m.c.e.get1(ctx, m.c.e.txnFrom(ctx), table, k)
	if err != nil {
		return types.JID{}, err
	}
	targetUser = ""
	if v != nil {
		if targetUser, err = decodeLIDUser(table, k, v); err != nil {
			return types.JID{}, err
		}
	}
	sourceToTarget[source.User] = targetUser
	if targetUser != "" {
		targetToSource[targetUser] = source.User
		return types.JID{User: targetUser, Device: source.Device, Server: targetServer}, nil
	}
	return types.JID{}, nil
}

func (m *lidMap) GetLIDForPN(ctx context.Context, pn types.JID) (_ types.JID, err error) {
	defer m.c.reported(&err)
	if pn.Server != types.DefaultUserServer {
		return types.JID{}, fmt.Errorf("invalid GetLIDForPN call with non-PN JID %s", pn)
	}
	return m.getLIDMapping(ctx, pn, types.HiddenUserServer, tLIDByPN, m.pnToLIDCache, m.lidToPNCache)
}

func (m *lidMap) GetPNForLID(ctx context.Context, lid types.JID) (_ types.JID, err error) {
	defer m.c.reported(&err)
	if lid.Server != types.HiddenUserServer {
		return types.JID{}, fmt.Errorf("invalid GetPNForLID call with non-LID JID %s", lid)
	}
	return m.getLIDMapping(ctx, lid, types.DefaultUserServer, tLIDByLID, m.lidToPNCache, m.pnToLIDCache)
}

// GetManyLIDsForPNs answers cached PNs from memory and the rest with one
// backend read. As in sqlstore, cached answers keep the device of the PN and
// answers read from the store do not.
func (m *lidMap) GetManyLIDsForPNs(ctx context.Context, pns []types.JID) (_ map[types.JID]types.JID, err error) {
	defer m.c.reported(&err)
	if len(pns) == 0 {
		return nil, nil
	}
	result := make(map[types.JID]types.JID, len(pns))
	m.lidCacheLock.RLock()
	var missingPNs []string
	missingPNDevices := make(map[string][]types.JID)
	for _, pn := range pns {
		if pn.Server != types.DefaultUserServer {
			continue
		}
		if lidUser, ok := m.pnToLIDCache[pn.User]; ok && lidUser != "" {
			result[pn] = types.JID{User: lidUser, Device: pn.Device, Server: types.HiddenUserServer}
		} else if !m.cacheFilled {
			if _, seen := missingPNDevices[pn.User]; !seen {
				missingPNs = append(missingPNs, pn.User)
			}
			missingPNDevices[pn.User] = append(missingPNDevices[pn.User], pn)
		}
	}
	m.lidCacheLock.RUnlock()
	if len(missingPNs) == 0 {
		return result, nil
	}

	m.lidCacheLock.Lock()
	defer m.lidCacheLock.Unlock()
	ks := make([]string, len(missingPNs))
	for i, pn := range missingPNs {
		ks[i] = key(pn)
	}
	vals, err := m.c.e.get(ctx, m.c.e.txnFrom(ctx), tLIDByPN, ks)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if v == nil {
			continue
		}
		lid, err := decodeLIDUser(tLIDByPN, ks[i], v)
		if err != nil {
			return result, err
		}
		pn := missingPNs[i]
		m.pnToLIDCache[pn] = lid
		m.lidToPNCache[lid] = pn
		for _, dev := range missingPNDevices[pn] {
			lidDev := dev
			lidDev.Server = types.HiddenUserServer
			lidDev.User = lid
			result[dev] = lidDev.ToNonAD()
		}
	}
	return result, nil
}

func (m *lidMap) PutLIDMapping(ctx context.Context, lid, pn types.JID) (err error) {
	defer m.c.reported(&err)
	if lid.Server != types.HiddenUserServer || pn.Server != types.DefaultUserServer {
		return fmt.Errorf("invalid PutLIDMapping call %s/%s", lid, pn)
	}
	m.lidCacheLock.Lock()
	defer m.lidCacheLock.Unlock()
	if cachedLID, ok := m.pnToLIDCache[pn.User]; ok && cachedLID == lid.User {
		return nil
	}
	return m.c.e.doTxn(ctx, func(ctx context.Context) error {
		return m.unlockedPutLIDMapping(ctx, lid, pn)
	})
}

func (m *lidMap) PutManyLIDMappings(ctx context.Context, mappings []store.LIDMapping) (err error) {
	defer m.c.reported(&err)
	m.lidCacheLock.Lock()
	defer m.lidCacheLock.Unlock()
	mappings = slices.DeleteFunc(slices.Clone(mappings), func(mapping store.LIDMapping) bool {
		if mapping.LID.Server != types.HiddenUserServer || mapping.PN.Server != types.DefaultUserServer {
			zerolog.Ctx(ctx).Debug().
				Stringer("entry_lid", mapping.LID).
				Stringer("entry_pn", mapping.PN).
				Msg("Ignoring invalid entry in PutManyLIDMappings")
			return true
		}
		cachedLID, ok := m.pnToLIDCache[mapping.PN.User]
		return ok && cachedLID == mapping.LID.User
	})
	mappings = exslices.DeduplicateUnsortedOverwrite(mappings)
	if len(mappings) == 0 {
		return nil
	}
	// Read everything the loop will look at in two backend round trips: whole
	// tables for big batches (range reads are much cheaper per record than
	// key reads), else the keys.
	if len(mappings) > bulkThreshold {
		if err := m.c.e.ensureLoaded(ctx, tLIDByLID, ""); err != nil {
			return err
		}
		if err := m.c.e.ensureLoaded(ctx, tLIDByPN, ""); err != nil {
			return err
		}
	}
	lidKeys, pnKeys := make([]string, len(mappings)), make([]string, len(mappings))
	for i, mapping := range mappings {
		lidKeys[i], pnKeys[i] = key(mapping.LID.User), key(mapping.PN.User)
	}
	if _, err := m.c.e.get(ctx, m.c.e.txnFrom(ctx), tLIDByLID, lidKeys); err != nil {
		return err
	}
	if _, err := m.c.e.get(ctx, m.c.e.txnFrom(ctx), tLIDByPN, pnKeys); err != nil {
		return err
	}
	return m.c.e.doTxn(ctx, func(ctx context.Context) error {
		for _, mapping := range mappings {
			if err := m.unlockedPutLIDMapping(ctx, mapping.LID, mapping.PN); err != nil {
				return err
			}
		}
		return nil
	})
}

// unlockedPutLIDMapping is sqlstore's DELETE of the PN's other mapping and
// upsert of lid -> pn, on both tables, then the cache update.
func (m *lidMap) unlockedPutLIDMapping(ctx context.Context, lid, pn types.JID) error {
	e := m.c.e
	tx := e.txnFrom(ctx)
	lidKey, pnKey := key(lid.User), key(pn.User)
	vals, err := e.get(ctx, tx, tLIDByPN, []string{pnKey})
	if err != nil {
		return err
	}
	var ops []kv.Op
	if vals[0] != nil {
		oldLID, err := decodeLIDUser(tLIDByPN, pnKey, vals[0])
		if err != nil {
			return err
		}
		if oldLID != lid.User {
			ops = append(ops, kv.Op{Table: tLIDByLID, Key: key(oldLID), Delete: true}, kv.Op{Table: tLIDByPN, Key: pnKey, Delete: true})
		}
	}
	oldPNVal, err := e.get1(ctx, tx, tLIDByLID, lidKey)
	if err != nil {
		return err
	}
	oldPN := ""
	if oldPNVal != nil {
		if oldPN, err = decodeLIDUser(tLIDByLID, lidKey, oldPNVal); err != nil {
			return err
		}
	}
	if oldPNVal == nil || oldPN != pn.User {
		if oldPNVal != nil {
			ops = append(ops, kv.Op{Table: tLIDByPN, Key: key(oldPN), Delete: true})
		}
		ops = append(ops,
			kv.Op{Table: tLIDByLID, Key: lidKey, Value: encodeLIDUser(pn.User)},
			kv.Op{Table: tLIDByPN, Key: pnKey, Value: encodeLIDUser(lid.User)})
	}
	if err = e.write(ctx, ops...); err != nil {
		return err
	}
	m.pnToLIDCache[pn.User] = lid.User
	m.lidToPNCache[lid.User] = pn.User
	return nil
}
