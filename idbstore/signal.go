package idbstore

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/kv"
)

// Identities, sessions and the phone-number-to-LID migration of both (plus
// sender keys), as in sqlstore's store.go.

func encodeIdentity(key [32]byte) []byte { return newEncoder(32).fixed(key[:]).done() }

func decodeIdentity(k string, v []byte) ([32]byte, error) {
	d := newDecoder(v)
	b := d.fixed(32)
	if err := d.finish(tIdentity, k); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(b), nil
}

// Sessions keep NULL apart from empty, as the SQL column does.
func encodeBlob(p []byte) []byte { return newEncoder(len(p) + 4).nullable(p).done() }

func decodeBlob(table, k string, v []byte) ([]byte, error) {
	d := newDecoder(v)
	b := d.nullable()
	if err := d.finish(table, k); err != nil {
		return nil, err
	}
	return b, nil
}

// likeRecords returns this device's records of table whose component after
// our JID matches the LIKE pattern, with that component unescaped. Patterns
// with a letter-free literal prefix read only that key range.
func (s *Store) likeRecords(ctx context.Context, table, pattern string) (keys, ids []string, vals [][]byte, err error) {
	scanPrefix := s.all()
	if lit, ok := likeLiteralPrefix(pattern); ok {
		scanPrefix += escapeComponent(lit)
	}
	pairs, err := s.e.scan(ctx, s.tx(ctx), table, scanPrefix, true)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, p := range pairs {
		id, err := lastComponent(p.Key, s.all())
		if err != nil {
			return nil, nil, nil, decodeError(table, p.Key, err)
		}
		if likeMatch(id, pattern) {
			keys, ids, vals = append(keys, p.Key), append(ids, id), append(vals, p.Value)
		}
	}
	return keys, ids, vals, nil
}

func (s *Store) deleteLike(ctx context.Context, table, pattern string) error {
	keys, _, _, err := s.likeRecords(ctx, table, pattern)
	if err != nil {
		return err
	}
	ops := make([]kv.Op, len(keys))
	for i, k := range keys {
		ops[i] = kv.Op{Table: table, Key: k, Delete: true}
	}
	return s.e.write(ctx, ops...)
}

func (s *Store) PutIdentity(ctx context.Context, address string, key [32]byte) (err error) {
	defer s.c.reported(&err)
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put identity %q: %w", address, err)
	}
	return s.e.write(ctx, kv.Op{Table: tIdentity, Key: s.k(address), Value: encodeIdentity(key)})
}

func (s *Store) DeleteAllIdentities(ctx context.Context, phone string) (err error) {
	defer s.c.reported(&err)
	return s.deleteLike(ctx, tIdentity, phone+":%")
}

// DeleteIdentity matches address as a LIKE pattern, exactly as sqlstore does.
func (s *Store) DeleteIdentity(ctx context.Context, address string) (err error) {
	defer s.c.reported(&err)
	return s.deleteLike(ctx, tIdentity, address)
}

func (s *Store) IsTrustedIdentity(ctx context.Context, address string, key [32]byte) (_ bool, err error) {
	defer s.c.reported(&err)
	k := s.k(address)
	v, err := s.get(ctx, tIdentity, k)
	if err != nil {
		return false, err
	}
	if v == nil {
		// Trust if not known, it'll be saved automatically later
		return true, nil
	}
	existing, err := decodeIdentity(k, v)
	if s.c.absentIfCorrupt(err) {
		return true, nil // as if unknown: the new key is saved over it
	} else if err != nil {
		return false, err
	}
	return existing == key, nil
}

func (s *Store) GetSession(ctx context.Context, address string) (_ []byte, err error) {
	defer s.c.reported(&err)
	k := s.k(address)
	v, err := s.get(ctx, tSession, k)
	if err != nil || v == nil {
		return nil, err
	}
	sess, err := decodeBlob(tSession, k, v)
	if s.c.absentIfCorrupt(err) {
		// Absent, so whatsmeow answers the contact's next message with a
		// retry receipt and a fresh session replaces the record.
		return nil, nil
	}
	return sess, err
}

func (s *Store) HasSession(ctx context.Context, address string) (_ bool, err error) {
	defer s.c.reported(&err)
	k := s.k(address)
	v, err := s.get(ctx, tSession, k)
	if err != nil || v == nil {
		return false, err
	}
	if _, err := decodeBlob(tSession, k, v); s.c.absentIfCorrupt(err) {
		return false, nil // what GetSession says of it
	}
	return true, nil
}

// GetManySessions reads every address in one backend round trip at most.
func (s *Store) GetManySessions(ctx context.Context, addresses []string) (_ map[string][]byte, err error) {
	defer s.c.reported(&err)
	if len(addresses) == 0 {
		return nil, nil
	}
	ks := make([]string, len(addresses))
	for i, a := range addresses {
		ks[i] = s.k(a)
	}
	vals, err := s.e.get(ctx, s.tx(ctx), tSession, ks)
	if err != nil {
		return nil, err
	}
	result := make(map[string][]byte, len(addresses))
	for i, a := range addresses {
		if vals[i] == nil {
			if _, ok := result[a]; !ok {
				result[a] = nil
			}
			continue
		}
		sess, err := decodeBlob(tSession, ks[i], vals[i])
		if s.c.absentIfCorrupt(err) {
			sess = nil // as GetSession: whatsmeow fetches a prekey bundle instead
		} else if err != nil {
			return nil, err
		}
		result[a] = sess
	}
	return result, nil
}

func (s *Store) PutSession(ctx context.Context, address string, session []byte) (err error) {
	defer s.c.reported(&err)
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put session %q: %w", address, err)
	}
	return s.e.write(ctx, kv.Op{Table: tSession, Key: s.k(address), Value: encodeBlob(session)})
}

// PutManySessions writes all sessions as one atomic unit.
func (s *Store) PutManySessions(ctx context.Context, sessions map[string][]byte) (err error) {
	defer s.c.reported(&err)
	if len(sessions) == 0 {
		return nil
	}
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put %d sessions: %w", len(sessions), err)
	}
	ops := make([]kv.Op, 0, len(sessions))
	for addr, sess := range sessions {
		ops = append(ops, kv.Op{Table: tSession, Key: s.k(addr), Value: encodeBlob(sess)})
	}
	return s.e.write(ctx, ops...)
}

func (s *Store) DeleteAllSessions(ctx context.Context, phone string) (err error) {
	defer s.c.reported(&err)
	return s.deleteLike(ctx, tSession, phone+":%")
}

func (s *Store) DeleteSession(ctx context.Context, address string) (err error) {
	defer s.c.reported(&err)
	return s.e.write(ctx, kv.Op{Table: tSession, Key: s.k(address), Delete: true})
}

// MigratePNToLID copies the sessions, identity keys and sender keys of a phone
// number's devices to the LID's (replacing the phone number in their
// addresses), then deletes the phone number's, all in one atomic unit. Like
// sqlstore, each phone number is migrated once per store instance.
func (s *Store) MigratePNToLID(ctx context.Context, pn, lid types.JID) (err error) {
	defer s.c.reported(&err)
	pnSignal := pn.SignalAddressUser()
	if !s.migratedPNSessionsCache.Add(pnSignal) {
		return nil
	}
	lidSignal := lid.SignalAddressUser()
	var sessionsUpdated, identityKeysUpdated, senderKeysUpdated int
	err = s.e.doTxn(ctx, func(ctx context.Context) error {
		var err error
		if sessionsUpdated, err = s.migrateLike(ctx, tSession, pnSignal, lidSignal); err != nil {
			return fmt.Errorf("failed to migrate sessions: %w", err)
		}
		if identityKeysUpdated, err = s.migrateLike(ctx, tIdentity, pnSignal, lidSignal); err != nil {
			return fmt.Errorf("failed to migrate identity keys: %w", err)
		}
		if senderKeysUpdated, err = s.migrateSenderKeys(ctx, pnSignal, lidSignal); err != nil {
			return fmt.Errorf("failed to migrate sender keys: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if sessionsUpdated > 0 || senderKeysUpdated > 0 || identityKeysUpdated > 0 {
		s.c.log.Infof("Migrated %d sessions, %d identity keys and %d sender keys from %s to %s", sessionsUpdated, identityKeysUpdated, senderKeysUpdated, pnSignal, lidSignal)
	} else {
		s.c.log.Debugf("No sessions or sender keys found to migrate from %s to %s", pnSignal, lidSignal)
	}
	return nil
}

// migrateLike is sqlstore's INSERT ... SELECT replace(their_id, pn, lid) ...
// WHERE their_id LIKE pn || ':%' followed by the DELETE of the same pattern.
func (s *Store) migrateLike(ctx context.Context, table, pnSignal, lidSignal string) (int, error) {
	pattern := pnSignal + ":%"
	_, ids, vals, err := s.likeRecords(ctx, table, pattern)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	if err = s.c.requireDevice(ctx, s.JID); err != nil {
		return 0, err
	}
	ops := make([]kv.Op, 0, len(ids))
	for i, id := range ids {
		ops = append(ops, kv.Op{Table: table, Key: s.k(sqlReplace(id, pnSignal, lidSignal)), Value: vals[i]})
	}
	if err = s.e.write(ctx, ops...); err != nil {
		return 0, err
	}
	return len(ids), s.deleteLike(ctx, table, pattern)
}
