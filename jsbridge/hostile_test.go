//go:build js

package jsbridge

import (
	"context"
	"errors"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/kv"
)

// A user's store may hang, throw from a Proxy, or reject with an object
// whose every getter throws. None of it may wedge a call, end the Go
// program or come back without code store_failed.
func TestKeyStoreHostileStores(t *testing.T) {
	ctx := context.Background()
	hostile := evalJS(t, `
	  const evil = new Proxy({}, { get() { throw new Error('trap'); }, has() { throw new Error('trap'); } });
	  const badErr = { get message() { throw new Error('getter'); }, get name() { throw new Error('getter'); }, get code() { throw new Error('getter'); } };
	  const ok = { get: async () => ({}), set: async () => {}, clear: async () => {} };
	  return {
	    hang: { get: () => new Promise(() => {}), set: () => new Promise(() => {}), clear: () => new Promise(() => {}) },
	    proxyResult: { get: async () => evil, set: async () => {}, clear() {} },
	    proxyThen: { get: () => evil, set: () => evil, clear: () => evil },
	    badReject: { get: () => Promise.reject(badErr), set: () => Promise.reject(badErr), clear: () => Promise.reject(badErr) },
	    throwsBad: { get() { throw badErr; }, set() { throw badErr; }, clear() { throw badErr; } },
	    proxyBytes: { get: async (type, ids) => ({ [ids[0]]: new Proxy(new Uint8Array(2), { get() { throw new Error('trap'); } }) }), set: async () => {}, clear() {} },
	    ok,
	  };`)
	for _, name := range []string{"hang", "proxyResult", "proxyThen", "badReject", "throwsBad", "proxyBytes"} {
		t.Run(name, func(t *testing.T) {
			ks, err := NewKeyStore(hostile.Get(name), js.Undefined(), nil)
			if err != nil {
				t.Fatal(err)
			}
			ks.Timeout = 200 * time.Millisecond
			start := time.Now()
			calls := map[string]func() error{
				"get": func() error {
					_, err := ks.Get(ctx, "session", []string{"a"})
					return err
				},
				"scan": func() error {
					_, err := ks.Scan(ctx, "session", "")
					return err
				},
				"commit": func() error {
					return ks.Commit(ctx, []kv.Op{{Table: "session", Key: "a", Value: []byte{1}}})
				},
				"clear": func() error { return ks.Clear(ctx) },
			}
			for call, fn := range calls {
				err := fn()
				if (name == "proxyBytes" || name == "proxyResult") && call == "clear" {
					continue // its clear is fine
				}
				var ce *CodedError
				if !errors.As(err, &ce) || ce.Code != CodeStoreFailed {
					t.Fatalf("%s: want a store_failed error, got %#v", call, err)
				}
				if js := ErrorToJS(err); js.Get("code").String() != CodeStoreFailed || js.Get("message").String() == "" {
					t.Fatalf("%s: as a JS error: %v", call, js)
				}
			}
			// A hung store fails at once after its first timeout: four calls
			// take one timeout, not four.
			if el := time.Since(start); el > 2*time.Second {
				t.Fatalf("calls took %v", el)
			}
			if err := ks.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	// The program is alive and a sane store still works.
	ks, _ := NewKeyStore(hostile.Get("ok"), js.Undefined(), nil)
	if _, err := ks.Get(ctx, "session", []string{"a"}); err != nil {
		t.Fatal(err)
	}
}

// A hung store's timeout names the call and the option that bounds it.
func TestCallStoreTimeout(t *testing.T) {
	obj := evalJS(t, `return { m: () => new Promise(() => {}) }`)
	start := time.Now()
	_, err := CallStore(context.Background(), 100*time.Millisecond, obj, "auth.store.m()", "m")
	if err == nil || !strings.Contains(err.Error(), "auth.store.m() did not settle within 100ms") || !strings.Contains(err.Error(), "storeTimeoutMs") {
		t.Fatalf("timeout error: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("CallStore did not give up in time")
	}
}

// Await inside a JS callback path: a rejection with a hostile object must
// become an error, not a panic in the callback (which ends the program).
func TestErrorFromHostileObjects(t *testing.T) {
	v := evalJS(t, `return new Proxy({}, { get() { throw new Error('trap'); } })`)
	if err := ErrorFromJS(v); err == nil {
		t.Fatal("nil error")
	}
	_, err := Await(context.Background(), evalJS(t, `return Promise.reject({ get message() { throw new Error('x'); } })`))
	if err == nil {
		t.Fatal("a rejection must be an error")
	}
	if _, err := BytesFromJS(v); err == nil {
		t.Fatal("a Proxy is not bytes")
	}
}
