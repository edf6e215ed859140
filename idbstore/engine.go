package idbstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/btree"

	"github.com/wasmeow/wasmeow/kv"
)

// entry is one cached record. present=false records a key known to be
// absent (a delete, or a backend miss), so repeat misses stay in memory too.
type entry struct {
	key     string
	val     []byte
	present bool
}

func entryLess(a, b entry) bool { return a.key < b.key }

// cachedTable mirrors one kv table. The cache never evicts: every write goes
// through it, so it always holds the newest value of every key written by
// this process, committed or not. That is what makes reading the backend for
// anything else correct.
type cachedTable struct {
	tree *btree.BTreeG[entry]
	// loaded holds key prefixes (component boundaries, "" for the whole
	// table) whose every record is in tree: misses under them need no backend.
	loaded map[string]struct{}
}

// engine is the cache plus the write-behind queue in front of a kv.Backend.
//
// Writes update the cache at once and are queued as units; one committer
// goroutine takes every queued unit and commits them as ONE Backend.Commit
// (group commit). A unit is never split across commits, so a transaction is
// atomic in the backend too. Flush waits until everything queued before it is
// durable.
//
// A failed Commit is sticky: the failed batch and anything queued after it are
// dropped (committing later writes without the failed ones would leave the
// backend inconsistent), every later write and Flush returns the error, and
// reads keep answering from the in-memory view, which still includes the
// writes that were never made durable. Reopening the container on the backend
// is the way back to durable state.
type engine struct {
	b kv.Backend

	mu       sync.Mutex
	tables   map[string]*cachedTable
	queue    []kv.Op
	queued   uint64 // units enqueued so far
	durable  uint64 // units known committed
	err      error  // sticky commit error
	closed   bool
	progress chan struct{}     // closed and replaced whenever durable or err change
	gens     map[string]uint64 // per table: bumped by every enqueued write to it
	stamp    []kv.Op           // committed with the first batch, then dropped (the layout record of a fresh store)

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newEngine(b kv.Backend) *engine {
	e := &engine{
		b:        b,
		tables:   make(map[string]*cachedTable, len(Tables)),
		gens:     make(map[string]uint64, len(Tables)),
		progress: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, t := range Tables {
		e.tables[t] = &cachedTable{tree: btree.NewG(32, entryLess), loaded: make(map[string]struct{})}
	}
	go e.commitLoop()
	return e
}

func (e *engine) table(name string) *cachedTable {
	t, ok := e.tables[name]
	if !ok {
		// Only reachable through a bug in this package; a panic in wasm would
		// end the whole program, so just cache it like any other table.
		t = &cachedTable{tree: btree.NewG(32, entryLess), loaded: make(map[string]struct{})}
		e.tables[name] = t
	}
	return t
}

// usable reports why the engine cannot serve a call (closed), under e.mu.
func (e *engine) usableLocked() error {
	if e.closed {
		return ErrClosed
	}
	return nil
}

// writableLocked also refuses writes after a commit failure, under e.mu.
func (e *engine) writableLocked() error {
	if e.closed {
		return ErrClosed
	}
	return e.err
}

// isLoadedLocked reports whether every record under the component-boundary
// prefixes of key (or the key's own prefix p) is cached.
// eachUnder calls fn for every cached entry (tombstones too) whose key starts
// with prefix, in key order. The engine's lock must be held.
func (t *cachedTable) eachUnder(prefix string, fn func(entry)) {
	t.tree.AscendGreaterOrEqual(entry{key: prefix}, func(ent entry) bool {
		if !strings.HasPrefix(ent.key, prefix) {
			return false
		}
		fn(ent)
		return true
	})
}

func (t *cachedTable) isLoaded(key string) bool {
	if len(t.loaded) == 0 {
		return false
	}
	if _, ok := t.loaded[""]; ok {
		return true
	}
	for i := 0; i < len(key); i++ {
		if key[i] == sep {
			if _, ok := t.loaded[key[:i+1]]; ok {
				return true
			}
		}
	}
	_, ok := t.loaded[key]
	return ok
}

// get returns the values of keys (nil where absent), from the transaction's
// overlay, then the cache, then one backend Get for every key still unknown.
func (e *engine) get(ctx context.Context, tx *txn, table string, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	known := make([]bool, len(keys))
	if tx != nil {
		for i, k := range keys {
			if ent, ok := tx.lookup(table, k); ok {
				out[i], known[i] = ent.val, true
			}
		}
	}
	e.mu.Lock()
	if err := e.usableLocked(); err != nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("idbstore: read %s: %w", table, err)
	}
	t := e.table(table)
	var missing []string
	var missingIdx []int
	for i, k := range keys {
		if known[i] {
			continue
		}
		if ent, ok := t.tree.Get(entry{key: k}); ok {
			out[i] = ent.val
		} else if !t.isLoaded(k) {
			missing = append(missing, k)
			missingIdx = append(missingIdx, i)
		}
	}
	e.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	vals, err := e.b.Get(ctx, table, missing)
	if err != nil {
		return nil, fmt.Errorf("idbstore: read %s %q: %w", table, missing[0], err)
	}
	if len(vals) != len(missing) {
		return nil, fmt.Errorf("idbstore: read %s: backend returned %d values for %d keys", table, len(vals), len(missing))
	}
	e.mu.Lock()
	for j, k := range missing {
		// A write that raced with the backend read is newer: keep it.
		if ent, ok := t.tree.Get(entry{key: k}); ok {
			out[missingIdx[j]] = ent.val
			continue
		}
		t.tree.ReplaceOrInsert(entry{key: k, val: vals[j], present: vals[j] != nil})
		out[missingIdx[j]] = vals[j]
	}
	e.mu.Unlock()
	return out, nil
}

// get1 is get for one key.
func (e *engine) get1(ctx context.Context, tx *txn, table, key string) ([]byte, error) {
	vals, err := e.get(ctx, tx, table, []string{key})
	if err != nil {
		return nil, err
	}
	return vals[0], nil
}

// scan returns every present record of table under prefix, in key order, as
// seen by tx. When fill is set the backend's answer is kept in the cache and
// prefix is marked loaded (it must then be a component boundary or "");
// otherwise the answer is merged with the cache without growing it (for rare
// whole-table sweeps).
func (e *engine) scan(ctx context.Context, tx *txn, table, prefix string, fill bool) ([]kv.Pair, error) {
	e.mu.Lock()
	if err := e.usableLocked(); err != nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("idbstore: scan %s: %w", table, err)
	}
	t := e.table(table)
	loaded := t.isLoaded(prefix)
	e.mu.Unlock()

	var fromBackend []kv.Pair
	if !loaded {
		var err error
		fromBackend, err = e.b.Scan(ctx, table, prefix)
		if err != nil {
			return nil, fmt.Errorf("idbstore: scan %s prefix %q: %w", table, prefix, err)
		}
	}

	if len(fromBackend) == 0 && (tx == nil || !tx.touches(table)) {
		// Everything is in the cache, already in key order: no merge.
		out := []kv.Pair{}
		e.mu.Lock()
		if fill {
			t.loaded[prefix] = struct{}{}
		}
		t.eachUnder(prefix, func(ent entry) {
			if ent.present {
				out = append(out, kv.Pair{Key: ent.key, Value: ent.val})
			}
		})
		e.mu.Unlock()
		return out, nil
	}

	merged := make(map[string][]byte)
	e.mu.Lock()
	for _, p := range fromBackend {
		if fill {
			if _, ok := t.tree.Get(entry{key: p.Key}); !ok {
				t.tree.ReplaceOrInsert(entry{key: p.Key, val: p.Value, present: true})
			}
		} else {
			merged[p.Key] = p.Value
		}
	}
	if fill {
		t.loaded[prefix] = struct{}{}
	}
	t.eachUnder(prefix, func(ent entry) {
		if ent.present {
			merged[ent.key] = ent.val
		} else {
			delete(merged, ent.key)
		}
	})
	e.mu.Unlock()
	if tx != nil {
		for k, ent := range tx.overlay[table] {
			if !strings.HasPrefix(k, prefix) {
				continue
			}
			if ent.present {
				merged[k] = ent.val
			} else {
				delete(merged, k)
			}
		}
	}
	out := make([]kv.Pair, 0, len(merged))
	for k, v := range merged {
		out = append(out, kv.Pair{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// bulkThreshold is the batch size above which mass inserts read their
// device's (or the global) range once instead of key by key.
const bulkThreshold = 64

// ensureLoaded reads every record under prefix into the cache once, so that
// later gets and scans under it never touch the backend.
func (e *engine) ensureLoaded(ctx context.Context, table, prefix string) error {
	e.mu.Lock()
	if err := e.usableLocked(); err != nil {
		e.mu.Unlock()
		return fmt.Errorf("idbstore: scan %s: %w", table, err)
	}
	loaded := e.table(table).isLoaded(prefix)
	e.mu.Unlock()
	if loaded {
		return nil
	}
	_, err := e.scan(ctx, nil, table, prefix, true)
	return err
}

// enqueue applies one unit of ops to the cache and queues it for the next
// group commit.
func (e *engine) enqueue(ops []kv.Op) error {
	if len(ops) == 0 {
		return nil
	}
	e.mu.Lock()
	if err := e.writableLocked(); err != nil {
		e.mu.Unlock()
		return fmt.Errorf("idbstore: write %s: %w", opTables(ops), err)
	}
	for _, op := range ops {
		e.table(op.Table).tree.ReplaceOrInsert(entry{key: op.Key, val: op.Value, present: !op.Delete})
		e.gens[op.Table]++
	}
	e.queue = append(e.queue, ops...)
	e.queued++
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return nil
}

// tableGen is a counter that changes whenever the shared view of table
// changes: what derived caches (the MAC index) compare to know they are stale.
func (e *engine) tableGen(table string) uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gens[table]
}

func (e *engine) commitLoop() {
	defer close(e.done)
	for {
		select {
		case <-e.wake:
		case <-e.stop:
			// Close flushed before stopping; anything left is a failed batch.
			return
		}
		e.mu.Lock()
		ops, upTo, stamp := e.queue, e.queued, e.stamp
		e.queue = nil
		failed := e.err != nil
		e.mu.Unlock()
		if len(ops) == 0 || failed {
			continue
		}
		batch := coalesce(ops)
		if len(stamp) > 0 {
			batch = append(slices.Clone(stamp), batch...)
		}
		err := recovered(func() error { return e.b.Commit(context.Background(), batch) })
		e.mu.Lock()
		if err == nil {
			e.stamp = nil
		}
		if err != nil {
			e.err = fmt.Errorf("idbstore: commit of %d writes to %s failed, state since the last successful commit is not durable: %w", len(ops), opTables(ops), err)
			e.queue = nil
		} else {
			e.durable = upTo
		}
		close(e.progress)
		e.progress = make(chan struct{})
		e.mu.Unlock()
	}
}

// flush waits until every unit enqueued before the call is durable.
func (e *engine) flush(ctx context.Context) error {
	e.mu.Lock()
	target := e.queued
	e.mu.Unlock()
	return e.flushTo(ctx, target)
}

// mark is the number of units enqueued so far: flushTo(mark) waits for them.
func (e *engine) mark() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.queued
}

// flushTo waits until the first target units enqueued are durable (or the
// sticky error), not for what was enqueued after them.
func (e *engine) flushTo(ctx context.Context, target uint64) error {
	e.mu.Lock()
	for {
		if e.err != nil {
			err := e.err
			e.mu.Unlock()
			return err
		}
		if e.durable >= target {
			e.mu.Unlock()
			return nil
		}
		ch := e.progress
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("idbstore: flush: %w", ctx.Err())
		}
		e.mu.Lock()
	}
}

// close refuses new calls, waits for queued writes, stops the committer and
// closes the backend.
func (e *engine) close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	e.closed = true
	e.mu.Unlock()
	flushErr := e.flush(context.Background())
	close(e.stop)
	<-e.done
	closeErr := recovered(e.b.Close)
	if closeErr != nil {
		closeErr = fmt.Errorf("idbstore: close backend: %w", closeErr)
	}
	return errors.Join(flushErr, closeErr)
}

// recovered runs a backend call on a goroutine of ours, turning a panic into
// an error: in wasm a panic would end the whole program.
func recovered(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("backend panicked: %v", r)
		}
	}()
	return fn()
}

// coalesce drops every op that a later op of the same batch overwrites. The
// batch commits atomically, so the outcome is the same with fewer writes
// (a session rewritten by 50 queued decryptions is written once).
func coalesce(ops []kv.Op) []kv.Op {
	type tk struct{ table, key string }
	seen := make(map[tk]struct{}, len(ops))
	keep := make([]bool, len(ops))
	n := 0
	for i := len(ops) - 1; i >= 0; i-- {
		k := tk{ops[i].Table, ops[i].Key}
		if _, ok := seen[k]; ok {
			continue
		}
		seen[k] = struct{}{}
		keep[i] = true
		n++
	}
	if n == len(ops) {
		return ops
	}
	out := make([]kv.Op, 0, n)
	for i, op := range ops {
		if keep[i] {
			out = append(out, op)
		}
	}
	return out
}

func opTables(ops []kv.Op) string {
	var names []string
	for _, op := range ops {
		if !slices.Contains(names, op.Table) {
			names = append(names, op.Table)
		}
	}
	return strings.Join(names, ",")
}

// txn collects the writes of one atomic unit (DoDecryptionTxn, or a
// multi-record method). Reads through it see its own writes; nobody else
// does until it commits, and then all of them land in one Backend.Commit.
type txn struct {
	e       *engine
	mu      sync.Mutex
	ops     []kv.Op
	overlay map[string]map[string]entry
}

type txnKey struct{ e *engine }

func (e *engine) txnFrom(ctx context.Context) *txn {
	tx, _ := ctx.Value(txnKey{e}).(*txn)
	return tx
}

func (tx *txn) lookup(table, key string) (entry, bool) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	ent, ok := tx.overlay[table][key]
	return ent, ok
}

// touches reports whether the transaction wrote to table.
func (tx *txn) touches(table string) bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return len(tx.overlay[table]) > 0
}

func (tx *txn) add(ops []kv.Op) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	for _, op := range ops {
		m := tx.overlay[op.Table]
		if m == nil {
			m = make(map[string]entry)
			tx.overlay[op.Table] = m
		}
		m[op.Key] = entry{key: op.Key, val: op.Value, present: !op.Delete}
	}
	tx.ops = append(tx.ops, ops...)
}

// doTxn runs fn with a transaction in its context: the one already there
// (nested calls join it, like dbutil's DoTxn), or a new one that is enqueued
// as one unit if fn succeeds and dropped if it fails.
func (e *engine) doTxn(ctx context.Context, fn func(ctx context.Context) error) error {
	if e.txnFrom(ctx) != nil {
		return fn(ctx)
	}
	e.mu.Lock()
	err := e.writableLocked()
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("idbstore: begin transaction: %w", err)
	}
	tx := &txn{e: e, overlay: make(map[string]map[string]entry)}
	if err = fn(context.WithValue(ctx, txnKey{e}, tx)); err != nil {
		return err
	}
	tx.mu.Lock()
	ops := tx.ops
	tx.ops = nil
	tx.mu.Unlock()
	return e.enqueue(ops)
}

// write stores ops: into the context's transaction when there is one, else
// as a unit of their own.
func (e *engine) write(ctx context.Context, ops ...kv.Op) error {
	if len(ops) == 0 {
		return nil
	}
	if tx := e.txnFrom(ctx); tx != nil {
		e.mu.Lock()
		err := e.writableLocked()
		e.mu.Unlock()
		if err != nil {
			return fmt.Errorf("idbstore: write %s: %w", opTables(ops), err)
		}
		tx.add(ops)
		return nil
	}
	return e.enqueue(ops)
}
