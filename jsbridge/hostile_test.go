//go:build js

package jsbridge

import (
	"context"
	"strings"
	"testing"
	"time"
)

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

// A BigInt has no syscall/js type (Type() panics): a store rejecting or
// throwing with one, or a listener throwing one, is an error with its text.
func TestBigIntRejectionsAndThrows(t *testing.T) {
	if err := ErrorFromJS(evalJS(t, `return 12n`)); err == nil || err.Error() != "12" {
		t.Fatalf("ErrorFromJS(12n) = %v", err)
	}
	_, err := Await(context.Background(), evalJS(t, `return Promise.reject(7n)`))
	if err == nil || !strings.Contains(err.Error(), "7") {
		t.Fatalf("a promise rejected with 7n: %v", err)
	}
	_, err = CallAsync(context.Background(), evalJS(t, `return { m() { throw 9n; } }`), "m")
	if err == nil || !strings.Contains(err.Error(), "9") {
		t.Fatalf("a method throwing 9n: %v", err)
	}
}
