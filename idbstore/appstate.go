package idbstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"go.mau.fi/whatsmeow/store"

	"github.com/wasmeow/wasmeow/kv"
)

// App-state sync keys, versions and mutation MACs, as in sqlstore.

func encodeSyncKey(key store.AppStateSyncKey) []byte {
	return newEncoder(len(key.Data) + len(key.Fingerprint) + 16).
		varint(key.Timestamp).bytes(key.Data).bytes(key.Fingerprint).done()
}

func decodeSyncKey(k string, v []byte) (*store.AppStateSyncKey, error) {
	d := newDecoder(v)
	var key store.AppStateSyncKey
	key.Timestamp = d.varint()
	key.Data = d.bytes()
	key.Fingerprint = d.bytes()
	if err := d.finish(tAppStateSyncKey, k); err != nil {
		return nil, err
	}
	return &key, nil
}

// PutAppStateSyncKey inserts the key, or replaces a stored one only if the
// new timestamp is later.
func (s *Store) PutAppStateSyncKey(ctx context.Context, id []byte, key store.AppStateSyncKey) (err error) {
	defer s.c.reported(&err)
	if key.Data == nil || key.Fingerprint == nil {
		return fmt.Errorf("%w: app state sync key %x: NULL data or fingerprint", ErrConstraint, id)
	}
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put app state sync key %x: %w", id, err)
	}
	k := s.k(hex.EncodeToString(id))
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		old, err := s.get(ctx, tAppStateSyncKey, k)
		if err != nil {
			return err
		}
		if old != nil {
			prev, err := decodeSyncKey(k, old)
			if err != nil {
				return err
			}
			if key.Timestamp <= prev.Timestamp {
				return nil
			}
		}
		return s.e.write(ctx, kv.Op{Table: tAppStateSyncKey, Key: k, Value: encodeSyncKey(key)})
	})
}

func (s *Store) GetAppStateSyncKey(ctx context.Context, id []byte) (_ *store.AppStateSyncKey, err error) {
	defer s.c.reported(&err)
	k := s.k(hex.EncodeToString(id))
	v, err := s.get(ctx, tAppStateSyncKey, k)
	if err != nil || v == nil {
		return nil, err
	}
	return decodeSyncKey(k, v)
}

// GetLatestAppStateSyncKeyID returns the ID of the key with the highest
// timestamp; on a tie, the first in key ID order.
func (s *Store) GetLatestAppStateSyncKeyID(ctx context.Context) (_ []byte, err error) {
	defer s.c.reported(&err)
	pairs, err := s.e.scan(ctx, s.tx(ctx), tAppStateSyncKey, s.all(), true)
	if err != nil {
		return nil, err
	}
	var bestID []byte
	bestTS := int64(math.MinInt64)
	for _, p := range pairs {
		key, err := decodeSyncKey(p.Key, p.Value)
		if err != nil {
			return nil, err
		}
		if bestID == nil || key.Timestamp > bestTS {
			idHex, err := lastComponent(p.Key, s.all())
			if err != nil {
				return nil, decodeError(tAppStateSyncKey, p.Key, err)
			}
			id, err := hex.DecodeString(idHex)
			if err != nil {
				return nil, decodeError(tAppStateSyncKey, p.Key, fmt.Errorf("%w: %w", errCorrupt, err))
			}
			if id == nil {
				id = []byte{}
			}
			bestID, bestTS = id, key.Timestamp
		}
	}
	return bestID, nil
}

func encodeAppStateVersion(version uint64, hash [128]byte) []byte {
	return newEncoder(140).uvarint(version).fixed(hash[:]).done()
}

func (s *Store) PutAppStateVersion(ctx context.Context, name string, version uint64, hash [128]byte) (err error) {
	defer s.c.reported(&err)
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put app state version %q: %w", name, err)
	}
	return s.e.write(ctx, kv.Op{Table: tAppStateVersion, Key: s.k(name), Value: encodeAppStateVersion(version, hash)})
}

// GetAppStateVersion returns 0 and a zero hash for an unknown name, the
// correct initial state.
func (s *Store) GetAppStateVersion(ctx context.Context, name string) (version uint64, hash [128]byte, err error) {
	defer s.c.reported(&err)
	k := s.k(name)
	v, err := s.get(ctx, tAppStateVersion, k)
	if err != nil || v == nil {
		return 0, hash, err
	}
	return decodeAppStateVersion(k, v)
}

func decodeAppStateVersion(k string, v []byte) (uint64, [128]byte, error) {
	d := newDecoder(v)
	version := d.uvarint()
	h := d.fixed(128)
	if err := d.finish(tAppStateVersion, k); err != nil {
		return 0, [128]byte{}, err
	}
	return version, [128]byte(h), nil
}

// DeleteAppStateVersion also deletes the name's mutation MACs (sqlstore's
// foreign key cascades), atomically.
func (s *Store) DeleteAppStateVersion(ctx context.Context, name string) (err error) {
	defer s.c.reported(&err)
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		ops := []kv.Op{{Table: tAppStateVersion, Key: s.k(name), Delete: true}}
		pairs, err := s.e.scan(ctx, s.tx(ctx), tAppStateMACPatch, prefix(s.JID, name), true)
		if err != nil {
			return err
		}
		for _, p := range pairs {
			ops = append(ops, kv.Op{Table: tAppStateMACPatch, Key: p.Key, Delete: true})
		}
		return s.e.write(ctx, ops...)
	})
}

// Mutation MACs are stored one record per (device, collection, version):
// whatsmeow writes them a patch at a time and looks them up one by one while
// decoding the next patch, so one IndexedDB record per patch (a snapshot's
// 5,000 MACs are one put, not 5,000) and a decoded index in memory serve
// both patterns. Key: our|name|version (16 hex digits, so versions sort).
func macPatchKey(our, name string, version uint64) string {
	return key(our, name, fmt.Sprintf("%016x", version))
}

// macEntry is one (index MAC, value MAC) pair of a patch record; both slice
// the record's bytes, which are never modified.
type macEntry struct{ index, value []byte }

const macSize = 32

func encodeMACPatch(entries []macEntry) []byte {
	e := newEncoder(len(entries)*2*macSize + 4).uvarint(uint64(len(entries)))
	for _, m := range entries {
		e.fixed(m.index).fixed(m.value)
	}
	return e.done()
}

// decodeMACPatch splits a patch record without copying its MACs.
func decodeMACPatch(k string, v []byte) ([]macEntry, error) {
	d := newDecoder(v)
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b))/(2*macSize) {
		d.fail(fmt.Sprintf("MAC count %d", n))
	}
	if err := d.finishAfter(int(n)*2*macSize, tAppStateMACPatch, k); err != nil {
		return nil, err
	}
	rest := d.b
	out := make([]macEntry, n)
	for i := range out {
		out[i] = macEntry{index: rest[:macSize:macSize], value: rest[macSize : 2*macSize : 2*macSize]}
		rest = rest[2*macSize:]
	}
	return out, nil
}

// macIndex is the newest value MAC of every index MAC of one collection,
// built from the cached patch records; gen is the table generation it was
// built at, so any later write to the table makes it stale.
type macIndex struct {
	gen    uint64
	latest map[string][]byte
}

// PutAppStateMutationMACs inserts MACs under version, all or none. Like
// sqlstore's plain INSERT it refuses duplicates, MACs that are not 32 bytes,
// and names without a stored version (the foreign key).
func (s *Store) PutAppStateMutationMACs(ctx context.Context, name string, version uint64, mutations []store.AppStateMutationMAC) (err error) {
	defer s.c.reported(&err)
	if len(mutations) == 0 {
		return nil
	}
	ver, err := s.get(ctx, tAppStateVersion, s.k(name))
	if err != nil {
		return err
	}
	if ver == nil {
		return fmt.Errorf("%w: app state mutation MACs for %q: no app state version (foreign key)", ErrConstraint, name)
	}
	// Load the name's MACs once: lookups decoding the next patch are then
	// answered from memory.
	if err = s.e.ensureLoaded(ctx, tAppStateMACPatch, prefix(s.JID, name)); err != nil {
		return err
	}
	k := macPatchKey(s.JID, name, version)
	old, err := s.get(ctx, tAppStateMACPatch, k)
	if err != nil {
		return err
	}
	var entries []macEntry
	if old != nil {
		if entries, err = decodeMACPatch(k, old); err != nil {
			return err
		}
	}
	seen := make(map[string]struct{}, len(entries)+len(mutations))
	for _, m := range entries {
		seen[string(m.index)] = struct{}{}
	}
	entries = slices.Grow(entries, len(mutations))
	for _, m := range mutations {
		if len(m.IndexMAC) != macSize || len(m.ValueMAC) != macSize {
			return fmt.Errorf("%w: app state mutation MAC for %q: index/value MAC lengths %d/%d, want 32", ErrConstraint, name, len(m.IndexMAC), len(m.ValueMAC))
		}
		if _, dup := seen[string(m.IndexMAC)]; dup {
			return fmt.Errorf("%w: app state mutation MAC %x already stored in %q version %d", ErrConstraint, m.IndexMAC, name, version)
		}
		seen[string(m.IndexMAC)] = struct{}{}
		entries = append(entries, macEntry{index: m.IndexMAC, value: m.ValueMAC})
	}
	return s.e.write(ctx, kv.Op{Table: tAppStateMACPatch, Key: k, Value: encodeMACPatch(entries)})
}

// DeleteAppStateMutationMACs deletes every version of the given index MACs:
// each patch record holding one of them is rewritten without it (or deleted
// when nothing is left), in one unit.
func (s *Store) DeleteAppStateMutationMACs(ctx context.Context, name string, indexMACs [][]byte) (err error) {
	defer s.c.reported(&err)
	if len(indexMACs) == 0 {
		return nil
	}
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		all, err := s.e.scan(ctx, s.tx(ctx), tAppStateMACPatch, prefix(s.JID, name), true)
		if err != nil {
			return err
		}
		want := make(map[string]struct{}, len(indexMACs))
		for _, m := range indexMACs {
			want[string(m)] = struct{}{}
		}
		var ops []kv.Op
		for _, p := range all {
			entries, err := decodeMACPatch(p.Key, p.Value)
			if err != nil {
				return err
			}
			kept := make([]macEntry, 0, len(entries))
			for _, m := range entries {
				if _, ok := want[string(m.index)]; !ok {
					kept = append(kept, m)
				}
			}
			switch {
			case len(kept) == len(entries):
			case len(kept) == 0:
				ops = append(ops, kv.Op{Table: tAppStateMACPatch, Key: p.Key, Delete: true})
			default:
				ops = append(ops, kv.Op{Table: tAppStateMACPatch, Key: p.Key, Value: encodeMACPatch(kept)})
			}
		}
		return s.e.write(ctx, ops...)
	})
}

// GetAppStateMutationMAC returns the value MAC of the highest version of
// indexMAC, or nil.
func (s *Store) GetAppStateMutationMAC(ctx context.Context, name string, indexMAC []byte) (_ []byte, err error) {
	defer s.c.reported(&err)
	// One scan loads the whole name; later lookups stay in memory.
	if err := s.e.ensureLoaded(ctx, tAppStateMACPatch, prefix(s.JID, name)); err != nil {
		return nil, err
	}
	if tx := s.tx(ctx); tx != nil && tx.touches(tAppStateMACPatch) {
		// The transaction's own MAC writes are not in the shared index.
		return s.macFromRecords(ctx, tx, name, indexMAC)
	}
	idx, err := s.macIndexOf(ctx, name)
	if err != nil {
		return nil, err
	}
	v, ok := idx[string(indexMAC)]
	if !ok {
		return nil, nil
	}
	return slices.Clone(v), nil
}

// macIndexOf returns the index of name, rebuilding it from the cached patch
// records when the table changed since it was built.
func (s *Store) macIndexOf(ctx context.Context, name string) (map[string][]byte, error) {
	gen := s.e.tableGen(tAppStateMACPatch) // read before the scan: a racing write makes it stale, never wrong
	s.macMu.Lock()
	idx := s.macIdx[name]
	s.macMu.Unlock()
	if idx != nil && idx.gen == gen {
		return idx.latest, nil
	}
	pairs, err := s.e.scan(ctx, nil, tAppStateMACPatch, prefix(s.JID, name), true)
	if err != nil {
		return nil, err
	}
	latest := make(map[string][]byte)
	for _, p := range pairs { // ascending versions: the newest wins
		entries, err := decodeMACPatch(p.Key, p.Value)
		if err != nil {
			return nil, err
		}
		for _, m := range entries {
			latest[string(m.index)] = m.value
		}
	}
	s.macMu.Lock()
	if s.macIdx == nil {
		s.macIdx = make(map[string]*macIndex)
	}
	s.macIdx[name] = &macIndex{gen: gen, latest: latest}
	s.macMu.Unlock()
	return latest, nil
}

// macFromRecords is the lookup through a transaction's view: newest version first.
func (s *Store) macFromRecords(ctx context.Context, tx *txn, name string, indexMAC []byte) ([]byte, error) {
	pairs, err := s.e.scan(ctx, tx, tAppStateMACPatch, prefix(s.JID, name), true)
	if err != nil {
		return nil, err
	}
	for i := len(pairs) - 1; i >= 0; i-- {
		entries, err := decodeMACPatch(pairs[i].Key, pairs[i].Value)
		if err != nil {
			return nil, err
		}
		for _, m := range entries {
			if string(m.index) == string(indexMAC) {
				return slices.Clone(m.value), nil
			}
		}
	}
	return nil, nil
}
