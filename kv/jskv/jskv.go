//go:build js

// Package jskv is the kv.Backend over a user's Baileys-shaped JS key store:
// wasmeow's "custom" strategy. Every call into the user's objects goes
// through jsbridge (bounded, protected, errors with code store_failed).
package jskv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"

	"github.com/wasmeow/wasmeow/errcode"
	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/kv"
)

// IndexType is the Baileys "type" under which Backend keeps, for every
// table, the sorted list of its ids (id = table name, value = UTF-8 JSON
// array of strings). Baileys-shaped stores can only get ids they already
// know, so this index is what makes Scan possible. It is written in the same
// keys.set call as the records it lists.
const IndexType = "wasmeow-index"

// Backend is a kv.Backend over a user's Baileys-shaped JS objects:
//
//	keys.get(type, ids)  -> {[id]: Uint8Array}   (absent ids missing or null/undefined)
//	keys.set({[type]: {[id]: Uint8Array | null}})  (null deletes)
//	keys.clear()
//	creds.load()         -> {[table]: {[key]: Uint8Array}} | null | undefined
//	creds.save(c | null) (null: the session is gone)
//
// Any of them may return a Promise. A kv table is a Baileys type and a kv key
// an id, except the tables named in credsTables (the device record), which
// live in the creds object, loaded once and saved whole when they change.
//
// A Commit makes at most two calls, in this order: one keys.set with every
// record and index change, then creds.save. Each is as atomic as the user's
// store makes it; creds is saved last so it never names keys not yet stored.
//
// Every call into the user's objects is bounded by Timeout, and anything
// they do wrong (throw, reject with a hostile object, return a Proxy whose
// traps throw, never settle) becomes an error with code store_failed. After
// a call timed out the store is considered hung: every later call fails at
// once with that error, so a client on it can always be destroyed quickly.
type Backend struct {
	caller

	mu          sync.Mutex
	keys, creds js.Value
	credsTables map[string]bool
	credsCache  map[string]map[string][]byte // nil until loaded
	index       map[string][]string          // table -> sorted ids, as loaded
}

// caller is what both layouts' backends share: bounded calls into the
// user's objects, and the closed and hung states.
type caller struct {
	// Timeout bounds each call into the user's store (DefaultTimeout).
	Timeout time.Duration
	closed  atomic.Bool
	hung    error // the first timeout, sticky; guarded by the backend's mu
}

// DefaultTimeout bounds a call into a user's store unless told otherwise.
const DefaultTimeout = 30 * time.Second

var _ kv.Backend = (*Backend)(nil)

// NewBackend checks that keys has get, set and clear, and creds (when not
// undefined) load and save; credsTables name the tables kept in creds and
// require creds.
func New(keys, creds js.Value, credsTables []string) (*Backend, error) {
	for _, m := range []string{"get", "set", "clear"} {
		if keys.Type() != js.TypeObject || !jsbridge.IsFunction(jsbridge.Get(keys, m)) {
			return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "auth.keys must be an object with get, set and clear methods (missing %s)", m)
		}
	}
	ks := &Backend{caller: caller{Timeout: DefaultTimeout}, keys: keys, creds: creds, credsTables: make(map[string]bool), index: make(map[string][]string)}
	if len(credsTables) > 0 {
		if err := CheckCredsStore(creds); err != nil {
			return nil, err
		}
		for _, t := range credsTables {
			ks.credsTables[t] = true
		}
	}
	return ks, nil
}

// CheckCredsStore checks that creds has load and save methods.
func CheckCredsStore(creds js.Value) error {
	for _, m := range []string{"load", "save"} {
		if creds.Type() != js.TypeObject || !jsbridge.IsFunction(jsbridge.Get(creds, m)) {
			return jsbridge.Errorf(jsbridge.CodeInvalidOption, "auth.creds must be an object with load and save methods (missing %s)", m)
		}
	}
	return nil
}

func (s *Backend) Get(ctx context.Context, table string, keys []string) (_ [][]byte, err error) {
	defer recoverStore(&err, "keystore get "+table)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable("get " + table); err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	if s.credsTables[table] {
		if err := s.loadCreds(ctx); err != nil {
			return nil, err
		}
		for i, k := range keys {
			if v, ok := s.credsCache[table][k]; ok {
				out[i] = slices.Clone(v)
			}
		}
		return out, nil
	}
	found, err := s.get(ctx, table, keys)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		out[i] = found[k]
	}
	return out, nil
}

func (s *Backend) Scan(ctx context.Context, table, prefix string) (_ []kv.Pair, err error) {
	defer recoverStore(&err, "keystore scan "+table)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable("scan " + table); err != nil {
		return nil, err
	}
	var out []kv.Pair
	if s.credsTables[table] {
		if err := s.loadCreds(ctx); err != nil {
			return nil, err
		}
		for k, v := range s.credsCache[table] {
			if strings.HasPrefix(k, prefix) {
				out = append(out, kv.Pair{Key: k, Value: slices.Clone(v)})
			}
		}
		slices.SortFunc(out, func(a, b kv.Pair) int { return strings.Compare(a.Key, b.Key) })
		return out, nil
	}
	ids, err := s.loadIndex(ctx, table)
	if err != nil {
		return nil, err
	}
	var want []string
	for _, id := range ids {
		if strings.HasPrefix(id, prefix) {
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	found, err := s.get(ctx, table, want)
	if err != nil {
		return nil, err
	}
	for _, id := range want {
		// An id listed but not stored means the user's store lost a write
		// the index recorded; reading it as absent is what Get would say.
		if v, ok := found[id]; ok {
			out = append(out, kv.Pair{Key: id, Value: v})
		}
	}
	return out, nil
}

func (s *Backend) Commit(ctx context.Context, ops []kv.Op) (err error) {
	defer recoverStore(&err, "keystore commit")
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable("commit"); err != nil {
		return err
	}
	// Fold ops in order: a later op on the same key wins, as applying them
	// one by one would give.
	data := map[string]map[string]*kv.Op{}
	credsChanged := false
	for i := range ops {
		op := &ops[i]
		if s.credsTables[op.Table] {
			credsChanged = true
		}
		if data[op.Table] == nil {
			data[op.Table] = map[string]*kv.Op{}
		}
		data[op.Table][op.Key] = op
	}
	if credsChanged {
		if err := s.loadCreds(ctx); err != nil {
			return err
		}
	}
	obj := js.Global().Get("Object").New()
	newIndex := map[string][]string{}
	for table, byKey := range data {
		if s.credsTables[table] {
			continue
		}
		ids, err := s.loadIndex(ctx, table)
		if err != nil {
			return err
		}
		set := make(map[string]bool, len(ids))
		for _, id := range ids {
			set[id] = true
		}
		t := js.Global().Get("Object").New()
		for key, op := range byKey {
			if op.Delete {
				t.Set(key, js.Null())
				delete(set, key)
			} else {
				t.Set(key, jsbridge.BytesToJS(nonNil(op.Value)))
				set[key] = true
			}
		}
		obj.Set(table, t)
		sorted := make([]string, 0, len(set))
		for id := range set {
			sorted = append(sorted, id)
		}
		slices.Sort(sorted)
		if !slices.Equal(sorted, ids) {
			newIndex[table] = sorted
			enc, err := json.Marshal(sorted)
			if err != nil {
				return fmt.Errorf("keystore commit: encoding the index of %s: %w", table, err)
			}
			if obj.Get(IndexType).IsUndefined() {
				obj.Set(IndexType, js.Global().Get("Object").New())
			}
			obj.Get(IndexType).Set(table, jsbridge.BytesToJS(enc))
		}
	}
	if len(data) > 0 && js.Global().Get("Object").Call("keys", obj).Length() > 0 {
		if _, err := s.call(ctx, s.keys, "auth.keys.set()", "set", obj); err != nil {
			return fmt.Errorf("keystore commit: keys.set: %w", err)
		}
	}
	for table, ids := range newIndex {
		s.index[table] = ids
	}
	if credsChanged {
		next := make(map[string]map[string][]byte, len(s.credsCache))
		for t, recs := range s.credsCache {
			next[t] = cloneMap(recs)
		}
		for table, byKey := range data {
			if !s.credsTables[table] {
				continue
			}
			if next[table] == nil {
				next[table] = map[string][]byte{}
			}
			for key, op := range byKey {
				if op.Delete {
					delete(next[table], key)
				} else {
					next[table][key] = slices.Clone(nonNil(op.Value))
				}
			}
		}
		if _, err := s.call(ctx, s.creds, "auth.creds.save()", "save", credsToJS(next)); err != nil {
			return fmt.Errorf("keystore commit: creds.save: %w", err)
		}
		s.credsCache = next
	}
	return nil
}

// Clear empties the user's store: keys.clear() and creds.save(null).
func (s *Backend) Clear(ctx context.Context) (err error) {
	defer recoverStore(&err, "keystore clear")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hung != nil {
		return s.hung
	}
	if _, err := s.call(ctx, s.keys, "auth.keys.clear()", "clear"); err != nil {
		return fmt.Errorf("keystore clear: keys.clear: %w", err)
	}
	clear(s.index)
	if len(s.credsTables) > 0 {
		if _, err := s.call(ctx, s.creds, "auth.creds.save(null)", "save", js.Null()); err != nil {
			return fmt.Errorf("keystore clear: creds.save(null): %w", err)
		}
		s.credsCache = map[string]map[string][]byte{}
	}
	return nil
}

// Close does not wait for a call in flight (it holds no lock): closing a
// client whose store hangs must not hang too.
func (s *caller) Close() error {
	s.closed.Store(true)
	return nil
}

// usable is the check at the start of every call, under the backend's mu.
func (s *caller) usable(what string) error {
	if s.closed.Load() {
		return fmt.Errorf("keystore %s: %w", what, kv.ErrClosed)
	}
	return s.hung
}

// call is jsbridge.CallStore bounded by s.Timeout; a timeout makes the store hung.
func (s *caller) call(ctx context.Context, obj js.Value, what, method string, args ...any) (js.Value, error) {
	v, err := jsbridge.CallStore(ctx, s.Timeout, obj, what, method, args...)
	if err != nil && ctx.Err() == nil && errors.Is(err, jsbridge.ErrStoreTimeout) {
		s.hung = err
	}
	return v, err
}

// recoverStore turns a panic while reading what the user's store returned
// (a js.Error from a throwing getter or Proxy trap) into a store_failed
// error: in wasm a panic would end the whole program.
func recoverStore(err *error, what string) {
	if r := recover(); r != nil {
		*err = &jsbridge.CodedError{Code: jsbridge.CodeStoreFailed, Err: fmt.Errorf("%s: %w", what, jsbridge.PanicError("reading the store's answer", r))}
	}
	// Every other failure (a value of the wrong shape) gets that code too,
	// but for a value refused before the store saw it and a store that is
	// not one wasmeow can use (Baileys.checkWriter).
	if code := errcode.Of(*err); *err != nil && code != jsbridge.CodeStoreFailed && code != jsbridge.CodeStoreValueRefused && code != jsbridge.CodeInvalidOption {
		*err = &jsbridge.CodedError{Code: jsbridge.CodeStoreFailed, Err: *err}
	}
}

// get calls keys.get(table, ids) and decodes the values it returns.
func (s *Backend) get(ctx context.Context, table string, ids []string) (map[string][]byte, error) {
	return s.getAs(ctx, s.keys, table, ids, jsbridge.BytesFromJS)
}

// getAs calls keys.get(typ, ids); decode reads each value found.
func (s *caller) getAs(ctx context.Context, keys js.Value, typ string, ids []string, decode func(js.Value) ([]byte, error)) (map[string][]byte, error) {
	jsIDs := js.Global().Get("Array").New(len(ids))
	for i, id := range ids {
		jsIDs.SetIndex(i, id)
	}
	res, err := s.call(ctx, keys, "auth.keys.get()", "get", typ, jsIDs)
	if err != nil {
		return nil, fmt.Errorf("keystore get %s [%s]: keys.get: %w", typ, firstKeys(ids), err)
	}
	out := make(map[string][]byte, len(ids))
	if jsbridge.IsNullish(res) {
		return out, nil
	}
	if res.Type() != js.TypeObject {
		return nil, fmt.Errorf("keystore get %s: keys.get returned %s, want an object of id -> value", typ, res.Type())
	}
	for _, id := range ids {
		v := jsbridge.Get(res, id)
		if jsbridge.IsNullish(v) {
			continue
		}
		b, err := decode(v)
		if err != nil {
			return nil, fmt.Errorf("keystore get %s key %q: %w", typ, id, err)
		}
		out[id] = b
	}
	return out, nil
}

func (s *Backend) loadIndex(ctx context.Context, table string) ([]string, error) {
	return loadIDs(s.index, table, IndexType, func(ids []string) (map[string][]byte, error) { return s.get(ctx, IndexType, ids) })
}

// loadIDs is the sorted ids of table, cached in index, else read (as a
// JSON array) from the store's record table of type indexType.
func loadIDs(index map[string][]string, table, indexType string, get func([]string) (map[string][]byte, error)) ([]string, error) {
	if ids, ok := index[table]; ok {
		return ids, nil
	}
	found, err := get([]string{table})
	if err != nil {
		return nil, err
	}
	var ids []string
	if raw, ok := found[table]; ok {
		if err := json.Unmarshal(raw, &ids); err != nil {
			return nil, fmt.Errorf("keystore: the ids of table %s (%s/%s) are not a JSON array of strings: %w", table, indexType, table, err)
		}
		slices.Sort(ids)
	}
	index[table] = ids
	return ids, nil
}

func (s *Backend) loadCreds(ctx context.Context) error {
	if s.credsCache != nil {
		return nil
	}
	res, err := s.call(ctx, s.creds, "auth.creds.load()", "load")
	if err != nil {
		return fmt.Errorf("keystore: creds.load: %w", err)
	}
	cache := map[string]map[string][]byte{}
	if !jsbridge.IsNullish(res) {
		if res.Type() != js.TypeObject {
			return fmt.Errorf("keystore: creds.load returned %s, want an object {table: {key: Uint8Array}}", res.Type())
		}
		for table := range s.credsTables {
			t := jsbridge.Get(res, table)
			if jsbridge.IsNullish(t) {
				continue
			}
			keys := js.Global().Get("Object").Call("keys", t)
			cache[table] = map[string][]byte{}
			for i := 0; i < keys.Length(); i++ {
				k := keys.Index(i).String()
				b, err := jsbridge.BytesFromJS(jsbridge.Get(t, k))
				if err != nil {
					return fmt.Errorf("keystore: creds.load: table %s key %q: %w", table, k, err)
				}
				cache[table][k] = b
			}
		}
	}
	s.credsCache = cache
	return nil
}

func credsToJS(c map[string]map[string][]byte) js.Value {
	o := js.Global().Get("Object").New()
	for table, recs := range c {
		t := js.Global().Get("Object").New()
		for k, v := range recs {
			t.Set(k, jsbridge.BytesToJS(v))
		}
		o.Set(table, t)
	}
	return o
}

func cloneMap(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func firstKeys(ids []string) string {
	if len(ids) > 3 {
		return strings.Join(ids[:3], ", ") + fmt.Sprintf(", ... %d in all", len(ids))
	}
	return strings.Join(ids, ", ")
}
