package idbstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/store"

	"github.com/wasmeow/wasmeow/kv"
)

// The decrypted-event buffer and DoDecryptionTxn.

// bufferedEventMaxAge is how long the WhatsApp servers buffer events; sqlstore
// deletes buffered hashes older than this.
const bufferedEventMaxAge = 14 * 24 * time.Hour

type bufferedEventRecord struct {
	plaintext    []byte // nil once cleared
	serverTS     int64  // Unix seconds
	insertTimeMS int64  // Unix milliseconds
}

func (r bufferedEventRecord) encode() []byte {
	return newEncoder(len(r.plaintext) + 24).nullable(r.plaintext).varint(r.serverTS).varint(r.insertTimeMS).done()
}

func decodeBufferedEvent(k string, v []byte) (bufferedEventRecord, error) {
	d := newDecoder(v)
	r := bufferedEventRecord{plaintext: d.nullable(), serverTS: d.varint(), insertTimeMS: d.varint()}
	return r, d.finish(tEventBuffer, k)
}

func (s *Store) eventKey(hash [32]byte) string { return s.k(hex.EncodeToString(hash[:])) }

// loadEvents reads the device's buffered events into memory once. whatsmeow
// looks up every incoming message's hash, almost always a new one: without
// this each message would cost a backend read (which IndexedDB also queues
// behind pending commits). The table holds at most 14 days of hashes, with
// plaintexts cleared once handled, so it stays small.
func (s *Store) loadEvents(ctx context.Context) error {
	return s.e.ensureLoaded(ctx, tEventBuffer, s.all())
}

func (s *Store) GetBufferedEvent(ctx context.Context, ciphertextHash [32]byte) (_ *store.BufferedEvent, err error) {
	defer s.c.reported(&err)
	if err := s.loadEvents(ctx); err != nil {
		return nil, err
	}
	k := s.eventKey(ciphertextHash)
	v, err := s.get(ctx, tEventBuffer, k)
	if err != nil || v == nil {
		return nil, err
	}
	r, err := decodeBufferedEvent(k, v)
	if err != nil {
		return nil, err
	}
	return &store.BufferedEvent{
		Plaintext:  r.plaintext,
		ServerTime: time.Unix(r.serverTS, 0),
		InsertTime: time.UnixMilli(r.insertTimeMS),
	}, nil
}

// PutBufferedEvent refuses a hash already buffered, like sqlstore's INSERT.
func (s *Store) PutBufferedEvent(ctx context.Context, ciphertextHash [32]byte, plaintext []byte, serverTimestamp time.Time) (err error) {
	defer s.c.reported(&err)
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put buffered event %x: %w", ciphertextHash, err)
	}
	if err := s.loadEvents(ctx); err != nil {
		return err
	}
	k := s.eventKey(ciphertextHash)
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		old, err := s.get(ctx, tEventBuffer, k)
		if err != nil {
			return err
		}
		if old != nil {
			return fmt.Errorf("%w: buffered event %x already stored", ErrConstraint, ciphertextHash)
		}
		r := bufferedEventRecord{plaintext: plaintext, serverTS: serverTimestamp.Unix(), insertTimeMS: time.Now().UnixMilli()}
		return s.e.write(ctx, kv.Op{Table: tEventBuffer, Key: k, Value: r.encode()})
	})
}

// DoDecryptionTxn runs fn in a transaction: every write made through this
// container with fn's context lands in one backend commit if fn returns nil,
// and none does (nor is visible to anyone) if it fails.
func (s *Store) DoDecryptionTxn(ctx context.Context, fn func(context.Context) error) error {
	return s.e.doTxn(ctx, fn)
}

func (s *Store) ClearBufferedEventPlaintext(ctx context.Context, ciphertextHash [32]byte) (err error) {
	defer s.c.reported(&err)
	if err := s.loadEvents(ctx); err != nil {
		return err
	}
	k := s.eventKey(ciphertextHash)
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		v, err := s.get(ctx, tEventBuffer, k)
		if err != nil || v == nil {
			return err
		}
		r, err := decodeBufferedEvent(k, v)
		if err != nil {
			return err
		}
		r.plaintext = nil
		return s.e.write(ctx, kv.Op{Table: tEventBuffer, Key: k, Value: r.encode()})
	})
}

// DeleteOldBufferedHashes deletes buffered events older than 14 days, of
// every device (sqlstore's query has no our_jid condition either). The sweep
// reads the backend without keeping the whole table in memory.
func (s *Store) DeleteOldBufferedHashes(ctx context.Context) (err error) {
	defer s.c.reported(&err)
	cutoff := time.Now().Add(-bufferedEventMaxAge).UnixMilli()
	return s.e.doTxn(ctx, func(ctx context.Context) error {
		pairs, err := s.e.scan(ctx, s.tx(ctx), tEventBuffer, "", false)
		if err != nil {
			return err
		}
		var ops []kv.Op
		for _, p := range pairs {
			r, err := decodeBufferedEvent(p.Key, p.Value)
			if err != nil {
				return err
			}
			if r.insertTimeMS < cutoff {
				ops = append(ops, kv.Op{Table: tEventBuffer, Key: p.Key, Delete: true})
			}
		}
		return s.e.write(ctx, ops...)
	})
}
