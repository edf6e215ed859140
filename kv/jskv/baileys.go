//go:build js

package jskv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall/js"

	"github.com/wasmeow/wasmeow/baileysauth"
	"github.com/wasmeow/wasmeow/errcode"
	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/kv"
)

// IDsType is the Baileys type under which wasmeow keeps, per kv table, the
// ids it holds, as sorted arrays split in buckets (baileysids.go): Baileys'
// stores can only get ids they are given, so this is what makes a scan
// possible. It is written in the same keys.set as the records it lists.
const IDsType = baileysauth.IDsType

// Baileys is the kv.Backend over a user's Baileys auth state in Baileys'
// own shapes (baileysauth): keys.get(type, ids) / keys.set({type: {id:
// value | null}}) / keys.clear?() with Baileys' types, ids and values, and
// the creds as Baileys' AuthenticationCreds, loaded once and saved whole.
//
// A Commit makes at most two calls, as Backend's: one keys.set, then the
// creds save. Every value is checked to read back, from BufferJSON and from
// plain JSON, before the store sees it.
type Baileys struct {
	caller

	mu     sync.Mutex
	keys   js.Value
	creds  credsIO
	cur    *baileysauth.Creds // as loaded or last saved; nil for none
	loaded bool
	// writerChecked: the paired creds loaded are wasmeow's (checkWriter).
	writerChecked bool
	index         map[string]*tableIDs // kv table -> its ids, as loaded
}

var _ Store = (*Baileys)(nil)

// Store is a kv.Backend over a user's store that can also empty it.
type Store interface {
	kv.Backend
	Clear(ctx context.Context) error
}

// credsIO is where the creds live: the creds.load/save pair, or a Baileys
// AuthenticationState's creds object with its saveCreds.
type credsIO interface {
	load(ctx context.Context, c *caller) (js.Value, error)
	save(ctx context.Context, c *caller, v js.Value) error // v: an object, or null for none
}

type loadSave struct{ obj js.Value }

func (l loadSave) load(ctx context.Context, c *caller) (js.Value, error) {
	return c.call(ctx, l.obj, "auth.creds.load()", "load")
}

func (l loadSave) save(ctx context.Context, c *caller, v js.Value) error {
	_, err := c.call(ctx, l.obj, "auth.creds.save()", "save", v)
	return err
}

// stateCreds is Baileys' own flow: state.creds is one object the user's
// saveCreds() writes, so a save replaces its contents in place.
type stateCreds struct{ state, saveCreds js.Value }

func (s stateCreds) load(context.Context, *caller) (js.Value, error) {
	return jsbridge.Get(s.state, "creds"), nil
}

func (s stateCreds) save(ctx context.Context, c *caller, v js.Value) error {
	obj := js.Global().Get("Object")
	target := jsbridge.Get(s.state, "creds")
	if target.Type() != js.TypeObject {
		target = obj.New()
		js.Global().Get("Reflect").Call("set", s.state, "creds", target)
	}
	keys := obj.Call("keys", target)
	for i := 0; i < keys.Length(); i++ {
		js.Global().Get("Reflect").Call("deleteProperty", target, keys.Index(i))
	}
	if !jsbridge.IsNullish(v) {
		obj.Call("assign", target, v)
	}
	_, err := c.call(ctx, s.saveCreds, "auth.saveCreds()", "call", js.Undefined())
	return err
}

// OpenBaileys is the Baileys-layout backend over keys and the creds in one
// of two forms: creds {load, save}, or state (Baileys' {creds, keys}) with
// saveCreds. loaded, when not undefined, is what creds.load() already
// returned (Open reads it to choose the layout).
func OpenBaileys(keys, creds, state, saveCreds, loaded js.Value) (*Baileys, error) {
	for _, m := range []string{"get", "set"} {
		if keys.Type() != js.TypeObject || !jsbridge.IsFunction(jsbridge.Get(keys, m)) {
			return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "auth.keys must be an object with get and set methods (missing %s)", m)
		}
	}
	b := &Baileys{caller: caller{Timeout: DefaultTimeout}, keys: keys, index: map[string]*tableIDs{}}
	if !jsbridge.IsNullish(state) {
		if state.Type() != js.TypeObject || !jsbridge.IsFunction(saveCreds) {
			return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "auth.state needs auth.saveCreds, a function")
		}
		b.creds = stateCreds{state: state, saveCreds: saveCreds}
	} else {
		if err := CheckCredsStore(creds); err != nil {
			return nil, err
		}
		b.creds = loadSave{obj: creds}
	}
	if !loaded.IsUndefined() {
		if err := b.takeCreds(loaded); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// IsLegacyCreds reports whether v (what creds.load() returned) is the
// creds of wasmeow's first custom layout: {device: {...}}, no noiseKey.
// A value that throws when read is a store_failed error.
func IsLegacyCreds(v js.Value) (legacy bool, err error) {
	defer recoverStore(&err, "auth.creds.load()")
	return v.Type() == js.TypeObject && !jsbridge.IsNullish(jsbridge.Get(v, "device")) && jsbridge.IsNullish(jsbridge.Get(v, "noiseKey")), nil
}

func (s *Baileys) takeCreds(v js.Value) error {
	s.cur, s.loaded = nil, true
	if jsbridge.IsNullish(v) {
		return nil
	}
	raw, err := jsbridge.JSONFromJS(v)
	if err != nil {
		return fmt.Errorf("keystore: the creds: %w", err)
	}
	var c baileysauth.Creds
	if string(raw) != "{}" {
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("keystore: the creds are not Baileys' AuthenticationCreds: %w", err)
		}
	}
	if c.IsPaired() {
		if _, err := c.Records(); err != nil {
			return fmt.Errorf("keystore: the creds: %w", err)
		}
	}
	s.cur = &c
	return nil
}

func (s *Baileys) loadCreds(ctx context.Context) error {
	if !s.loaded {
		v, err := s.creds.load(ctx, &s.caller)
		if err != nil {
			return fmt.Errorf("keystore: loading the creds: %w", err)
		}
		if err := s.takeCreds(v); err != nil {
			return err
		}
	}
	return s.checkWriter(ctx)
}

// checkWriter refuses a paired auth state wasmeow did not write: one
// Baileys paired holds libsignal-node's sessions and sender keys, which
// whatsmeow cannot read, and no id lists. wasmeow writes its layout record
// (and so its id list) before anything else, pairing included.
func (s *Baileys) checkWriter(ctx context.Context) error {
	if s.writerChecked || s.cur.Our() == "" {
		return nil
	}
	ids, err := s.loadIndex(ctx, idbstore.TableLayout)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return jsbridge.Errorf(jsbridge.CodeInvalidOption, "the custom store holds a session of %s that wasmeow did not write (no %s record): "+
			"an auth state Baileys paired keeps libsignal-node's sessions, which wasmeow cannot use as they are; convert it first (docs/AUTHSTATE.md)", s.cur.Our(), IDsType)
	}
	s.writerChecked = true
	return nil
}

func (s *Baileys) credsRecords(ctx context.Context, table string) (map[string][]byte, error) {
	if err := s.loadCreds(ctx); err != nil {
		return nil, err
	}
	recs, err := s.cur.Records()
	if err != nil {
		return nil, err
	}
	return recs[table], nil
}

func (s *Baileys) Get(ctx context.Context, table string, keys []string) (_ [][]byte, err error) {
	defer recoverStore(&err, "keystore get "+table)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable("get " + table); err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	if baileysauth.IsCredsTable(table) {
		recs, err := s.credsRecords(ctx, table)
		if err != nil {
			return nil, err
		}
		for i, k := range keys {
			out[i] = slices.Clone(recs[k])
		}
		return out, nil
	}
	if err := s.loadCreds(ctx); err != nil {
		return nil, err
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		if ids[i], err = baileysauth.IDOf(table, k); err != nil {
			return nil, err
		}
	}
	found, err := s.get(ctx, baileysauth.TypeOf(table), ids)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if raw, ok := found[ids[i]]; ok {
			if out[i], err = baileysauth.RecordOf(table, k, raw); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (s *Baileys) Scan(ctx context.Context, table, prefix string) (_ []kv.Pair, err error) {
	defer recoverStore(&err, "keystore scan "+table)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable("scan " + table); err != nil {
		return nil, err
	}
	var out []kv.Pair
	if baileysauth.IsCredsTable(table) {
		recs, err := s.credsRecords(ctx, table)
		if err != nil {
			return nil, err
		}
		for k, v := range recs {
			if strings.HasPrefix(k, prefix) {
				out = append(out, kv.Pair{Key: k, Value: slices.Clone(v)})
			}
		}
		slices.SortFunc(out, func(a, b kv.Pair) int { return strings.Compare(a.Key, b.Key) })
		return out, nil
	}
	if err := s.loadCreds(ctx); err != nil {
		return nil, err
	}
	our := ""
	if baileysauth.DeviceScoped(table) {
		if our = s.cur.Our(); our == "" {
			return nil, nil // no device, no device records
		}
	}
	ids, err := s.loadIndex(ctx, table)
	if err != nil {
		return nil, err
	}
	keyOf := map[string]string{}
	var want []string
	for _, id := range ids {
		k, err := baileysauth.KeyOf(table, id, our)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(k, prefix) {
			keyOf[id] = k
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	found, err := s.get(ctx, baileysauth.TypeOf(table), want)
	if err != nil {
		return nil, err
	}
	for _, id := range want {
		// An id listed but not stored: the store lost a write the index
		// recorded; absent, as Get says.
		if raw, ok := found[id]; ok {
			v, err := baileysauth.RecordOf(table, keyOf[id], raw)
			if err != nil {
				return nil, err
			}
			out = append(out, kv.Pair{Key: keyOf[id], Value: v})
		}
	}
	slices.SortFunc(out, func(a, b kv.Pair) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (s *Baileys) Commit(ctx context.Context, ops []kv.Op) (err error) {
	defer recoverStore(&err, "keystore commit")
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable("commit"); err != nil {
		return err
	}
	ops = foldOps(ops)
	if err := s.loadCreds(ctx); err != nil {
		return err
	}
	next, credsChanged, err := baileysauth.ApplyOps(s.cur, ops)
	if err != nil {
		return refused(err)
	}
	our := next.Our()
	if our == "" {
		our = s.cur.Our() // deleting the device: its records go with it
	}
	obj := js.Global().Get("Object").New()
	byTable := map[string][]kv.Op{}
	for _, op := range ops {
		if !baileysauth.IsCredsTable(op.Table) {
			byTable[op.Table] = append(byTable[op.Table], op)
		}
	}
	var applyIDs []func()
	for table, tops := range byTable {
		ch, err := s.editIDs(ctx, table)
		if err != nil {
			return err
		}
		typ := baileysauth.TypeOf(table)
		t := jsbridge.Get(obj, typ)
		if t.IsUndefined() {
			t = js.Global().Get("Object").New()
			obj.Set(typ, t)
		}
		for _, op := range tops {
			if op.Delete {
				id, err := baileysauth.IDOf(table, op.Key)
				if err != nil {
					return refused(err)
				}
				t.Set(id, js.Null())
				ch.remove(id)
				continue
			}
			e, err := baileysauth.Encode(table, op.Key, op.Value, our)
			if err != nil {
				return refused(err)
			}
			v, err := jsbridge.JSONToJS(e.Value)
			if err != nil {
				return refused(err)
			}
			t.Set(e.ID, v)
			ch.add(e.ID)
		}
		applyIDs = append(applyIDs, ch.write(func() js.Value {
			if jsbridge.Get(obj, IDsType).IsUndefined() {
				obj.Set(IDsType, js.Global().Get("Object").New())
			}
			return obj.Get(IDsType)
		}))
	}
	if err := s.fillIndexValueMaps(ctx, ops, our, obj); err != nil {
		return err
	}
	if len(byTable) > 0 {
		if _, err := s.call(ctx, s.keys, "auth.keys.set()", "set", obj); err != nil {
			return fmt.Errorf("keystore commit: keys.set: %w", err)
		}
	}
	for _, apply := range applyIDs {
		apply()
	}
	if credsChanged {
		v := js.Null()
		if next != nil {
			raw, err := json.Marshal(next)
			if err != nil {
				return refused(err)
			}
			if v, err = jsbridge.JSONToJS(raw); err != nil {
				return refused(err)
			}
		}
		if err := s.creds.save(ctx, &s.caller, v); err != nil {
			return fmt.Errorf("keystore commit: saving the creds: %w", err)
		}
		s.cur = next
	}
	return nil
}

// fillIndexValueMaps writes into obj, for every app-state collection whose
// version or MACs ops change, its app-state-sync-version entry with the
// indexValueMap Baileys keeps: the collection's MACs as they are after ops
// (those ops do not change are read from the store).
func (s *Baileys) fillIndexValueMaps(ctx context.Context, ops []kv.Op, our string, obj js.Value) error {
	versions := map[string]bool{} // kv keys of the version records touched
	batch := map[string]*kv.Op{}  // MAC patch records written by ops
	for i, op := range ops {
		if op.Table != idbstore.TableAppStateVersion && op.Table != idbstore.TableAppStateMACs {
			continue
		}
		if op.Table == idbstore.TableAppStateMACs {
			batch[op.Key] = &ops[i]
		}
		if parts, err := idbstore.SplitKey(op.Key); err == nil && len(parts) >= 2 {
			versions[idbstore.JoinKey(parts[0], parts[1])] = true
		}
	}
	for vk := range versions {
		v, ok, err := s.currentRecord(ctx, ops, idbstore.TableAppStateVersion, vk)
		if err != nil {
			return err
		}
		if !ok {
			continue // no version (deleted, or not yet written): no entry to fill
		}
		prefix := vk + "\x00"
		patches := map[string][]byte{}
		ids, err := s.loadIndex(ctx, idbstore.TableAppStateMACs)
		if err != nil {
			return err
		}
		var fetch []string
		keyOf := map[string]string{}
		for _, id := range ids {
			k, err := baileysauth.KeyOf(idbstore.TableAppStateMACs, id, our)
			if err != nil {
				return refused(err)
			}
			if strings.HasPrefix(k, prefix) && batch[k] == nil {
				fetch = append(fetch, id)
				keyOf[id] = k
			}
		}
		if len(fetch) > 0 {
			found, err := s.get(ctx, baileysauth.TypeOf(idbstore.TableAppStateMACs), fetch)
			if err != nil {
				return err
			}
			for id, raw := range found {
				if patches[keyOf[id]], err = baileysauth.RecordOf(idbstore.TableAppStateMACs, keyOf[id], raw); err != nil {
					return err
				}
			}
		}
		for k, op := range batch {
			if strings.HasPrefix(k, prefix) && !op.Delete {
				patches[k] = op.Value
			}
		}
		e, err := baileysauth.EncodeAppStateVersion(vk, v, our, patches)
		if err != nil {
			return refused(err)
		}
		jv, err := jsbridge.JSONToJS(e.Value)
		if err != nil {
			return refused(err)
		}
		t := jsbridge.Get(obj, e.Type)
		if t.IsUndefined() {
			t = js.Global().Get("Object").New()
			obj.Set(e.Type, t)
		}
		t.Set(e.ID, jv)
	}
	return nil
}

// currentRecord is the record of table at k as ops leave it: theirs, or
// the store's; ok is false when there is none.
func (s *Baileys) currentRecord(ctx context.Context, ops []kv.Op, table, k string) ([]byte, bool, error) {
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].Table == table && ops[i].Key == k {
			return ops[i].Value, !ops[i].Delete, nil
		}
	}
	id, err := baileysauth.IDOf(table, k)
	if err != nil {
		return nil, false, refused(err)
	}
	found, err := s.get(ctx, baileysauth.TypeOf(table), []string{id})
	if err != nil {
		return nil, false, err
	}
	raw, ok := found[id]
	if !ok {
		return nil, false, nil
	}
	v, err := baileysauth.RecordOf(table, k, raw)
	return v, err == nil, err
}

// refused gives a value error its code (the store was not called).
func refused(err error) error {
	if errors.Is(err, baileysauth.ErrUnreadable) || errors.Is(err, baileysauth.ErrBadID) || errors.Is(err, baileysauth.ErrBadValue) {
		return errcode.WithCode(jsbridge.CodeStoreValueRefused, err)
	}
	return err
}

// Clear empties the user's store: keys.clear() when it has one (Baileys'
// clear is optional), then always a keys.set deleting every id the index
// lists and the lists themselves. keys.clear() alone is not enough:
// Baileys' makeCacheableSignalKeyStore's clear empties its cache and calls
// the store's clear only if there is one, so privacy tokens, LID mappings
// and the id lists would stay for the next account paired in that store.
// The index is read before keys.clear() empties it.
func (s *Baileys) Clear(ctx context.Context) (err error) {
	defer recoverStore(&err, "keystore clear")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hung != nil {
		return s.hung
	}
	obj := js.Global().Get("Object").New()
	idx := js.Global().Get("Object").New()
	for _, table := range idbstore.DumpTables {
		if baileysauth.IsCredsTable(table) {
			continue
		}
		t, err := s.loadTable(ctx, table)
		if err != nil {
			return err
		}
		ids := t.all()
		typ := baileysauth.TypeOf(table)
		if len(ids) > 0 && jsbridge.Get(obj, typ).IsUndefined() {
			obj.Set(typ, js.Global().Get("Object").New())
		}
		for _, id := range ids {
			obj.Get(typ).Set(id, js.Null())
		}
		clearIDs(idx, table, t)
	}
	obj.Set(IDsType, idx)
	if jsbridge.IsFunction(jsbridge.Get(s.keys, "clear")) {
		if _, err := s.call(ctx, s.keys, "auth.keys.clear()", "clear"); err != nil {
			return fmt.Errorf("keystore clear: keys.clear: %w", err)
		}
	}
	if _, err := s.call(ctx, s.keys, "auth.keys.set()", "set", obj); err != nil {
		return fmt.Errorf("keystore clear: keys.set: %w", err)
	}
	clear(s.index)
	if err := s.creds.save(ctx, &s.caller, js.Null()); err != nil {
		return fmt.Errorf("keystore clear: saving the creds: %w", err)
	}
	s.cur, s.loaded = nil, true
	return nil
}

// get calls keys.get(typ, ids); each value found comes back as its JSON.
func (s *Baileys) get(ctx context.Context, typ string, ids []string) (map[string][]byte, error) {
	return s.getAs(ctx, s.keys, typ, ids, jsbridge.JSONFromJS)
}

// foldOps keeps the last op of each table and key, in first-seen order:
// what applying them one by one leaves.
func foldOps(ops []kv.Op) []kv.Op {
	type tk struct{ t, k string }
	pos := map[tk]int{}
	var out []kv.Op
	for _, op := range ops {
		if i, ok := pos[tk{op.Table, op.Key}]; ok {
			out[i] = op
			continue
		}
		pos[tk{op.Table, op.Key}] = len(out)
		out = append(out, op)
	}
	return out
}
