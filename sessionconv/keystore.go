package sessionconv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/wasmeow/wasmeow/baileysauth"
	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// A `custom` strategy key store that wasmeow wrote (kv/jskv's Baileys
// layout) holds Baileys' types, ids and value shapes, but its session and
// sender-key values are whatsmeow's own records, not libsignal-node's: it
// is read back record by record through baileysauth, the way the page
// reads it, and never through BaileysToSnapshot (which would take those
// values for libsignal-node's and lose every session).

// ErrKeyStore is wrapped by every failure to read a key store wasmeow wrote.
var ErrKeyStore = errors.New("not a usable wasmeow key store")

// IsWasmeowKeyStore reports whether keys (type -> id -> value JSON) is a
// key store wasmeow wrote: it keeps its id lists there.
func IsWasmeowKeyStore(keys map[string]map[string]json.RawMessage) bool {
	return len(keys[baileysauth.IDsType]) > 0
}

// KeyStoreToSnapshot is the session of a key store wasmeow wrote, given
// its creds (Baileys' AuthenticationCreds JSON) and its records, as a
// wasmeow session snapshot. A listed id without a record is skipped (a
// write the store lost); a record that does not decode is an error.
func KeyStoreToSnapshot(ctx context.Context, creds json.RawMessage, keys map[string]map[string]json.RawMessage, clientID string) ([]byte, error) {
	var c baileysauth.Creds
	if err := json.Unmarshal(creds, &c); err != nil {
		return nil, fmt.Errorf("%w: the creds: %w", ErrKeyStore, err)
	}
	our := c.Our()
	if our == "" {
		return nil, fmt.Errorf("%w: the creds hold no paired device", ErrNoDevice)
	}
	credsRecs, err := c.Records()
	if err != nil {
		return nil, fmt.Errorf("%w: the creds: %w", ErrKeyStore, err)
	}
	var ops []kv.Op
	for table, recs := range credsRecs {
		for k, v := range recs {
			ops = append(ops, kv.Op{Table: table, Key: k, Value: v})
		}
	}
	ids, err := listedIDs(keys[baileysauth.IDsType])
	if err != nil {
		return nil, err
	}
	for table, list := range ids {
		typ := baileysauth.TypeOf(table)
		for _, id := range list {
			raw, ok := keys[typ][id]
			if !ok {
				continue
			}
			k, v, err := baileysauth.Decode(table, id, raw, our)
			if err != nil {
				return nil, fmt.Errorf("%w: %s %q: %w", ErrKeyStore, typ, id, err)
			}
			ops = append(ops, kv.Op{Table: table, Key: k, Value: v})
		}
	}
	return OpsToSnapshot(ctx, ops, clientID)
}

// OpsToSnapshot is the snapshot of a store holding the records ops write.
func OpsToSnapshot(ctx context.Context, ops []kv.Op, clientID string) ([]byte, error) {
	b := memkv.New()
	if err := b.Commit(ctx, ops); err != nil {
		return nil, err
	}
	snap, err := snapshot.Capture(ctx, b, clientID, idbstore.DumpTables)
	if err != nil {
		return nil, err
	}
	return snap.Encode()
}

// listedIDs reads the id lists: table -> its ids (sorted, once each).
func listedIDs(lists map[string]json.RawMessage) (map[string][]string, error) {
	seen := map[string]map[string]bool{}
	for listID, raw := range lists {
		table := listID
		if i := strings.IndexByte(listID, '/'); i >= 0 {
			table = listID[:i]
		}
		var ids []string
		if err := json.Unmarshal(raw, &ids); err != nil {
			return nil, fmt.Errorf("%w: %s %q is not a JSON array of ids: %w", ErrKeyStore, baileysauth.IDsType, listID, err)
		}
		if seen[table] == nil {
			seen[table] = map[string]bool{}
		}
		for _, id := range ids {
			seen[table][id] = true
		}
	}
	out := make(map[string][]string, len(seen))
	for table, set := range seen {
		for id := range set {
			out[table] = append(out[table], id)
		}
		sort.Strings(out[table])
	}
	return out, nil
}
