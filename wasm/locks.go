//go:build js

package main

import (
	"context"
	"fmt"
	"sync"
	"syscall/js"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/jsbridge"
)

// tryTabLock takes the Web Lock `name` if nobody holds it, so that two tabs
// never write one session: each would otherwise advance the Signal ratchets
// on its own and corrupt the other's view. The lock is held until release
// is called (or the page goes away). Where the Web Locks API is missing
// (old browsers, insecure origins) it returns a no-op release.
func tryTabLock(ctx context.Context, name string) (release func(), err error) {
	nav := js.Global().Get("navigator")
	if jsbridge.IsNullish(nav) || jsbridge.IsNullish(nav.Get("locks")) {
		return func() {}, nil
	}
	type outcome struct {
		held bool
		err  error
	}
	got := make(chan outcome, 1)
	var resolveRelease js.Value
	cb := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 || args[0].IsNull() {
			got <- outcome{}
			return nil
		}
		exec := js.FuncOf(func(_ js.Value, a []js.Value) any {
			resolveRelease = a[0]
			return nil
		})
		p := js.Global().Get("Promise").New(exec)
		exec.Release()
		got <- outcome{held: true}
		return p // the lock is held until p settles
	})
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		select {
		case got <- outcome{err: jsbridge.ErrorFromJS(args[0])}:
		default:
		}
		return nil
	})
	// onErr is not released: the request may still reject after we return.
	req, err := func() (p js.Value, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("navigator.locks.request: %v", r)
			}
		}()
		return nav.Get("locks").Call("request", name, map[string]any{"ifAvailable": true}, cb), nil
	}()
	if err != nil {
		cb.Release()
		return nil, err
	}
	req.Call("catch", onErr)
	var o outcome
	select {
	case o = <-got:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	cb.Release()
	if o.err != nil {
		return nil, fmt.Errorf("taking the lock %s: %w", name, o.err)
	}
	if !o.held {
		return nil, jsbridge.Errorf(core.CodeSessionLocked, "session %q is open in another tab or client (Web Lock %q is held)", name, name)
	}
	var once sync.Once
	return func() { once.Do(func() { resolveRelease.Invoke() }) }, nil
}
