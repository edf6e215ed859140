package idbstore

import (
	"context"
	"fmt"
	"strconv"

	"go.mau.fi/whatsmeow/util/keys"

	"github.com/wasmeow/wasmeow/kv"
)

// Prekeys of a device are few (about a thousand) and read as a whole (next
// ID, unuploaded ones, uploaded count), so the device's prekey range is loaded
// once and answered from memory afterwards.

// maxPreKeyID is sqlstore's CHECK (key_id < 16777216).
const maxPreKeyID = 1<<24 - 1

func preKeyID(id uint32) string { return fmt.Sprintf("%08x", id) }

// The public key is stored too: deriving it again on every load would cost
// a scalar multiplication per key.
func encodePreKey(priv, pub []byte, uploaded bool) []byte {
	return newEncoder(65).boolean(uploaded).fixed(priv).fixed(pub).done()
}

type storedPreKey struct {
	id        uint32
	priv, pub []byte
	uploaded  bool
}

func decodePreKey(k, idPart string, v []byte) (storedPreKey, error) {
	d := newDecoder(v)
	var pk storedPreKey
	pk.uploaded = d.boolean()
	pk.priv = d.fixed(32)
	pk.pub = d.fixed(32)
	if err := d.finish(tPreKey, k); err != nil {
		return pk, err
	}
	id, err := strconv.ParseUint(idPart, 16, 32)
	if err != nil || len(idPart) != 8 {
		return pk, decodeError(tPreKey, k, fmt.Errorf("%w: bad key ID %q", errCorrupt, idPart))
	}
	pk.id = uint32(id)
	return pk, nil
}

func (pk storedPreKey) key() *keys.PreKey {
	priv, pub := [32]byte(pk.priv), [32]byte(pk.pub)
	return &keys.PreKey{KeyPair: keys.KeyPair{Priv: &priv, Pub: &pub}, KeyID: pk.id}
}

// The upload mark: MarkPreKeysAsUploaded stores "every prekey with an ID up
// to N is uploaded" as one record instead of rewriting every prekey record (a
// first upload would otherwise put all 812 twice). A key is uploaded when its
// own flag says so or its ID is at most the mark. Generation only ever adds
// IDs above every existing one; if such an ID is not above the mark (keys
// were removed since), the mark is lowered below it in the same unit, which
// changes no existing key's state because they all have lower IDs.

func (s *Store) uploadMark(ctx context.Context) (uint64, error) {
	k := s.all() // our| (an empty last component), inside the device's range
	v, err := s.get(ctx, tPreKeyMark, k)
	if err != nil || v == nil {
		return 0, err
	}
	return decodeUploadMark(k, v)
}

func decodeUploadMark(k string, v []byte) (uint64, error) {
	d := newDecoder(v)
	mark := d.uvarint()
	return mark, d.finish(tPreKeyMark, k)
}

func (s *Store) markOp(mark uint64) kv.Op {
	return kv.Op{Table: tPreKeyMark, Key: s.all(), Value: EncodeUploadMark(mark)}
}

// allPreKeys returns the device's prekeys in ID order, uploaded set from
// their flag or the upload mark, and the mark.
func (s *Store) allPreKeys(ctx context.Context) ([]storedPreKey, uint64, error) {
	mark, err := s.uploadMark(ctx)
	if err != nil {
		return nil, 0, err
	}
	pairs, err := s.e.scan(ctx, s.tx(ctx), tPreKey, s.all(), true)
	if err != nil {
		return nil, 0, err
	}
	out := make([]storedPreKey, 0, len(pairs))
	for _, p := range pairs {
		pk, err := decodePreKey(p.Key, p.Key[len(s.all()):], p.Value)
		if err != nil {
			return nil, 0, err
		}
		pk.uploaded = pk.uploaded || uint64(pk.id) <= mark
		out = append(out, pk)
	}
	return out, mark, nil
}

func nextPreKeyID(all []storedPreKey) uint32 {
	if len(all) == 0 {
		return 1
	}
	return all[len(all)-1].id + 1
}

// genPreKeys makes count new keys from firstID on and writes them as one unit.
// Like sqlstore's inserts, keys past the ID limit fail, after the ones before.
// mark is the current upload mark (see uploadMark).
func (s *Store) genPreKeys(ctx context.Context, firstID uint32, count int, uploaded bool, mark uint64) ([]*keys.PreKey, error) {
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return nil, fmt.Errorf("idbstore: generate prekeys: %w", err)
	}
	out := make([]*keys.PreKey, 0, count)
	ops := make([]kv.Op, 0, count+1)
	if count > 0 && uint64(firstID) <= mark {
		ops = append(ops, s.markOp(uint64(firstID)-1))
	}
	// Like sqlstore's inserts, keys past the ID limit fail after the ones before.
	var limitErr error
	if last := uint64(firstID) + uint64(count) - 1; count > 0 && last > maxPreKeyID {
		limitErr = fmt.Errorf("%w: prekey ID %d out of range", ErrConstraint, max(uint64(firstID), maxPreKeyID+1))
		count = max(0, int(int64(maxPreKeyID)-int64(firstID)+1))
	}
	gen, err := newPreKeys(firstID, count)
	if err != nil {
		return nil, err
	}
	for _, key := range gen {
		out = append(out, key)
		ops = append(ops, kv.Op{Table: tPreKey, Key: s.k(preKeyID(key.KeyID)), Value: encodePreKey(key.Priv[:], key.Pub[:], uploaded)})
	}
	if err := s.e.write(ctx, ops...); err != nil {
		return nil, err
	}
	return out, limitErr
}

func (s *Store) GenOnePreKey(ctx context.Context) (_ *keys.PreKey, err error) {
	defer s.c.reported(&err)
	s.preKeyLock.Lock()
	defer s.preKeyLock.Unlock()
	all, mark, err := s.allPreKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to query next prekey ID: %w", err)
	}
	gen, err := s.genPreKeys(ctx, nextPreKeyID(all), 1, true, mark)
	if err != nil {
		return nil, err
	}
	return gen[0], nil
}

// GetOrGenPreKeys returns the count lowest unuploaded prekeys, generating
// (unuploaded) ones after the highest ID when there are too few.
func (s *Store) GetOrGenPreKeys(ctx context.Context, count uint32) (_ []*keys.PreKey, err error) {
	defer s.c.reported(&err)
	s.preKeyLock.Lock()
	defer s.preKeyLock.Unlock()
	all, mark, err := s.allPreKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to query existing prekeys: %w", err)
	}
	out := make([]*keys.PreKey, 0, count)
	for _, pk := range all {
		if uint32(len(out)) >= count {
			break
		}
		if !pk.uploaded {
			out = append(out, pk.key())
		}
	}
	if missing := int(count) - len(out); missing > 0 {
		gen, err := s.genPreKeys(ctx, nextPreKeyID(all), missing, false, mark)
		if err != nil {
			return nil, fmt.Errorf("failed to generate prekey: %w", err)
		}
		out = append(out, gen...)
	}
	return out, nil
}

func (s *Store) GetPreKey(ctx context.Context, id uint32) (_ *keys.PreKey, err error) {
	defer s.c.reported(&err)
	idPart := preKeyID(id)
	k := s.k(idPart)
	v, err := s.get(ctx, tPreKey, k)
	if err != nil || v == nil {
		return nil, err
	}
	pk, err := decodePreKey(k, idPart, v)
	if err != nil {
		return nil, err
	}
	return pk.key(), nil
}

func (s *Store) RemovePreKey(ctx context.Context, id uint32) (err error) {
	defer s.c.reported(&err)
	return s.e.write(ctx, kv.Op{Table: tPreKey, Key: s.k(preKeyID(id)), Delete: true})
}

// MarkPreKeysAsUploaded marks every prekey with an ID up to upToID uploaded:
// one write of the upload mark.
func (s *Store) MarkPreKeysAsUploaded(ctx context.Context, upToID uint32) (err error) {
	defer s.c.reported(&err)
	s.preKeyLock.Lock()
	defer s.preKeyLock.Unlock()
	mark, err := s.uploadMark(ctx)
	if err != nil {
		return err
	}
	if uint64(upToID) <= mark {
		return nil
	}
	return s.e.write(ctx, s.markOp(uint64(upToID)))
}

func (s *Store) UploadedPreKeyCount(ctx context.Context) (_ int, err error) {
	defer s.c.reported(&err)
	all, _, err := s.allPreKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pk := range all {
		if pk.uploaded {
			n++
		}
	}
	return n, nil
}
