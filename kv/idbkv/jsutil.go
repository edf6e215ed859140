//go:build js

package idbkv

import (
	"context"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// jsGlobals are the constructors the package needs, looked up once.
type jsGlobals struct {
	factory    safejs.Value // indexedDB
	uint8Array safejs.Value
	arrayBuf   safejs.Value
	keyRange   safejs.Value // IDBKeyRange
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
	})
	return &globals, globalsErr
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
// key) to Go; anything else is a record this package did not write.
func goBytes(g *jsGlobals, v safejs.Value) ([]byte, error) {
	if ok, _ := v.InstanceOf(g.arrayBuf); ok {
		view, err := g.uint8Array.New(v)
		if err != nil {
			return nil, jsCallError(err)
		}
		v = view
	} else if ok, _ := v.InstanceOf(g.uint8Array); !ok {
		return nil, fmt.Errorf("record is a JS %s, not bytes", v.Type())
	}
	n, err := v.Length()
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if n > 0 {
		if _, err := safejs.CopyBytesToGo(out, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// txWatch waits for one transaction to end. IndexedDB reports each failed
// request as an "error" event bubbling to the transaction, then "abort";
// the first failing request tells which op broke the batch.
type txWatch struct {
	tx      safejs.Value
	fn      safejs.Func
	done    chan string // "complete" or "abort", sent once
	failed  safejs.Value
	hasFail bool
}

func watchTx(tx safejs.Value) (*txWatch, error) {
	w := &txWatch{tx: tx, done: make(chan string, 1)}
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
			case w.done <- typ:
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
	var outcome string
	select {
	case outcome = <-w.done:
	case <-ctx.Done():
		// abort throws once the transaction is committing; then its own
		// outcome stands, and we report that instead of a guess.
		_, abortErr := w.tx.Call("abort")
		outcome = <-w.done
		if abortErr == nil || outcome == "abort" {
			return fmt.Errorf("transaction aborted: %w", ctx.Err())
		}
	}
	if outcome == "complete" {
		return nil
	}
	txErr, err := w.tx.Get("error")
	if err != nil || txErr.IsNull() || txErr.IsUndefined() {
		return &DOMError{Name: "AbortError", Message: "transaction aborted"}
	}
	return domError(txErr)
}

func (w *txWatch) release() {
	for _, name := range []string{"oncomplete", "onabort", "onerror"} {
		_ = w.tx.Set(name, safejs.Null())
	}
	w.fn.Release()
}

// awaitPromise waits for a JS promise to settle.
func awaitPromise(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	ch := make(chan result, 1)
	settle := func(ok bool) (safejs.Func, error) {
		return safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
			defer func() { _ = recover() }()
			v := safejs.Undefined()
			if len(args) > 0 {
				v = args[0]
			}
			r := result{v: v}
			if !ok {
				r.err = domError(v)
			}
			select {
			case ch <- r:
			default:
			}
			return nil
		})
	}
	onOK, err := settle(true)
	if err != nil {
		return safejs.Undefined(), err
	}
	onErr, err := settle(false)
	if err != nil {
		onOK.Release()
		return safejs.Undefined(), err
	}
	if _, err := p.Call("then", onOK, onErr); err != nil {
		onOK.Release()
		onErr.Release()
		return safejs.Undefined(), jsCallError(err)
	}
	select {
	case r := <-ch:
		onOK.Release()
		onErr.Release()
		return r.v, r.err
	case <-ctx.Done():
		// The promise may still settle: keep the handlers alive until it does.
		go func() { <-ch; onOK.Release(); onErr.Release() }()
		return safejs.Undefined(), ctx.Err()
	}
}
