//go:build js

package idbkv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall/js"

	"github.com/hack-pad/safejs"

	"github.com/wasmeow/wasmeow/kv"
)

// The batch calls of wasmeow.js's fastCalls: a commit, or a get of many
// keys, crosses from wasm to JS a constant number of times (the batch's
// bytes, the call, its one callback) instead of a few times per record.
// Without them (the Go tests run without wasmeow.js unless they install
// them) every request is issued from Go, as before; both paths report the
// same errors.
var (
	fastMu     sync.RWMutex
	fastCommit safejs.Value // idbCommit(db, stores, durability, buf, n, done)
	fastGet    safejs.Value // idbGet(db, store, buf, n, done)
	fastOn     bool
)

// fastDelete marks a delete in a commit's header (a value length no value has).
const fastDelete = 0xffffffff

// fastGatherFailed is a get's badRecord when the helper could not gather
// the values it read (an allocation failing in JS).
const fastGatherFailed = -2

// UseFastCalls installs the helper object wasmeow.js makes (its functions
// idbCommit and idbGet, see fastCalls there) for every backend; a null or
// undefined h uninstalls it.
func UseFastCalls(h js.Value) error {
	fastMu.Lock()
	defer fastMu.Unlock()
	if h.IsNull() || h.IsUndefined() {
		fastOn = false
		return nil
	}
	c, g := h.Get("idbCommit"), h.Get("idbGet")
	if c.Type() != js.TypeFunction || g.Type() != js.TypeFunction {
		return errors.New("idbkv: the fast-call helper lacks idbCommit or idbGet")
	}
	fastCommit, fastGet, fastOn = safejs.Safe(c), safejs.Safe(g), true
	return nil
}

func fastCalls() (commit, get safejs.Value, ok bool) {
	fastMu.RLock()
	defer fastMu.RUnlock()
	return fastCommit, fastGet, fastOn
}

// fastThrow reads what the helper throws: {op, error, started}, op the
// index of the op that threw (-1: none), started whether the transaction
// began (then the helper aborted it and its callback follows).
func fastThrow(err error) (op int, started bool, cause error) {
	var jerr js.Error
	if !errors.As(err, &jerr) {
		return -1, false, err
	}
	v := jerr.Value
	if v.Type() == js.TypeObject && v.Get("op").Type() == js.TypeNumber {
		return v.Get("op").Int(), v.Get("started").Truthy(), domError(safejs.Safe(v.Get("error")))
	}
	return -1, false, domError(safejs.Safe(v))
}

// commitFast is Commit through the helper: one call issues every op.
func (b *Backend) commitFast(ctx context.Context, commit, db safejs.Value, tables []string, ops []kv.Op, desc string) error {
	index := make(map[string]uint32, len(tables))
	for i, t := range tables {
		index[t] = uint32(i)
	}
	size := 12 * len(ops)
	for _, op := range ops {
		size += len(op.Key)
		if !op.Delete {
			size += len(op.Value)
		}
	}
	for _, op := range ops {
		if uint64(len(op.Key)) >= fastDelete || uint64(len(op.Value)) >= fastDelete {
			return fmt.Errorf("idbkv %q commit %s: a key or value of %d bytes does not fit the helper's uint32 lengths", b.name, desc, max(len(op.Key), len(op.Value)))
		}
	}
	data := make([]byte, 12*len(ops), size)
	for i, op := range ops {
		h := data[12*i:]
		binary.LittleEndian.PutUint32(h, index[op.Table])
		binary.LittleEndian.PutUint32(h[4:], uint32(len(op.Key)))
		vl := uint32(fastDelete)
		if !op.Delete {
			vl = uint32(len(op.Value))
		}
		binary.LittleEndian.PutUint32(h[8:], vl)
		data = append(data, op.Key...)
		if !op.Delete {
			data = append(data, op.Value...)
		}
	}
	buf, err := b.toJS(data)
	if err != nil {
		return fmt.Errorf("%s: %w", desc, err)
	}
	w, err := newFastWatch()
	if err != nil {
		return fmt.Errorf("%s: %w", desc, err)
	}
	tx, err := commit.Invoke(db, strings.Join(tables, "\x00"), b.durability, buf, len(ops), w.fn)
	if err != nil {
		op, started, cause := fastThrow(err)
		if !started {
			w.release()
			return fmt.Errorf("%s: %w", desc, b.startError(cause))
		}
		// The helper aborted the transaction: wait for it to end, as the
		// per-op path does, then name the op that threw.
		w.tx = tx
		_ = w.wait(context.Background())
		if op < 0 || op >= len(ops) {
			return fmt.Errorf("%s: %w", desc, cause)
		}
		return fmt.Errorf("%s: table %q key %q: %w", desc, ops[op].Table, ops[op].Key, cause)
	}
	w.tx = tx
	txErr := w.wait(ctx)
	if txErr == nil {
		return nil
	}
	if w.failedOp >= 0 && w.failedOp < len(ops) {
		return fmt.Errorf("%s: failed at table %q key %q: %w", desc, ops[w.failedOp].Table, ops[w.failedOp].Key, txErr)
	}
	return largestWriteError(desc, ops, txErr)
}

// getFast is Get through the helper: one call issues every read, one
// callback brings every value back, and two copies move them to Go.
func (b *Backend) getFast(ctx context.Context, get, db safejs.Value, table string, keys []string) ([][]byte, error) {
	size := 4 * len(keys)
	for _, k := range keys {
		size += len(k)
	}
	data := make([]byte, 4*len(keys), size)
	for i, k := range keys {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(len(k)))
		data = append(data, k...)
	}
	wrap := func(err error) error {
		return fmt.Errorf("idbkv %q get %s %d keys (first %q): %w", b.name, table, len(keys), keys[0], err)
	}
	buf, err := b.toJS(data)
	if err != nil {
		return nil, wrap(err)
	}
	w, err := newFastWatch()
	if err != nil {
		return nil, wrap(err)
	}
	tx, err := get.Invoke(db, table, buf, len(keys), w.fn)
	if err != nil {
		op, started, cause := fastThrow(err)
		if !started {
			w.release()
			return nil, wrap(b.startError(cause))
		}
		w.tx = tx
		_ = w.wait(context.Background())
		if op < 0 || op >= len(keys) {
			return nil, wrap(cause)
		}
		return nil, fmt.Errorf("idbkv %q get %s key %q: %w", b.name, table, keys[op], cause)
	}
	w.tx = tx
	if err := w.wait(ctx); err != nil {
		return nil, wrap(err)
	}
	if w.failedOp == fastGatherFailed {
		return nil, wrap(errors.New("gathering the values read into one buffer failed in JS (out of memory?)"))
	}
	if w.failedOp >= 0 && w.failedOp < len(keys) {
		return nil, fmt.Errorf("idbkv %q get %s key %q: record is not bytes", b.name, table, keys[w.failedOp])
	}
	raw := make([]byte, 4*len(keys))
	if m, err := safejs.CopyBytesToGo(raw, w.lengths); err != nil || m != len(raw) {
		return nil, wrap(fmt.Errorf("copying %d lengths: %d bytes, %v", len(keys), m, err))
	}
	out := make([][]byte, len(keys))
	total := 0
	for i := range keys {
		if l := binary.LittleEndian.Uint32(raw[4*i:]); l != fastDelete {
			total += int(l)
		}
	}
	all := make([]byte, total)
	if total > 0 {
		if m, err := safejs.CopyBytesToGo(all, w.values); err != nil || m != total {
			return nil, wrap(fmt.Errorf("copying %d bytes: %d, %v", total, m, err))
		}
	}
	for i := range keys {
		l := binary.LittleEndian.Uint32(raw[4*i:])
		if l == fastDelete {
			continue
		}
		out[i] = all[:l:l]
		all = all[l:]
	}
	return out, nil
}

// toJS copies data into a new Uint8Array.
func (b *Backend) toJS(data []byte) (safejs.Value, error) {
	buf, err := b.g.uint8Array.New(len(data))
	if err != nil {
		return buf, fmt.Errorf("allocating %d bytes in JS: %w", len(data), jsCallError(err))
	}
	if _, err := safejs.CopyBytesToJS(buf, data); err != nil {
		return buf, fmt.Errorf("copying %d bytes to JS: %w", len(data), err)
	}
	return buf, nil
}

// newFastWatch makes the done callback the helper calls once: (ok,
// failedOp) for a commit, (ok, values, lengths, badRecord) for a get.
func newFastWatch() (*txWatch, error) {
	w := &txWatch{done: make(chan bool, 1), failedOp: -1}
	fn, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		defer func() { _ = recover() }() // a panic here would end the whole program
		ok := len(args) > 0 && isTrue(args[0])
		switch len(args) {
		case 2: // a commit
			w.failedOp = intArg(args[1])
		case 4: // a get
			w.values, w.lengths, w.failedOp = args[1], args[2], intArg(args[3])
		}
		select {
		case w.done <- ok:
		default:
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	w.fn = fn
	return w, nil
}

func isTrue(v safejs.Value) bool {
	b, err := v.Bool()
	return err == nil && b
}

func intArg(v safejs.Value) int {
	n, err := v.Int()
	if err != nil {
		return -1
	}
	return n
}
