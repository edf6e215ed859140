package baileysauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/wasmeow/wasmeow/idbstore"
)

// ErrUnreadable is wrapped by Encode's refusals: a record whose key store
// form would not read back as the same record after a JSON adapter stored
// it. It is refused before the store sees it, not found at the next load.
var ErrUnreadable = errors.New("the key store value would not read back")

// Entry is one record in key store form.
type Entry struct {
	Type, ID string
	// Value is the value's JSON, byte strings in BufferJSON form.
	Value json.RawMessage
}

// Encode is the key store entry of the kv record (k, v) of table in the
// store of device our. It checks that the entry reads back as the same
// record, both from the JSON Baileys' BufferJSON.replacer writes and from
// plain JSON.stringify of it (byte strings as {"0": b0, ...}).
func Encode(table, k string, v []byte, our string) (Entry, error) {
	id, val, err := idAndValue(table, k, v)
	if err != nil {
		return Entry{}, err
	}
	return encodeValue(table, k, v, our, id, val)
}

func idAndValue(table, k string, v []byte) (string, any, error) {
	id, err := IDOf(table, k)
	if err != nil {
		return "", nil, err
	}
	val, err := ValueOf(table, k, v)
	return id, val, err
}

// encodeValue is Encode's entry for val, the value of (k, v), checked.
func encodeValue(table, k string, v []byte, our, id string, val any) (Entry, error) {
	raw, err := json.Marshal(val)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %s %q: %w", ErrUnreadable, table, k, err)
	}
	e := Entry{Type: TypeOf(table), ID: id, Value: raw}
	if back, err := KeyOf(table, id, our); err != nil || back != k {
		return Entry{}, fmt.Errorf("%w: %s id %q names key %q, not %q (%v)", ErrUnreadable, e.Type, id, back, k, err)
	}
	plain, err := PlainJSON(raw)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %s %q: %w", ErrUnreadable, table, k, err)
	}
	for _, form := range [][]byte{raw, plain} {
		got, err := RecordOf(table, k, form)
		if err != nil || !bytes.Equal(got, v) {
			return Entry{}, fmt.Errorf("%w: %s %q (%v)", ErrUnreadable, table, k, err)
		}
	}
	return e, nil
}

// Decode is the kv record of table for the key store entry (id, the
// value's JSON) of device our.
func Decode(table, id string, value []byte, our string) (string, []byte, error) {
	k, err := KeyOf(table, id, our)
	if err != nil {
		return "", nil, err
	}
	v, err := RecordOf(table, k, value)
	return k, v, err
}

// PlainJSON rewrites the BufferJSON byte strings of raw as JSON.stringify
// writes a Uint8Array: {"0": b0, "1": b1, ...}.
func PlainJSON(raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.Marshal(plain(v))
}

func plain(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = plain(x[i])
		}
	case map[string]any:
		if b, err := bytesOf(x); err == nil && x["type"] == "Buffer" {
			m := make(map[string]any, len(b))
			for i, c := range b {
				m[strconv.Itoa(i)] = c
			}
			return m
		}
		for k := range x {
			x[k] = plain(x[k])
		}
	}
	return v
}

// EncodeAppStateVersion is Encode for an app-state version record (k, v)
// whose indexValueMap Baileys fills from the collection's MACs: patches are
// the collection's mutation MAC patch records (kv key -> value); a newer
// version's value MAC for an index MAC wins, as whatsmeow's
// GetAppStateMutationMAC reads them.
func EncodeAppStateVersion(k string, v []byte, our string, patches map[string][]byte) (Entry, error) {
	table := idbstore.TableAppStateVersion
	id, val, err := idAndValue(table, k, v)
	if err != nil {
		return Entry{}, err
	}
	lt := val.(ltHashValue)
	keys := make([]string, 0, len(patches))
	for pk := range patches {
		keys = append(keys, pk)
	}
	slices.Sort(keys) // the version is 16 hex digits: key order is version order
	for _, pk := range keys {
		macs, err := idbstore.DecodeMACPatch(pk, patches[pk])
		if err != nil {
			return Entry{}, fmt.Errorf("%w: %s %q: %w", ErrBadValue, table, k, err)
		}
		for _, m := range macs {
			vm, _ := json.Marshal(struct {
				ValueMac Bytes `json:"valueMac"`
			}{m.Value})
			lt.IndexValueMap[base64.StdEncoding.EncodeToString(m.Index)] = vm
		}
	}
	return encodeValue(table, k, v, our, id, lt)
}
