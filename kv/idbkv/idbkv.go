//go:build js

// Package idbkv is a kv.Backend on the browser's IndexedDB: one database per
// backend, one object store per kv table, plus a reserved meta store.
//
// Records are stored under binary keys (the key's bytes as a Uint8Array) with
// Uint8Array values: binary keys order bytewise, exactly as the kv contract
// says, and carry any byte string, which JS string keys cannot. The schema is
// versioned by numbered upgrade steps and the table list; opening with new
// tables or a newer build upgrades the database in place, keeping its data.
//
// All calls block on IndexedDB events, which only arrive while Go waits: never
// call them from inside a js.FuncOf callback without starting a goroutine.
//
// It speaks hack-pad/safejs rather than syscall/js because the IndexedDB
// library it builds on (hack-pad/go-indexeddb) does: its values are safejs
// values, and converting at every call would add a second idiom inside the
// package. Promises are still awaited with jsbridge.Await, the one awaiter of
// the Go side (awaitPromise).
package idbkv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/wasmeow/wasmeow/kv"
)

// BlockedTimeout is how long Open (when Options.BlockedTimeout is zero) and
// Delete wait for other connections that do not close when asked.
var BlockedTimeout = 10 * time.Second

// Options configure Open.
type Options struct {
	// Name is the IndexedDB database name, e.g. "wasmeow:default".
	Name string
	// Tables are the object stores to exist; missing ones are added by an
	// upgrade. Tables already in the database are kept even when not listed.
	Tables []string
	// Durability is the commit hint for readwrite transactions: "strict"
	// (default: complete means on disk) or "relaxed" (complete means handed
	// to the OS; faster, may be lost on a power cut).
	Durability string
	// BlockedTimeout bounds the wait for connections that block an upgrade
	// (default BlockedTimeout).
	BlockedTimeout time.Duration
	// OnVersionChange, if set, is called (on its own goroutine) when the
	// connection was closed because another connection upgrades or deletes
	// the database, e.g. a newer wasmeow in another tab. Later calls fail
	// with ErrVersionChange.
	OnVersionChange func()
}

// Backend is an open IndexedDB database. It is safe for concurrent use.
type Backend struct {
	name       string
	durability string
	g          *jsGlobals
	onChange   func()

	mu       sync.Mutex
	db       safejs.Value
	tables   map[string]bool
	closeErr error // set once closed: kv.ErrClosed or a more precise error matching it
	handler  safejs.Func
}

var _ kv.Backend = (*Backend)(nil)

// open connections by database name, so Delete can close ours first.
var (
	registryMu sync.Mutex
	registry   = map[string]map[*Backend]bool{}
)

// Open opens (creating or upgrading as needed) the database opts.Name.
func Open(ctx context.Context, opts Options) (b *Backend, err error) {
	defer recoverTo(&err, "idbkv open %q", opts.Name)
	if opts.Name == "" {
		return nil, errors.New("idbkv open: Options.Name is empty")
	}
	switch opts.Durability {
	case "":
		opts.Durability = "strict"
	case "strict", "relaxed":
	default:
		return nil, fmt.Errorf("idbkv open %q: durability %q is neither \"strict\" nor \"relaxed\"", opts.Name, opts.Durability)
	}
	if opts.BlockedTimeout <= 0 {
		opts.BlockedTimeout = BlockedTimeout
	}
	tables := make([]string, 0, len(opts.Tables))
	for _, t := range opts.Tables {
		if t == "" || t == MetaStore {
			return nil, fmt.Errorf("idbkv open %q: table name %q is empty or reserved", opts.Name, t)
		}
		if !slices.Contains(tables, t) {
			tables = append(tables, t)
		}
	}
	opts.Tables = tables
	g, err := getGlobals()
	if err != nil {
		return nil, fmt.Errorf("idbkv open %q: %w", opts.Name, err)
	}
	db, err := openDB(ctx, g, &opts)
	if err != nil {
		return nil, fmt.Errorf("idbkv open %q: %w", opts.Name, err)
	}
	names, err := storeNames(db)
	if err != nil {
		_, _ = db.Call("close")
		return nil, fmt.Errorf("idbkv open %q: listing object stores: %w", opts.Name, err)
	}
	b = &Backend{name: opts.Name, durability: opts.Durability, g: g, onChange: opts.OnVersionChange, db: db, tables: map[string]bool{}}
	for _, n := range names {
		b.tables[n] = n != MetaStore
	}
	if err := b.watchConnection(); err != nil {
		_, _ = db.Call("close")
		return nil, fmt.Errorf("idbkv open %q: %w", opts.Name, err)
	}
	registryMu.Lock()
	if registry[b.name] == nil {
		registry[b.name] = map[*Backend]bool{}
	}
	registry[b.name][b] = true
	registryMu.Unlock()
	return b, nil
}

// watchConnection closes our connection as soon as another one needs a
// version change (else that one stays blocked), and notices the browser
// closing it.
func (b *Backend) watchConnection() error {
	fn, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		defer func() { _ = recover() }()
		typ := ""
		if len(args) > 0 {
			typ = propString(args[0], "type")
		}
		if typ == "versionchange" {
			if b.shut(ErrVersionChange) && b.onChange != nil {
				go b.onChange()
			}
		} else {
			b.shut(ErrConnectionLost)
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.handler = fn
	if err := b.db.Set("onversionchange", fn); err != nil {
		fn.Release()
		return err
	}
	if err := b.db.Set("onclose", fn); err != nil {
		fn.Release()
		return err
	}
	return nil
}

// shut closes the connection once, recording why; it reports whether this
// call did it.
func (b *Backend) shut(why error) bool {
	b.mu.Lock()
	if b.closeErr != nil {
		b.mu.Unlock()
		return false
	}
	b.closeErr = why
	db := b.db
	b.mu.Unlock()
	_ = db.Set("onversionchange", safejs.Null())
	_ = db.Set("onclose", safejs.Null())
	_, _ = db.Call("close") // running transactions still finish
	b.handler.Release()
	registryMu.Lock()
	delete(registry[b.name], b)
	if len(registry[b.name]) == 0 {
		delete(registry, b.name)
	}
	registryMu.Unlock()
	return true
}

// Close closes the connection; later calls fail with kv.ErrClosed. Closing
// twice is no error.
func (b *Backend) Close() error {
	b.shut(kv.ErrClosed)
	return nil
}

// Name returns the database name.
func (b *Backend) Name() string { return b.name }

// conn returns the open connection, or why there is none.
func (b *Backend) conn() (safejs.Value, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closeErr != nil {
		return safejs.Undefined(), b.closeErr
	}
	return b.db, nil
}

// transaction starts a transaction; a connection closed under us (version
// change in between) reads as the reason it closed.
func (b *Backend) transaction(db safejs.Value, stores any, mode string) (safejs.Value, error) {
	var tx safejs.Value
	var err error
	if mode == "readwrite" {
		tx, err = db.Call("transaction", stores, mode, map[string]any{"durability": b.durability})
	} else {
		tx, err = db.Call("transaction", stores, mode)
	}
	if err != nil {
		return tx, b.startError(jsCallError(err))
	}
	return tx, nil
}

// startError is why a transaction did not start: a connection closed under
// us (version change in between) reads as the reason it closed.
func (b *Backend) startError(err error) error {
	if isDOMName(err, "InvalidStateError") {
		if _, cerr := b.conn(); cerr != nil {
			return cerr
		}
	}
	return err
}

// Get returns the values of keys in table, nil where absent.
func (b *Backend) Get(ctx context.Context, table string, keys []string) (out [][]byte, err error) {
	defer recoverTo(&err, "idbkv %q get %s", b.name, table)
	db, err := b.conn()
	if err != nil {
		return nil, fmt.Errorf("idbkv %q get %s: %w", b.name, table, err)
	}
	out = make([][]byte, len(keys))
	if len(keys) == 0 || !b.hasTable(table) {
		return out, nil
	}
	if _, get, ok := fastCalls(); ok {
		return b.getFast(ctx, get, db, table, keys)
	}
	tx, err := b.transaction(db, table, "readonly")
	if err != nil {
		return nil, fmt.Errorf("idbkv %q get %s: %w", b.name, table, err)
	}
	w, err := watchTx(tx)
	if err != nil {
		_, _ = tx.Call("abort")
		return nil, fmt.Errorf("idbkv %q get %s: %w", b.name, table, err)
	}
	reqs, err := b.issueGets(tx, table, keys)
	if err != nil {
		_, _ = tx.Call("abort")
		_ = w.wait(context.Background())
		return nil, err
	}
	if err := w.wait(ctx); err != nil {
		return nil, fmt.Errorf("idbkv %q get %s %d keys (first %q): %w", b.name, table, len(keys), keys[0], err)
	}
	for i, req := range reqs {
		v, err := req.Get("result")
		if err != nil {
			return nil, fmt.Errorf("idbkv %q get %s key %q: %w", b.name, table, keys[i], err)
		}
		if v.IsUndefined() {
			continue
		}
		if out[i], err = goBytes(b.g, v); err != nil {
			return nil, fmt.Errorf("idbkv %q get %s key %q: %w", b.name, table, keys[i], err)
		}
	}
	return out, nil
}

func (b *Backend) issueGets(tx safejs.Value, table string, keys []string) ([]safejs.Value, error) {
	st, err := tx.Call("objectStore", table)
	if err != nil {
		return nil, fmt.Errorf("idbkv %q get %s: %w", b.name, table, jsCallError(err))
	}
	p, offs, err := newPacker(b.g, func(yield func(string, []byte)) {
		for _, k := range keys {
			yield(k, nil)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("idbkv %q get %s: %w", b.name, table, err)
	}
	reqs := make([]safejs.Value, len(keys))
	for i, k := range keys {
		key, err := p.view(offs[i], len(k))
		if err == nil {
			reqs[i], err = st.Call("get", key)
		}
		if err != nil {
			return nil, fmt.Errorf("idbkv %q get %s key %q: %w", b.name, table, k, jsCallError(err))
		}
	}
	return reqs, nil
}

func (b *Backend) hasTable(table string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tables[table]
}

// bulkScan is off only in tests comparing the record-by-record path.
var bulkScan = true

// Scan returns the records of table whose key starts with prefix, in
// bytewise key order.
func (b *Backend) Scan(ctx context.Context, table, prefix string) (out []kv.Pair, err error) {
	defer recoverTo(&err, "idbkv %q scan %s prefix %q", b.name, table, prefix)
	wrap := func(err error) error {
		return fmt.Errorf("idbkv %q scan %s prefix %q: %w", b.name, table, prefix, err)
	}
	db, err := b.conn()
	if err != nil {
		return nil, wrap(err)
	}
	if !b.hasTable(table) {
		return nil, nil
	}
	var rng any = safejs.Undefined()
	if prefix != "" {
		if rng, err = b.prefixRange(prefix); err != nil {
			return nil, wrap(err)
		}
	}
	tx, err := b.transaction(db, table, "readonly")
	if err != nil {
		return nil, wrap(err)
	}
	w, err := watchTx(tx)
	if err != nil {
		_, _ = tx.Call("abort")
		return nil, wrap(err)
	}
	// Keys and values come from one snapshot, both in key order, so they pair up.
	var keysReq, valsReq safejs.Value
	st, err := tx.Call("objectStore", table)
	if err == nil {
		keysReq, err = st.Call("getAllKeys", rng)
	}
	if err == nil {
		valsReq, err = st.Call("getAll", rng)
	}
	if err != nil {
		_, _ = tx.Call("abort")
		_ = w.wait(context.Background())
		return nil, wrap(jsCallError(err))
	}
	if err := w.wait(ctx); err != nil {
		return nil, wrap(err)
	}
	keys, err := keysReq.Get("result")
	if err != nil {
		return nil, wrap(err)
	}
	vals, err := valsReq.Get("result")
	if err != nil {
		return nil, wrap(err)
	}
	n, err := keys.Length()
	if err != nil {
		return nil, wrap(err)
	}
	if m, err := vals.Length(); err != nil || m != n {
		return nil, wrap(fmt.Errorf("%d keys but %d values (%v)", n, m, err))
	}
	out = make([]kv.Pair, n)
	if n == 0 {
		return out, nil
	}
	if bulkScan {
		if bk, bv, err := bulkPairs(ctx, b.g, keys, vals, n); err == nil {
			for i := range out {
				out[i] = kv.Pair{Key: string(bk[i]), Value: bv[i]}
			}
			return out, nil
		}
	}
	// Slow path, record by record: also the one that names a bad record.
	for i := range out {
		k, err := keys.Index(i)
		if err != nil {
			return nil, wrap(err)
		}
		kb, err := goBytes(b.g, k)
		if err != nil {
			return nil, wrap(fmt.Errorf("key #%d: %w", i, err))
		}
		out[i].Key = string(kb)
		v, err := vals.Index(i)
		if err != nil {
			return nil, wrap(err)
		}
		if out[i].Value, err = goBytes(b.g, v); err != nil {
			return nil, wrap(fmt.Errorf("key %q: %w", out[i].Key, err))
		}
	}
	return out, nil
}

// prefixRange is [prefix, successor(prefix)): the successor increments the
// last byte below 0xff, dropping trailing 0xff bytes; an all-0xff prefix has
// no upper bound.
func (b *Backend) prefixRange(prefix string) (safejs.Value, error) {
	lower, err := keyValue(b.g, prefix)
	if err != nil {
		return lower, err
	}
	upper := []byte(prefix)
	for len(upper) > 0 && upper[len(upper)-1] == 0xff {
		upper = upper[:len(upper)-1]
	}
	if len(upper) == 0 {
		return b.g.keyRange.Call("lowerBound", lower, false)
	}
	upper[len(upper)-1]++
	up, err := keyValue(b.g, string(upper))
	if err != nil {
		return up, err
	}
	r, err := b.g.keyRange.Call("bound", lower, up, false, true)
	return r, jsCallError(err)
}

// Commit applies ops in one readwrite transaction, in order; it returns
// once the transaction completed (durably, with "strict" durability), or
// the reason it aborted, naming the table and key of the op that failed.
func (b *Backend) Commit(ctx context.Context, ops []kv.Op) (err error) {
	defer recoverTo(&err, "idbkv %q commit", b.name)
	db, err := b.conn()
	if err != nil {
		return fmt.Errorf("idbkv %q commit: %w", b.name, err)
	}
	if len(ops) == 0 {
		return nil
	}
	var tables []string
	for _, op := range ops {
		if !slices.Contains(tables, op.Table) {
			if !b.hasTable(op.Table) {
				return fmt.Errorf("idbkv %q commit: table %q key %q: %w", b.name, op.Table, op.Key, ErrUnknownTable)
			}
			tables = append(tables, op.Table)
		}
	}
	desc := fmt.Sprintf("idbkv %q commit of %d ops on %s", b.name, len(ops), strings.Join(tables, ","))
	if commit, _, ok := fastCalls(); ok && !slices.ContainsFunc(tables, func(t string) bool { return strings.ContainsRune(t, 0) }) {
		return b.commitFast(ctx, commit, db, tables, ops, desc) // the helper gets the table names joined by NUL
	}
	scope := make([]any, len(tables))
	for i, t := range tables {
		scope[i] = t
	}
	tx, err := b.transaction(db, scope, "readwrite")
	if err != nil {
		return fmt.Errorf("%s: %w", desc, err)
	}
	w, err := watchTx(tx)
	if err != nil {
		_, _ = tx.Call("abort")
		return fmt.Errorf("%s: %w", desc, err)
	}
	reqs, err := b.issueWrites(tx, tables, ops)
	if err != nil {
		_, _ = tx.Call("abort")
		_ = w.wait(context.Background())
		return fmt.Errorf("%s: %w", desc, err)
	}
	txErr := w.wait(ctx)
	if txErr == nil {
		return nil
	}
	// Name the op: the request that failed first, else (a quota failure at
	// commit time belongs to no request) the largest write.
	if w.hasFail {
		for i, r := range reqs {
			if r.Equal(w.failed) {
				return fmt.Errorf("%s: failed at table %q key %q: %w", desc, ops[i].Table, ops[i].Key, txErr)
			}
		}
	}
	return largestWriteError(desc, ops, txErr)
}

// largestWriteError names the largest write of a batch that failed at
// commit time (a quota failure belongs to no request).
func largestWriteError(desc string, ops []kv.Op, txErr error) error {
	big := 0
	for i, op := range ops {
		if len(op.Value) > len(ops[big].Value) {
			big = i
		}
	}
	return fmt.Errorf("%s: failed (largest write: table %q key %q, %d bytes): %w", desc, ops[big].Table, ops[big].Key, len(ops[big].Value), txErr)
}

func (b *Backend) issueWrites(tx safejs.Value, tables []string, ops []kv.Op) ([]safejs.Value, error) {
	stores := make(map[string]safejs.Value, len(tables))
	for _, t := range tables {
		st, err := tx.Call("objectStore", t)
		if err != nil {
			return nil, fmt.Errorf("object store %q: %w", t, jsCallError(err))
		}
		stores[t] = st
	}
	// One copy of every key and value into JS, then views and slices of it.
	p, offs, err := newPacker(b.g, func(yield func(string, []byte)) {
		for _, op := range ops {
			yield(op.Key, nil)
			if !op.Delete {
				yield("", op.Value)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	reqs := make([]safejs.Value, len(ops))
	j := 0
	for i, op := range ops {
		st := stores[op.Table]
		key, err := p.view(offs[j], len(op.Key))
		j++
		if err == nil {
			if op.Delete {
				reqs[i], err = st.Call("delete", key)
			} else {
				var val safejs.Value
				val, err = p.copyOf(offs[j], len(op.Value))
				j++
				if err == nil {
					reqs[i], err = st.Call("put", val, key)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("table %q key %q: %w", op.Table, op.Key, jsCallError(err))
		}
	}
	return reqs, nil
}

// recoverTo turns a panic (a JS surprise safejs did not catch) into an
// error: in wasm a panic would end the whole program.
func recoverTo(err *error, format string, args ...any) {
	if r := recover(); r != nil {
		*err = fmt.Errorf(format+": internal error: %v", append(args, r)...)
	}
}
