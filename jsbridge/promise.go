//go:build js

package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
	"time"
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
		if err == nil {
			// Converting the result may panic too (a type ValueOf does not
			// know): that must reject, not end the program.
			if err = invokeSafely(func() { resolve.Invoke(ValueOf(res)) }); err == nil {
				return
			}
		}
		if rerr := invokeSafely(func() { reject.Invoke(ErrorToJS(err)) }); rerr != nil {
			_ = invokeSafely(func() { reject.Invoke(ErrorToJS(PanicError(name, rerr))) })
		}
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
			res, err = nil, PanicError(name, r)
		}
	}()
	return fn()
}

// Func wraps an asynchronous method for JS: the returned function always
// returns a Promise, and a panic anywhere in fn (including argument
// handling) rejects it.
func Func(name string, fn func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) (p any) {
		defer func() {
			if r := recover(); r != nil {
				p = Rejected(PanicError(name, r))
			}
		}()
		args = append([]js.Value(nil), args...)
		return Promise(name, func() (any, error) { return fn(args) })
	})
}

// SyncFunc wraps a synchronous method for JS: it returns fn's result, or a
// JS Error value (not thrown: Go cannot throw into JS) when fn fails or
// panics. fn must not block on the event loop.
func SyncFunc(name string, fn func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		res, err := call(name, func() (any, error) {
			r, err := fn(args)
			if err != nil {
				return nil, err
			}
			return ValueOf(r), nil // inside call: a conversion panic is recovered too
		})
		if err != nil {
			return ErrorToJS(err)
		}
		return res
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
	var then js.Value
	if v.Type() == js.TypeObject || v.Type() == js.TypeFunction {
		// A Proxy's get trap may throw.
		if err := invokeSafely(func() { then = Get(v, "then") }); err != nil {
			return js.Undefined(), err
		}
	}
	if !IsFunction(then) {
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
	// The callbacks run on the JS side with nothing above them to recover:
	// a panic there would end the Go program.
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer func() {
			if r := recover(); r != nil {
				settle(result{err: PanicError("a promise's value", r)})
			}
		}()
		settle(result{v: arg0(args)})
		return nil
	})
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer func() {
			if r := recover(); r != nil {
				settle(result{err: PanicError("a promise's rejection", r)})
			}
		}()
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
			err = PanicError("calling JS", r)
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

// ErrStoreTimeout is wrapped by CallStore's timeout error.
var ErrStoreTimeout = errors.New("did not settle")

// CallStore is CallAsync for a method of a user's store object (what names
// it in errors, e.g. "auth.keys.get"), bounded by timeout: a store that
// never settles, throws (a Proxy's trap included) or rejects with anything
// becomes an error with code store_failed, so the client never waits on it
// for ever. A timeout of 0 or less means no bound beyond ctx.
func CallStore(ctx context.Context, timeout time.Duration, obj js.Value, what, method string, args ...any) (js.Value, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	v, err := CallAsync(ctx, obj, method, args...)
	if err == nil {
		return v, nil
	}
	if errors.Is(err, context.DeadlineExceeded) && timeout > 0 {
		return js.Undefined(), &CodedError{Code: CodeStoreFailed, Err: fmt.Errorf("%s %w within %v (auth.storeTimeoutMs)", what, ErrStoreTimeout, timeout)}
	}
	return js.Undefined(), &CodedError{Code: CodeStoreFailed, Err: fmt.Errorf("%s: %w", what, err)}
}
