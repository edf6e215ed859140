//go:build js

package idbkv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/wasmeow/wasmeow/jsbridge"
)

// jsGlobals are the constructors the package needs, looked up once.
type jsGlobals struct {
	factory    safejs.Value // indexedDB
	uint8Array safejs.Value
	arrayBuf   safejs.Value
	keyRange   safejs.Value // IDBKeyRange
	// for bulk copies: Function.prototype.call, the byteLength getters of
	// typed arrays and of ArrayBuffer, Uint32Array and Blob
	call, viewLen, bufLen, uint32Array, blob safejs.Value
}

var (
	globalsOnce sync.Once
	globals     jsGlobals
	globalsErr  error
)

func getGlobals() (*jsGlobals, error) {
	globalsOnce.Do(func() {
		g := safejs.Global()
		get := func(name string) safejs.Value {
			if globalsErr != nil {
				return safejs.Undefined()
			}
			v, err := g.Get(name)
			if err == nil && (v.IsUndefined() || v.IsNull()) {
				err = fmt.Errorf("global %s is missing", name)
			}
			if err != nil {
				globalsErr = fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			return v
		}
		globals = jsGlobals{
			factory:    get("indexedDB"),
			uint8Array: get("Uint8Array"),
			arrayBuf:   get("ArrayBuffer"),
			keyRange:   get("IDBKeyRange"),
		}
		if globalsErr == nil {
			globals.bulkInit()
		}
	})
	return &globals, globalsErr
}

// bulkInit finds what bulkBytes needs; without it (odd engines) Scan
// copies record by record.
func (g *jsGlobals) bulkInit() {
	glob := safejs.Global()
	getter := func(proto safejs.Value) safejs.Value {
		obj, err := glob.Get("Object")
		if err != nil {
			return safejs.Undefined()
		}
		d, err := obj.Call("getOwnPropertyDescriptor", proto, "byteLength")
		if err != nil || d.IsUndefined() {
			return safejs.Undefined()
		}
		f, _ := d.Get("get")
		return f
	}
	fn, _ := glob.Get("Function")
	fnProto, _ := fn.Get("prototype")
	g.call, _ = fnProto.Get("call")
	u8proto, _ := g.uint8Array.Get("prototype")
	obj, _ := glob.Get("Object")
	typedProto, _ := obj.Call("getPrototypeOf", u8proto)
	g.viewLen = getter(typedProto)
	abProto, _ := g.arrayBuf.Get("prototype")
	g.bufLen = getter(abProto)
	g.uint32Array, _ = glob.Get("Uint32Array")
	g.blob, _ = glob.Get("Blob")
}

// bulkPairs copies the results of getAllKeys (ArrayBuffers) and getAll
// (Uint8Arrays) of n records to Go in a constant number of calls instead of
// several per record: lengths through arr.map(Function.prototype.call,
// byteLength getter), all bytes through one Blob read. It fails (and the
// caller copies record by record, naming the bad one) if any element is of
// another type.
func bulkPairs(ctx context.Context, g *jsGlobals, keys, vals safejs.Value, n int) ([][]byte, [][]byte, error) {
	if g.bufLen.IsUndefined() || g.viewLen.IsUndefined() || g.blob.IsUndefined() || g.uint32Array.IsUndefined() || g.call.IsUndefined() {
		return nil, nil, errors.New("bulk copy unsupported")
	}
	keyLens, err := bulkLengths(g, keys, g.bufLen, n)
	if err != nil {
		return nil, nil, err
	}
	valLens, err := bulkLengths(g, vals, g.viewLen, n)
	if err != nil {
		return nil, nil, err
	}
	total := 0
	for i := range n {
		total += keyLens[i] + valLens[i]
	}
	data := make([]byte, total)
	if total > 0 {
		all, err := keys.Call("concat", vals)
		if err != nil {
			return nil, nil, jsCallError(err)
		}
		blob, err := g.blob.New(all)
		if err != nil {
			return nil, nil, jsCallError(err)
		}
		p, err := blob.Call("arrayBuffer")
		if err != nil {
			return nil, nil, jsCallError(err)
		}
		ab, err := awaitPromise(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		u8, err := g.uint8Array.New(ab)
		if err != nil {
			return nil, nil, jsCallError(err)
		}
		if m, err := safejs.CopyBytesToGo(data, u8); err != nil || m != total {
			return nil, nil, fmt.Errorf("copying %d bytes: got %d, %v", total, m, err)
		}
	}
	split := func(lens []int) [][]byte {
		out := make([][]byte, n)
		for i, sz := range lens {
			out[i] = data[:sz:sz]
			data = data[sz:]
		}
		return out
	}
	k := split(keyLens)
	return k, split(valLens), nil
}

func bulkLengths(g *jsGlobals, arr, getter safejs.Value, n int) ([]int, error) {
	lens, err := arr.Call("map", g.call, getter)
	if err != nil {
		return nil, jsCallError(err)
	}
	lens32, err := g.uint32Array.New(lens)
	if err != nil {
		return nil, jsCallError(err)
	}
	lensBuf, err := lens32.Get("buffer")
	if err != nil {
		return nil, err
	}
	lensU8, err := g.uint8Array.New(lensBuf)
	if err != nil {
		return nil, jsCallError(err)
	}
	raw := make([]byte, 4*n)
	if m, err := safejs.CopyBytesToGo(raw, lensU8); err != nil || m != len(raw) {
		return nil, fmt.Errorf("copying %d lengths: %d bytes, %v", n, m, err)
	}
	out := make([]int, n)
	for i := range out {
		out[i] = int(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, nil
}

// packer copies many byte strings to JS with one copy: keys become views
// (IndexedDB copies key bytes), values become slices with their own buffer
// (a stored view would drag its whole underlying buffer into the record).
type packer struct {
	g   *jsGlobals
	buf safejs.Value
}

func newPacker(g *jsGlobals, parts func(yield func(key string, value []byte))) (*packer, []int, error) {
	var total int
	var offs []int
	parts(func(k string, v []byte) { offs = append(offs, total); total += len(k) + len(v) })
	data := make([]byte, 0, total)
	parts(func(k string, v []byte) { data = append(append(data, k...), v...) })
	buf, err := g.uint8Array.New(total)
	if err != nil {
		return nil, nil, fmt.Errorf("allocating %d bytes in JS: %w", total, jsCallError(err))
	}
	if _, err := safejs.CopyBytesToJS(buf, data); err != nil {
		return nil, nil, fmt.Errorf("copying %d bytes to JS: %w", total, err)
	}
	return &packer{g: g, buf: buf}, offs, nil
}

func (p *packer) view(off, n int) (safejs.Value, error) {
	return p.buf.Call("subarray", off, off+n)
}

func (p *packer) copyOf(off, n int) (safejs.Value, error) {
	return p.buf.Call("slice", off, off+n)
}

// keyValue makes a binary IndexedDB key from a Go string. Keys are binary,
// not JS strings, because kv keys are arbitrary bytes ordered bytewise:
// binary keys compare exactly that way, JS strings compare by UTF-16 code
// unit and cannot carry invalid UTF-8.
func keyValue(g *jsGlobals, k string) (safejs.Value, error) {
	v, err := g.uint8Array.New(len(k))
	if err != nil {
		return v, jsCallError(err)
	}
	if len(k) > 0 {
		if _, err := safejs.CopyBytesToJS(v, []byte(k)); err != nil {
			return v, err
		}
	}
	return v, nil
}

// goBytes copies a stored value (Uint8Array, or an ArrayBuffer from a binary
// key) to Go; anything else is a record this package did not write. The
// common case (a Uint8Array) costs two calls: its length, then the copy.
func goBytes(g *jsGlobals, v safejs.Value) ([]byte, error) {
	if v.Type() != safejs.TypeObject {
		return nil, fmt.Errorf("record is a JS %s, not bytes", v.Type())
	}
	l, err := v.Get("length")
	if err != nil {
		return nil, err
	}
	if l.Type() != safejs.TypeNumber {
		// no length: an ArrayBuffer (a key), or not bytes at all
		if ok, _ := v.InstanceOf(g.arrayBuf); !ok {
			return nil, errors.New("record is a JS object, not bytes")
		}
		if v, err = g.uint8Array.New(v); err != nil {
			return nil, jsCallError(err)
		}
		if l, err = v.Get("length"); err != nil {
			return nil, err
		}
	}
	n, err := l.Int()
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if n > 0 {
		if _, err := safejs.CopyBytesToGo(out, v); err != nil {
			return nil, errors.New("record is a JS array-like object, not bytes")
		}
	}
	return out, nil
}

// txWatch waits for one transaction to end. IndexedDB reports each failed
// request as an "error" event bubbling to the transaction, then "abort";
// the first failing request tells which op broke the batch.
// The fast calls' watch (newFastWatch) has no handlers of its own on the
// transaction: the helper calls fn once.
type txWatch struct {
	tx       safejs.Value
	fn       safejs.Func
	done     chan bool // whether it committed, sent once
	failed   safejs.Value
	hasFail  bool
	handlers bool // fn is the transaction's event handler

	// set by the helper's callback: the op whose request failed (-1: none),
	// and a get's values and their lengths
	failedOp        int
	values, lengths safejs.Value
}

func watchTx(tx safejs.Value) (*txWatch, error) {
	w := &txWatch{tx: tx, done: make(chan bool, 1), handlers: true}
	fn, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		defer func() { _ = recover() }() // a panic here would end the whole program
		if len(args) == 0 {
			return nil
		}
		ev := args[0]
		typ := propString(ev, "type")
		switch typ {
		case "error":
			// Requests cut short by the abort report AbortError: effects, not the cause.
			if !w.hasFail {
				if target, err := ev.Get("target"); err == nil {
					if reqErr, err := target.Get("error"); err == nil && propString(reqErr, "name") != "AbortError" {
						w.failed, w.hasFail = target, true
					}
				}
			}
		case "complete", "abort":
			select {
			case w.done <- typ == "complete":
			default:
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	w.fn = fn
	for _, name := range []string{"oncomplete", "onabort", "onerror"} {
		if err := tx.Set(name, fn); err != nil {
			fn.Release()
			return nil, err
		}
	}
	return w, nil
}

// wait returns nil when the transaction committed, else the reason it
// aborted. Cancelling ctx aborts the transaction if it has not committed yet.
func (w *txWatch) wait(ctx context.Context) error {
	defer w.release()
	var committed bool
	select {
	case committed = <-w.done:
	case <-ctx.Done():
		// abort throws once the transaction is committing; then its own
		// outcome stands, and we report that instead of a guess.
		_, abortErr := w.tx.Call("abort")
		committed = <-w.done
		if abortErr == nil || !committed {
			return fmt.Errorf("transaction aborted: %w", ctx.Err())
		}
	}
	if committed {
		return nil
	}
	txErr, err := w.tx.Get("error")
	if err != nil || txErr.IsNull() || txErr.IsUndefined() {
		return &DOMError{Name: "AbortError", Message: "transaction aborted"}
	}
	return domError(txErr)
}

func (w *txWatch) release() {
	if w.handlers {
		for _, name := range []string{"oncomplete", "onabort", "onerror"} {
			_ = w.tx.Set(name, safejs.Null())
		}
	}
	w.fn.Release()
}

// awaitPromise waits for a JS promise to settle, with jsbridge's awaiter
// (the one every Go side of wasmeow uses); a rejection is the DOMError it
// carries, and an ended ctx is ctx.Err().
func awaitPromise(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	v, err := jsbridge.Await(ctx, safejs.Unsafe(p))
	if err == nil {
		return safejs.Safe(v), nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return safejs.Undefined(), ctx.Err()
	}
	var je *jsbridge.JSError
	if errors.As(err, &je) {
		name := je.Name
		if name == "" {
			name = "Error"
		}
		return safejs.Undefined(), &DOMError{Name: name, Message: je.Message}
	}
	return safejs.Undefined(), err
}
