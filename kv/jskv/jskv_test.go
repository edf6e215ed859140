//go:build js

package jskv

import (
	"context"
	"errors"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/kvtest"
)

// evalJS runs a JS function body and returns its result.
func evalJS(t *testing.T, body string, args ...any) js.Value {
	t.Helper()
	return js.Global().Get("Function").New(body).Invoke(args...)
}

// mapStore is a Baileys-shaped store over JS Maps, as a user would write it,
// with async methods and a log of calls.
const mapStore = `
const data = new Map(); let creds = null; const calls = [];
const keys = {
  async get(type, ids) { calls.push('get'); const out = {}; for (const id of ids) { const v = data.get(type + '\u0000' + id); if (v !== undefined) out[id] = v; } return out; },
  async set(d) { calls.push('set'); for (const type in d) for (const id in d[type]) { const v = d[type][id]; if (v === null) data.delete(type + '\u0000' + id); else data.set(type + '\u0000' + id, v); } },
  async clear() { calls.push('clear'); data.clear(); },
};
const credsObj = { async load() { return creds; }, async save(c) { calls.push('save'); creds = c; } };
return { keys, creds: credsObj, data, calls, getCreds: () => creds };`

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Backend {
		s := evalJS(t, mapStore)
		ks, err := New(s.Get("keys"), s.Get("creds"), []string{"b"})
		if err != nil {
			t.Fatal(err)
		}
		return ks
	})
}

func TestIndexPersistsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	s := evalJS(t, mapStore)
	ks, err := New(s.Get("keys"), s.Get("creds"), []string{"device"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Commit(ctx, []kv.Op{
		{Table: "session", Key: "b", Value: []byte("2")},
		{Table: "session", Key: "a", Value: []byte("1")},
		{Table: "device", Key: "me", Value: []byte("dev")},
	}); err != nil {
		t.Fatal(err)
	}
	// The index is one record per table, written with the data.
	idx := s.Get("data").Call("get", IndexType+"\x00session")
	if b, _ := jsbridge.BytesFromJS(idx); string(b) != `["a","b"]` {
		t.Fatalf("index record: %q", b)
	}
	// The device record went to creds, not keys.
	if s.Get("data").Call("has", "device\x00me").Bool() {
		t.Fatal("device record stored in keys")
	}
	if b, _ := jsbridge.BytesFromJS(s.Call("getCreds").Get("device").Get("me")); string(b) != "dev" {
		t.Fatalf("creds.device.me = %q", b)
	}
	// A second instance over the same objects (a reload) scans the same.
	ks2, _ := New(s.Get("keys"), s.Get("creds"), []string{"device"})
	pairs, err := ks2.Scan(ctx, "session", "")
	if err != nil || len(pairs) != 2 || pairs[0].Key != "a" || string(pairs[1].Value) != "2" {
		t.Fatalf("scan after reopen: %v %v", pairs, err)
	}
	dev, err := ks2.Scan(ctx, "device", "")
	if err != nil || len(dev) != 1 || string(dev[0].Value) != "dev" {
		t.Fatalf("device scan after reopen: %v %v", dev, err)
	}
	if err := ks2.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.Get("data").Get("size").Int(); n != 0 || !s.Call("getCreds").IsNull() {
		t.Fatalf("clear left %d records, creds %v", n, s.Call("getCreds"))
	}
}

func TestBadValuesAndErrors(t *testing.T) {
	ctx := context.Background()
	s := evalJS(t, `return {
	  get: async (type, ids) => (type === 'wasmeow-index' ? {} : {[ids[0]]: type === 'bad' ? 'a string' : new Uint8Array([1])}),
	  set: async () => { throw new Error('disk full'); },
	  clear() {} }`)
	ks, err := New(s, js.Undefined(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Get(ctx, "bad", []string{"k1"}); err == nil || !strings.Contains(err.Error(), `bad key "k1"`) {
		t.Fatalf("a non-bytes value must fail naming table and key: %v", err)
	}
	err = ks.Commit(ctx, []kv.Op{{Table: "t", Key: "k", Value: []byte("v")}})
	if err == nil || !strings.Contains(err.Error(), "keys.set") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("a rejected set must surface: %v", err)
	}
	if _, err := New(js.ValueOf(map[string]any{"get": 1}), js.Undefined(), nil); err == nil || !strings.Contains(err.Error(), "auth.keys") {
		t.Fatalf("bad keys object: %v", err)
	}
	if _, err := New(s, js.Undefined(), []string{"device"}); err == nil || !strings.Contains(err.Error(), "auth.creds") {
		t.Fatalf("missing creds: %v", err)
	}
}

// A user's store may hang, throw from a Proxy, or reject with an object
// whose every getter throws. None of it may wedge a call, end the Go
// program or come back without code store_failed.
func TestHostileStores(t *testing.T) {
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
			ks, err := New(hostile.Get(name), js.Undefined(), nil)
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
				var ce *jsbridge.CodedError
				if !errors.As(err, &ce) || ce.Code != jsbridge.CodeStoreFailed {
					t.Fatalf("%s: want a store_failed error, got %#v", call, err)
				}
				if js := jsbridge.ErrorToJS(err); js.Get("code").String() != jsbridge.CodeStoreFailed || js.Get("message").String() == "" {
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
	ks, _ := New(hostile.Get("ok"), js.Undefined(), nil)
	if _, err := ks.Get(ctx, "session", []string{"a"}); err != nil {
		t.Fatal(err)
	}
}
