package idbstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"

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
func (s *Store) PutAppStateSyncKey(ctx context.Context, id []byte, key store.AppStateSyncKey) error {
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

func (s *Store) GetAppStateSyncKey(ctx context.Context, id []byte) (*store.AppStateSyncKey, error) {
	k := s.k(hex.EncodeToString(id))
	v, err := s.get(ctx, tAppStateSyncKey, k)
	if err != nil || v == nil {
		return nil, err
	}
	return decodeSyncKey(k, v)
}

// GetLatestAppStateSyncKeyID returns the ID of the key with the highest
// timestamp; on a tie, the first in key ID order.
func (s *Store) GetLatestAppStateSyncKeyID(ctx context.Context) ([]byte, error) {
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

func (s *Store) PutAppStateVersion(ctx context.Context, name string, version uint64, hash [128]byte) error {
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put app state version %q: %w", name, err)
	}
	return s.e.write(ctx, kv.Op{Table: tAppStateVersion, Key: s.k(name), Value: encodeAppStateVersion(version, hash)})
}

// GetAppStateVersion returns 0 and a zero hash for an unknown name, the
// correct initial state.
func (s *Store) GetAppStateVersion(ctx context.Context, name string) (version uint64, hash [128]byte, err error) {
	k := s.k(name)
	v, err := s.get(ctx, tAppStateVersion, k)
	if err != nil || v == nil {
		return 0, hash, err
	}
	d := newDecoder(v)
	version = d.uvarint()
	h := d.fixed(128)
	if err = d.finish(tAppStateVersion, k); err != nil {
		return 0, hash, err
	}
	return version, [128]byte(h), nil
}

// DeleteAppStateVersion also deletes the name's mutation MACs (sqlstore's
// foreign key cascades), atomically.
func (s *Store) DeleteAppStateVersion(ctx context.Context, name string) error {
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		ops := []kv.Op{{Table: tAppStateVersion, Key: s.k(name), Delete: true}}
		pairs, err := s.e.scan(ctx, s.tx(ctx), tAppStateMAC, prefix(s.JID, name), true)
		if err != nil {
			return err
		}
		for _, p := range pairs {
			ops = append(ops, kv.Op{Table: tAppStateMAC, Key: p.Key, Delete: true})
		}
		return s.e.write(ctx, ops...)
	})
}

// MAC keys: our|name|hex(index MAC)|version as 16 hex digits, so that the
// versions of one index MAC are adjacent and ordered.
func macPrefix(our, name string, indexMAC []byte) string {
	return prefix(our, name, hex.EncodeToString(indexMAC))
}

func macVersion(version uint64) string { return fmt.Sprintf("%016x", version) }

func decodeMAC(k string, v []byte) ([]byte, error) {
	d := newDecoder(v)
	mac := d.fixed(32)
	if err := d.finish(tAppStateMAC, k); err != nil {
		return nil, err
	}
	return mac, nil
}

// PutAppStateMutationMACs inserts MACs under version, all or none. Like
// sqlstore's plain INSERT it refuses duplicates, MACs that are not 32 bytes,
// and names without a stored version (the foreign key).
func (s *Store) PutAppStateMutationMACs(ctx context.Context, name string, version uint64, mutations []store.AppStateMutationMAC) error {
	if len(mutations) == 0 {
		return nil
	}
	// Checks first, then one write call: no transaction overlay needed.
	ver, err := s.get(ctx, tAppStateVersion, s.k(name))
	if err != nil {
		return err
	}
	if ver == nil {
		return fmt.Errorf("%w: app state mutation MACs for %q: no app state version (foreign key)", ErrConstraint, name)
	}
	// Load the name's MACs once: the duplicate checks below and the
	// lookups decoding the next patch are then answered from memory.
	if err = s.e.ensureLoaded(ctx, tAppStateMAC, prefix(s.JID, name)); err != nil {
		return err
	}
	ks := make([]string, len(mutations))
	seen := make(map[string]struct{}, len(mutations))
	ops := make([]kv.Op, len(mutations))
	for i, m := range mutations {
		if len(m.IndexMAC) != 32 || len(m.ValueMAC) != 32 {
			return fmt.Errorf("%w: app state mutation MAC for %q: index/value MAC lengths %d/%d, want 32", ErrConstraint, name, len(m.IndexMAC), len(m.ValueMAC))
		}
		ks[i] = macPrefix(s.JID, name, m.IndexMAC) + macVersion(version)
		if _, dup := seen[ks[i]]; dup {
			return fmt.Errorf("%w: duplicate app state mutation MAC %x in %q version %d", ErrConstraint, m.IndexMAC, name, version)
		}
		seen[ks[i]] = struct{}{}
		ops[i] = kv.Op{Table: tAppStateMAC, Key: ks[i], Value: newEncoder(32).fixed(m.ValueMAC).done()}
	}
	existing, err := s.e.get(ctx, s.tx(ctx), tAppStateMAC, ks)
	if err != nil {
		return err
	}
	for i, v := range existing {
		if v != nil {
			return fmt.Errorf("%w: app state mutation MAC %x already stored in %q version %d", ErrConstraint, mutations[i].IndexMAC, name, version)
		}
	}
	return s.e.write(ctx, ops...)
}

// DeleteAppStateMutationMACs deletes every version of the given index MACs.
func (s *Store) DeleteAppStateMutationMACs(ctx context.Context, name string, indexMACs [][]byte) error {
	if len(indexMACs) == 0 {
		return nil
	}
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		all, err := s.e.scan(ctx, s.tx(ctx), tAppStateMAC, prefix(s.JID, name), true)
		if err != nil {
			return err
		}
		want := make(map[string]struct{}, len(indexMACs))
		for _, m := range indexMACs {
			want[macPrefix(s.JID, name, m)] = struct{}{}
		}
		var ops []kv.Op
		for _, p := range all {
			if len(p.Key) < 16 {
				continue
			}
			if _, ok := want[p.Key[:len(p.Key)-16]]; ok {
				ops = append(ops, kv.Op{Table: tAppStateMAC, Key: p.Key, Delete: true})
			}
		}
		return s.e.write(ctx, ops...)
	})
}

// GetAppStateMutationMAC returns the value MAC of the highest version of
// indexMAC, or nil.
func (s *Store) GetAppStateMutationMAC(ctx context.Context, name string, indexMAC []byte) ([]byte, error) {
	// One scan loads the whole name; later lookups stay in memory.
	if err := s.e.ensureLoaded(ctx, tAppStateMAC, prefix(s.JID, name)); err != nil {
		return nil, err
	}
	pairs, err := s.e.scan(ctx, s.tx(ctx), tAppStateMAC, macPrefix(s.JID, name, indexMAC), false)
	if err != nil || len(pairs) == 0 {
		return nil, err
	}
	last := pairs[len(pairs)-1]
	return decodeMAC(last.Key, last.Value)
}
