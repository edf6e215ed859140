//go:build js

package jsbridge

import (
	"fmt"
	"syscall/js"
)

// BytesToJS copies b into a new Uint8Array; nil becomes null.
func BytesToJS(b []byte) js.Value {
	if b == nil {
		return js.Null()
	}
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// BytesFromJS copies a Uint8Array (Node's Buffer included), any other
// ArrayBuffer view, or an ArrayBuffer into Go memory.
// A hostile value (a Proxy whose traps throw, a getter that throws) is an
// error, never a panic.
func BytesFromJS(v js.Value) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, PanicError("reading bytes", r)
		}
	}()
	g := js.Global()
	// Only protected calls touch v (see Get), and the bytes are copied from
	// a Uint8Array made here: copyBytesToGo's own instanceof check is not
	// protected either.
	switch {
	case v.Type() != js.TypeObject:
		return nil, fmt.Errorf("expected a Uint8Array, got %s", v.Type())
	case g.Get("ArrayBuffer").Call("isView", v).Bool(): // Uint8Array, Buffer, DataView, ...
		v = g.Get("Uint8Array").New(Get(v, "buffer"), Get(v, "byteOffset"), Get(v, "byteLength"))
	case InstanceOf(v, g.Get("ArrayBuffer")):
		v = g.Get("Uint8Array").New(v)
	default:
		return nil, fmt.Errorf("expected a Uint8Array, got %s", safeString(g.Get("Object").Get("prototype").Get("toString").Call("call", v)))
	}
	b = make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	return b, nil
}

// ValueOf is js.ValueOf that also takes []byte (as Uint8Array), errors (as
// JS Errors), []string and map[string]string, nested in maps and slices.
func ValueOf(x any) js.Value {
	switch v := x.(type) {
	case js.Value:
		return v
	case []byte:
		return BytesToJS(v)
	case error:
		return ErrorToJS(v)
	case []string:
		a := make([]any, len(v))
		for i, s := range v {
			a[i] = s
		}
		return js.ValueOf(a)
	case map[string]string:
		o := js.Global().Get("Object").New()
		for k, s := range v {
			o.Set(k, s)
		}
		return o
	case map[string]any:
		o := js.Global().Get("Object").New()
		for k, e := range v {
			o.Set(k, ValueOf(e))
		}
		return o
	case []any:
		a := js.Global().Get("Array").New(len(v))
		for i, e := range v {
			a.SetIndex(i, ValueOf(e))
		}
		return a
	default:
		return js.ValueOf(x)
	}
}

// IsFunction reports whether v is callable.
func IsFunction(v js.Value) bool { return v.Type() == js.TypeFunction }

// IsNullish reports whether v is undefined or null.
func IsNullish(v js.Value) bool { return v.IsUndefined() || v.IsNull() }

// Reading a property of a value the page gave us (options, a store's
// answer, an error it rejected with) must go through Get: js.Value.Get is
// not protected in wasm_exec.js, so a throwing getter or Proxy trap unwinds
// straight through the Go program's stack and leaves it unusable, where a
// throw inside Call, Invoke or New becomes a recoverable js.Error panic.
var (
	reflectGet    = js.Global().Get("Reflect").Get("get")
	isPrototypeOf = js.Global().Get("Object").Get("prototype").Get("isPrototypeOf")
)

// Get is v.Get(name) whose throws are js.Error panics (recovered by Func,
// Promise, invokeSafely and the other entry points) instead of unwinding
// through Go. On a non-object it panics as v.Get does.
func Get(v js.Value, name string) js.Value {
	if t := v.Type(); t != js.TypeObject && t != js.TypeFunction {
		return v.Get(name)
	}
	return reflectGet.Invoke(v, name)
}

// InstanceOf is v.InstanceOf(t) with the same protection as Get (a Proxy's
// getPrototypeOf trap may throw).
func InstanceOf(v, t js.Value) bool {
	if v.Type() != js.TypeObject && v.Type() != js.TypeFunction {
		return false
	}
	return isPrototypeOf.Call("call", Get(t, "prototype"), v).Bool()
}
