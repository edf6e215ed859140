package baileysauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
)

// The kv records kept in the creds (CredsTables): the device record is the
// creds' keys, me, account and whatsmeow's fields; the prekey upload mark
// is firstUnuploadedPreKeyId - 1. One creds holds one device.

// Our is the JID of the device c holds, "" for none.
func (c *Creds) Our() string {
	if !c.IsPaired() {
		return ""
	}
	return c.Me.ID
}

// Records are the kv records of CredsTables that c holds: table -> key -> value.
func (c *Creds) Records() (map[string]map[string][]byte, error) {
	out := map[string]map[string][]byte{}
	if !c.IsPaired() {
		return out, nil
	}
	d, err := c.Device()
	if err != nil {
		return nil, err
	}
	v, err := idbstore.EncodeDevice(d, 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCreds, err)
	}
	k := idbstore.JoinKey(c.Me.ID)
	out[idbstore.TableDevice] = map[string][]byte{k: v}
	if c.FirstUnuploadedPreKeyID > 1 {
		out[idbstore.TablePreKeyMark] = map[string][]byte{markKey(c.Me.ID): idbstore.EncodeUploadMark(uint64(c.FirstUnuploadedPreKeyID) - 1)}
	}
	return out, nil
}

// IsCredsTable reports whether table is kept in the creds.
func IsCredsTable(table string) bool {
	return table == idbstore.TableDevice || table == idbstore.TablePreKeyMark
}

// ApplyOps is c after ops (of any tables: those of the creds change it,
// prekeys move nextPreKeyId past their IDs), and whether it changed. c is
// not modified; nil stands for no device. A device record that would not
// read back the same from the creds' JSON is refused (ErrUnreadable).
func ApplyOps(c *Creds, ops []kv.Op) (*Creds, bool, error) {
	next := c
	own := false // next is a copy of c's
	cp := func() {
		if !own {
			n := Creds{}
			if c != nil {
				n = *c
			}
			next, own = &n, true
		}
	}
	for _, op := range ops {
		switch op.Table {
		case idbstore.TableDevice:
			if op.Delete {
				if next.Our() != "" && idbstore.JoinKey(next.Our()) == op.Key {
					next, own = nil, false
				}
				continue
			}
			if our := next.Our(); our != "" && idbstore.JoinKey(our) != op.Key {
				return nil, false, fmt.Errorf("%w: a second device %q in a key store that holds %s (one store, one device)", ErrUnreadable, op.Key, our)
			}
			d, seq, err := idbstore.DecodeDevice(op.Key, op.Value)
			if err != nil {
				return nil, false, err
			}
			n, err := FromDevice(d, next)
			if err != nil {
				return nil, false, err
			}
			if err := readsBack(n, op.Value, seq); err != nil {
				return nil, false, err
			}
			next, own = n, true
		case idbstore.TablePreKeyMark:
			if op.Delete && next.Our() == "" {
				continue // with its device (DeleteDevice)
			}
			if next.Our() == "" || markKey(next.Our()) != op.Key {
				return nil, false, fmt.Errorf("%w: prekey upload mark %q for no device of this store", ErrUnreadable, op.Key)
			}
			cp()
			next.FirstUnuploadedPreKeyID = 1
			if !op.Delete {
				mark, err := idbstore.DecodeUploadMark(op.Key, op.Value)
				if err != nil {
					return nil, false, err
				}
				if mark >= 1<<24 {
					return nil, false, fmt.Errorf("%w: prekey upload mark %d out of range", ErrUnreadable, mark)
				}
				next.FirstUnuploadedPreKeyID = uint32(mark) + 1
			}
			next.NextPreKeyID = max(next.NextPreKeyID, next.FirstUnuploadedPreKeyID)
		case idbstore.TablePreKey:
			if op.Delete || next.Our() == "" {
				continue
			}
			parts, err := idbstore.SplitKey(op.Key)
			if err != nil || len(parts) != 2 {
				continue
			}
			id, err := strconv.ParseUint(parts[1], 16, 32)
			if err == nil && uint32(id)+1 > next.NextPreKeyID {
				cp()
				next.NextPreKeyID = uint32(id) + 1
			}
		}
	}
	return next, next != c, nil
}

// markKey is the key of the upload mark of device our (idbstore's Store.all()).
func markKey(our string) string { return idbstore.JoinKey(our, "") }

// readsBack checks that the device record v comes back from n's JSON.
func readsBack(n *Creds, v []byte, seq uint64) error {
	raw, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("%w: creds: %w", ErrUnreadable, err)
	}
	for _, form := range [][]byte{raw, mustPlain(raw)} {
		var back Creds
		if err := json.Unmarshal(form, &back); err != nil {
			return fmt.Errorf("%w: creds: %w", ErrUnreadable, err)
		}
		d, err := back.Device()
		if err != nil {
			return fmt.Errorf("%w: creds: %w", ErrUnreadable, err)
		}
		again, err := idbstore.EncodeDevice(d, seq)
		if err != nil || !bytes.Equal(again, v) {
			return fmt.Errorf("%w: the device record does not come back from the creds (%v)", ErrUnreadable, err)
		}
	}
	return nil
}

func mustPlain(raw []byte) []byte {
	p, err := PlainJSON(raw)
	if err != nil {
		return raw
	}
	return p
}
