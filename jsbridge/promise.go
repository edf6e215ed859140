//go:build js

package jsbridge

import (
	"context"
	"fmt"
	"syscall/js"
)

// Promise runs fn in a new goroutine and returns a JS Promise of its result
// (converted with ValueOf). An error rejects it with ErrorToJS; a panic in fn
// rejects it with code "panic" instead of ending the Go program.
//
// It never blocks, so it may be called inside a js.FuncOf callback, where
// waiting for the event loop would deadlock.
func Promise(name string, fn func() (any, error)) js.Value {
	var resolve, reject js.Value
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	p := js.Global().Get("Promise").New(executor)
	executor.Release()
	go func() {
		res, err := call(name, fn)
		if err != nil {
			reject.Invoke(ErrorToJS(err))
			return
		}
		resolve.Invoke(ValueOf(res))
	}()
	return p
}

// Rejected returns a Promise already rejected with err.
func Rejected(err error) js.Value {
	return js.Global().Get("Promise").Call("reject", ErrorToJS(err))
}

func call(name string, fn func() (any, error)) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, panicError(name, r)
		}
	}()
	return fn()
}

// Func wraps an asynchronous method for JS: the returned function always
// returns a Promise, and a panic anywhere in fn (including argument
// handling) rejects it.
func Func(name string, fn func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		args = append([]js.Value(nil), args...)
		return Promise(name, func() (any, error) { return fn(args) })
	})
}

// SyncFunc wraps a synchronous method for JS: it returns fn's result, or a
// JS Error value (not thrown: Go cannot throw into JS) when fn fails or
// panics. fn must not block on the event loop.
func SyncFunc(name string, fn func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		res, err := call(name, func() (any, error) { return fn(args) })
		if err != nil {
			return ErrorToJS(err)
		}
		return ValueOf(res)
	})
}

// Await waits for v to settle when it is a thenable (a Promise or anything
// with a then method) and returns v itself otherwise. A rejection becomes a
// *JSError. It gives up when ctx ends, leaving the promise to settle unseen.
//
// Await must run on a goroutine of its own, never directly inside a
// js.FuncOf callback: the promise cannot settle while that callback blocks
// the event loop.
func Await(ctx context.Context, v js.Value) (js.Value, error) {
	if v.Type() != js.TypeObject && v.Type() != js.TypeFunction || !IsFunction(v.Get("then")) {
		return v, nil
	}
	type result struct {
		v   js.Value
		err error
	}
	done := make(chan result, 1)
	var onOK, onErr js.Func
	settle := func(r result) {
		select {
		case done <- r:
		default:
		}
		onOK.Release()
		onErr.Release()
	}
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any {
		settle(result{v: arg0(args)})
		return nil
	})
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any {
		settle(result{err: ErrorFromJS(arg0(args))})
		return nil
	})
	if err := invokeSafely(func() { v.Call("then", onOK, onErr) }); err != nil {
		onOK.Release()
		onErr.Release()
		return js.Undefined(), err
	}
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), &CodedError{Code: CodeCanceled, Err: fmt.Errorf("awaiting a JS promise: %w", ctx.Err())}
	}
}

// CallAsync calls obj[method](args...) and awaits its result, turning a
// synchronous throw into an error as well.
func CallAsync(ctx context.Context, obj js.Value, method string, args ...any) (js.Value, error) {
	var res js.Value
	if err := invokeSafely(func() { res = obj.Call(method, args...) }); err != nil {
		return js.Undefined(), err
	}
	return Await(ctx, res)
}

// invokeSafely runs f, turning a JS exception (which syscall/js raises as a
// panic of js.Error) into an error.
func invokeSafely(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = ErrorFromJS(je.Value)
				return
			}
			err = panicError("calling JS", r)
		}
	}()
	f()
	return nil
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}
