package idbstore

import (
	"context"
	"fmt"

	"github.com/wasmeow/wasmeow/kv"
)

func (s *Store) PutSenderKey(ctx context.Context, group, user string, session []byte) (err error) {
	defer s.c.reported(&err)
	if session == nil {
		return fmt.Errorf("%w: sender key %s/%s: NULL sender_key", ErrConstraint, group, user)
	}
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put sender key %s/%s: %w", group, user, err)
	}
	return s.e.write(ctx, kv.Op{Table: tSenderKey, Key: s.k(group, user), Value: encodeBlob(session)})
}

func (s *Store) GetSenderKey(ctx context.Context, group, user string) (_ []byte, err error) {
	defer s.c.reported(&err)
	k := s.k(group, user)
	v, err := s.get(ctx, tSenderKey, k)
	if err != nil || v == nil {
		return nil, err
	}
	sk, err := decodeBlob(tSenderKey, k, v)
	if s.c.absentIfCorrupt(err) {
		return nil, nil // as a missing sender key: whatsmeow asks for a resend
	}
	return sk, err
}

// migrateSenderKeys is sqlstore's sender key part of MigratePNToLID: the
// pattern applies to the sender of every chat.
func (s *Store) migrateSenderKeys(ctx context.Context, pnSignal, lidSignal string) (int, error) {
	pattern := pnSignal + ":%"
	pairs, err := s.e.scan(ctx, s.tx(ctx), tSenderKey, s.all(), true)
	if err != nil {
		return 0, err
	}
	var puts, deletes []kv.Op
	for _, p := range pairs {
		parts, err := splitKey(p.Key)
		if err != nil || len(parts) != 3 {
			return 0, decodeError(tSenderKey, p.Key, fmt.Errorf("%w: bad key (%v)", errCorrupt, err))
		}
		chat, sender := parts[1], parts[2]
		if !likeMatch(sender, pattern) {
			continue
		}
		puts = append(puts, kv.Op{Table: tSenderKey, Key: s.k(chat, sqlReplace(sender, pnSignal, lidSignal)), Value: p.Value})
	}
	if len(puts) == 0 {
		return 0, nil
	}
	if err = s.c.requireDevice(ctx, s.JID); err != nil {
		return 0, err
	}
	if err = s.e.write(ctx, puts...); err != nil {
		return 0, err
	}
	// The DELETE runs after the INSERT and sees its rows.
	pairs, err = s.e.scan(ctx, s.tx(ctx), tSenderKey, s.all(), true)
	if err != nil {
		return 0, err
	}
	for _, p := range pairs {
		parts, err := splitKey(p.Key)
		if err != nil || len(parts) != 3 {
			return 0, decodeError(tSenderKey, p.Key, fmt.Errorf("%w: bad key (%v)", errCorrupt, err))
		}
		if likeMatch(parts[2], pattern) {
			deletes = append(deletes, kv.Op{Table: tSenderKey, Key: p.Key, Delete: true})
		}
	}
	return len(puts), s.e.write(ctx, deletes...)
}
