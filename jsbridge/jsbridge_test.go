//go:build js

package jsbridge

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"syscall/js"
	"testing"
	"time"
)

// evalJS runs a JS function body and returns its result.
func evalJS(t *testing.T, body string, args ...any) js.Value {
	t.Helper()
	return js.Global().Get("Function").New(body).Invoke(args...)
}

func TestPromiseResolvesRejectsAndRecoversPanics(t *testing.T) {
	ctx := context.Background()
	v, err := Await(ctx, Promise("ok", func() (any, error) { return []byte{1, 2, 3}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := BytesFromJS(v); !bytes.Equal(b, []byte{1, 2, 3}) {
		t.Fatalf("resolved with %v", b)
	}
	_, err = Await(ctx, Promise("fails", func() (any, error) { return nil, Errorf(CodeInvalidOption, "option x is wrong") }))
	var je *JSError
	if !errors.As(err, &je) || je.Code != CodeInvalidOption || je.Message != "option x is wrong" {
		t.Fatalf("rejection: %#v", err)
	}
	_, err = Await(ctx, Promise("boom", func() (any, error) {
		var m map[string]int
		//lint:ignore SA5000 the nil map write is the point: a runtime panic inside a promise.
		m["x"] = 1
		return nil, nil
	}))
	if !errors.As(err, &je) || je.Code != CodePanic || !strings.Contains(je.Message, "boom") {
		t.Fatalf("panic must reject with code panic naming the call: %#v", err)
	}
	// The Go program is still alive: another promise works.
	if v, err := Await(ctx, Promise("after", func() (any, error) { return "alive", nil })); err != nil || v.String() != "alive" {
		t.Fatalf("after a panic: %v %v", v, err)
	}
}

func TestFuncFromJS(t *testing.T) {
	f := Func("double", func(args []js.Value) (any, error) {
		if len(args) != 1 || args[0].Type() != js.TypeNumber {
			return nil, Errorf(CodeInvalidOption, "double(n): n must be a number")
		}
		return args[0].Int() * 2, nil
	})
	defer f.Release()
	ctx := context.Background()
	v, err := Await(ctx, f.Invoke(21))
	if err != nil || v.Int() != 42 {
		t.Fatalf("double(21) = %v, %v", v, err)
	}
	if _, err := Await(ctx, f.Invoke("x")); err == nil || !strings.Contains(err.Error(), "n must be a number") {
		t.Fatalf("bad arg: %v", err)
	}
	s := SyncFunc("sync", func(args []js.Value) (any, error) { panic("sync boom") })
	defer s.Release()
	if r := s.Invoke(); !r.InstanceOf(js.Global().Get("Error")) || r.Get("code").String() != CodePanic {
		t.Fatalf("sync panic must come back as an Error value: %v", r)
	}
}

func TestAwaitJSPromises(t *testing.T) {
	ctx := context.Background()
	v, err := Await(ctx, evalJS(t, `return new Promise(r => setTimeout(() => r('late'), 10))`))
	if err != nil || v.String() != "late" {
		t.Fatalf("await: %v %v", v, err)
	}
	_, err = Await(ctx, evalJS(t, `return Promise.reject(Object.assign(new TypeError('nope'), {code: 'E1'}))`))
	var je *JSError
	if !errors.As(err, &je) || je.Name != "TypeError" || je.Code != "E1" || je.Message != "nope" {
		t.Fatalf("rejection: %#v", err)
	}
	if v, err := Await(ctx, js.ValueOf(7)); err != nil || v.Int() != 7 {
		t.Fatalf("plain value: %v %v", v, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = Await(cctx, evalJS(t, `return new Promise(() => {})`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a never-settling promise must give up with ctx: %v", err)
	}
	_, err = CallAsync(ctx, evalJS(t, `return {m() { throw new RangeError('sync throw'); }}`), "m")
	if err == nil || !strings.Contains(err.Error(), "sync throw") {
		t.Fatalf("sync throw: %v", err)
	}
}

func TestBytes(t *testing.T) {
	for _, src := range []string{
		`return new Uint8Array([5, 6, 7])`,
		`return new Uint8Array([5, 6, 7]).buffer`,
		`return new DataView(new Uint8Array([9, 5, 6, 7]).buffer, 1)`,
	} {
		b, err := BytesFromJS(evalJS(t, src))
		if err != nil || !bytes.Equal(b, []byte{5, 6, 7}) {
			t.Fatalf("%s: %v %v", src, b, err)
		}
	}
	if _, err := BytesFromJS(js.ValueOf("str")); err == nil {
		t.Fatal("a string is not bytes")
	}
	if !BytesToJS(nil).IsNull() || BytesToJS([]byte{}).Length() != 0 {
		t.Fatal("nil -> null, empty -> empty Uint8Array")
	}
}

func TestEmitter(t *testing.T) {
	e := NewEmitter()
	var listenerErrs []string
	e.OnListenerError = func(ev string, err error) { listenerErrs = append(listenerErrs, ev+": "+err.Error()) }
	obj := js.Global().Get("Object").New()
	e.Bind(obj)
	log := evalJS(t, `const log = []; return log`)
	rec := evalJS(t, `return (log, tag) => (p) => log.push(tag + ':' + p.n)`).Invoke(log, "a")
	once := evalJS(t, `return (log) => (p) => log.push('once:' + p.n)`).Invoke(log)
	thrower := evalJS(t, `return () => { throw new Error('listener bug') }`)
	obj.Call("on", "x", thrower)
	obj.Call("on", "x", rec)
	obj.Call("once", "x", once)
	e.Emit("x", map[string]any{"n": 1})
	e.Emit("x", map[string]any{"n": 2})
	obj.Call("off", "x", rec)
	e.Emit("x", map[string]any{"n": 3})
	if got := js.Global().Get("JSON").Call("stringify", log).String(); got != `["a:1","once:1","a:2"]` {
		t.Fatalf("listener calls: %s", got)
	}
	if len(listenerErrs) != 3 || !strings.Contains(listenerErrs[0], "listener bug") {
		t.Fatalf("a throwing listener must be reported and not stop others: %v", listenerErrs)
	}
	if r := obj.Call("on", "x", 5); !r.InstanceOf(js.Global().Get("Error")) {
		t.Fatal("on with a non-function must return an Error")
	}
}
