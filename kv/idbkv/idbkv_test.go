//go:build js

package idbkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall/js"
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/kvtest"
)

var dbSeq atomic.Int64

// freshName returns a database name no other test uses, deleted at cleanup.
func freshName(t testing.TB) string {
	name := fmt.Sprintf("idbkv-test:%s:%d:%d", t.Name(), time.Now().UnixNano(), dbSeq.Add(1))
	t.Cleanup(func() {
		if err := Delete(context.Background(), name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return name
}

func mustOpen(t testing.TB, opts Options) *Backend {
	t.Helper()
	b, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// jsAsync compiles an async JS function (test-only helper: pages with a
// strict CSP would refuse new Function, the package itself never uses it).
func jsAsync(params, body string) js.Value {
	return js.Global().Get("Function").New(params, "return (async () => {"+body+"})()")
}

func await(t testing.TB, p js.Value) js.Value {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := awaitPromise(ctx, safejs.Safe(p))
	if err != nil {
		t.Fatalf("JS helper: %v", err)
	}
	return safejs.Unsafe(v)
}

// rawOpen opens a plain JS connection (not ours) at version (0: current)
// that ignores versionchange, like an old tab that never closes.
var rawOpen = jsAsync("name, version", `
	return await new Promise((resolve, reject) => {
		const req = version ? indexedDB.open(name, version) : indexedDB.open(name);
		req.onupgradeneeded = () => {};
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error);
		req.onblocked = () => {};
	});`)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Backend {
		return mustOpen(t, Options{Name: freshName(t), Tables: []string{"a", "b"}})
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	name := freshName(t)
	b := mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	must(t, b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("v")}}))
	must(t, b.Close())
	b = mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	defer b.Close()
	got, err := b.Get(ctx, "a", []string{"k"})
	must(t, err)
	if string(got[0]) != "v" {
		t.Fatalf("after reopen: %q", got[0])
	}
}

// Keys are arbitrary bytes ordered bytewise, like memkv: invalid UTF-8,
// 0xff bytes and characters beyond the BMP (which UTF-16 orders differently).
func TestBinaryKeysOrderBytewise(t *testing.T) {
	ctx := context.Background()
	b := mustOpen(t, Options{Name: freshName(t), Tables: []string{"a"}})
	defer b.Close()
	keys := []string{"", "a", "a\xff", "a\xff\xff", "a\xff\x00", "b", "\xff", "\xff\xff", "\xef\xbf\xbf", "\U0001F600", "\ue000", "x\x00y", "\x80bad"}
	var ops []kv.Op
	for _, k := range keys {
		ops = append(ops, kv.Op{Table: "a", Key: k, Value: []byte("v:" + k)})
	}
	must(t, b.Commit(ctx, ops))
	check := func(prefix string) {
		t.Helper()
		var want []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		sort.Strings(want)
		pairs, err := b.Scan(ctx, "a", prefix)
		must(t, err)
		var got []string
		for _, p := range pairs {
			got = append(got, p.Key)
			if string(p.Value) != "v:"+p.Key {
				t.Fatalf("scan %q: key %q holds %q", prefix, p.Key, p.Value)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("scan %q:\n got %q\nwant %q", prefix, got, want)
		}
	}
	defer func() { bulkScan = true }()
	for _, bulk := range []bool{true, false} { // both copy paths
		bulkScan = bulk
		for _, prefix := range []string{"", "a", "a\xff", "\xff", "\xff\xff", "\xef", "\xf0", "x\x00", "zzz"} {
			check(prefix)
		}
	}
	got, err := b.Get(ctx, "a", keys)
	must(t, err)
	for i, k := range keys {
		if string(got[i]) != "v:"+k {
			t.Fatalf("get %q: %q", k, got[i])
		}
	}
}

func TestUnknownTable(t *testing.T) {
	ctx := context.Background()
	b := mustOpen(t, Options{Name: freshName(t), Tables: []string{"a"}})
	defer b.Close()
	err := b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("v")}, {Table: "nope", Key: "x", Value: nil}})
	if !errors.Is(err, ErrUnknownTable) || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("commit to an unknown table: %v", err)
	}
	got, err := b.Get(ctx, "a", []string{"k"})
	must(t, err)
	if got[0] != nil {
		t.Fatal("a refused batch must write nothing")
	}
	got, err = b.Get(ctx, "nope", []string{"x"})
	if err != nil || got[0] != nil {
		t.Fatalf("get from an unknown table: %q %v", got, err)
	}
}

func TestOptionsValidated(t *testing.T) {
	ctx := context.Background()
	for _, opts := range []Options{
		{Name: ""},
		{Name: freshName(t), Tables: []string{MetaStore}},
		{Name: freshName(t), Tables: []string{""}},
		{Name: freshName(t), Durability: "eventually"},
	} {
		if b, err := Open(ctx, opts); err == nil {
			b.Close()
			t.Fatalf("Open(%+v) must fail", opts)
		}
	}
	b := mustOpen(t, Options{Name: freshName(t), Tables: []string{"a"}, Durability: "relaxed"})
	defer b.Close()
	must(t, b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("v")}}))
}

// A record this package did not write (another script's string) reads as
// an error naming the table and key, not as garbage or a panic.
func TestForeignRecord(t *testing.T) {
	ctx := context.Background()
	name := freshName(t)
	b := mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	defer b.Close()
	put := jsAsync("name", `
		const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
		await new Promise((res, rej) => {
			const tx = db.transaction("a", "readwrite");
			tx.objectStore("a").put("a string", new TextEncoder().encode("bad"));
			tx.oncomplete = res; tx.onabort = () => rej(tx.error);
		});
		db.close();`)
	await(t, put.Invoke(name))
	_, err := b.Get(ctx, "a", []string{"bad"})
	if err == nil || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), name) {
		t.Fatalf("foreign record: %v", err)
	}
	if _, err := b.Scan(ctx, "a", ""); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("foreign record in scan: %v", err)
	}
}

func dbVersion(t *testing.T, name string) int {
	t.Helper()
	db := await(t, rawOpen.Invoke(name, 0))
	defer db.Call("close")
	return db.Get("version").Int()
}

func metaTables(t *testing.T, name string) []string {
	t.Helper()
	get := jsAsync("name", `
		const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
		const v = await new Promise((res, rej) => { const r = db.transaction("`+MetaStore+`").objectStore("`+MetaStore+`").get("tables"); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
		db.close();
		return v.join(",");`)
	s := await(t, get.Invoke(name)).String()
	return strings.Split(s, ",")
}

// Data written by one version survives the upgrade that adds tables.
func TestUpgradeAddsTablesKeepsData(t *testing.T) {
	ctx := context.Background()
	name := freshName(t)
	b := mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	must(t, b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("from v1")}}))
	must(t, b.Close())
	v1 := dbVersion(t, name)

	b = mustOpen(t, Options{Name: name, Tables: []string{"a", "b"}})
	defer b.Close()
	if v2 := dbVersion(t, name); v2 != v1+1 {
		t.Fatalf("adding a table must be one upgrade: version %d -> %d", v1, v2)
	}
	got, err := b.Get(ctx, "a", []string{"k"})
	must(t, err)
	if string(got[0]) != "from v1" {
		t.Fatalf("v1 data after the upgrade: %q", got[0])
	}
	must(t, b.Commit(ctx, []kv.Op{{Table: "b", Key: "k", Value: []byte("new table")}}))
	if tables := metaTables(t, name); !slices.Equal(tables, []string{"a", "b"}) {
		t.Fatalf("meta tables: %q", tables)
	}
	must(t, b.Close())

	// Opening with fewer tables neither upgrades nor drops any.
	b = mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	if v := dbVersion(t, name); v != v1+1 {
		t.Fatalf("reopen with a subset changed the version to %d", v)
	}
	got, err = b.Get(ctx, "b", []string{"k"})
	must(t, err)
	if string(got[0]) != "new table" {
		t.Fatalf("table b after reopening with a subset: %q", got[0])
	}
}

// A new numbered step (a later wasmeow) runs once on a database written by
// the current one, keeping its data; an older build refuses the result.
func TestSchemaStepUpgrade(t *testing.T) {
	ctx := context.Background()
	name := freshName(t)
	b := mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	must(t, b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("old")}}))
	must(t, b.Close())

	saved := upgrades
	defer func() { upgrades = saved }()
	runs := 0
	upgrades = append(slices.Clone(saved), func(u *upgradeTx) error {
		runs++
		if err := u.createStore("added_by_step"); err != nil {
			return err
		}
		return u.put(MetaStore, "stepMarker", "ran")
	})
	for range 2 {
		b = mustOpen(t, Options{Name: name, Tables: []string{"a"}})
		got, err := b.Get(ctx, "a", []string{"k"})
		must(t, err)
		if string(got[0]) != "old" {
			t.Fatalf("data after the step: %q", got[0])
		}
		must(t, b.Commit(ctx, []kv.Op{{Table: "added_by_step", Key: "x", Value: []byte("y")}}))
		must(t, b.Close())
	}
	if runs != 1 {
		t.Fatalf("the step ran %d times, want once", runs)
	}

	upgrades = saved
	if b, err := Open(ctx, Options{Name: name, Tables: []string{"a"}}); err == nil || !strings.Contains(err.Error(), "newer") {
		if b != nil {
			b.Close()
		}
		t.Fatalf("an older build must refuse a newer schema: %v", err)
	}
}

// Another connection upgrading the database: ours closes at once (so it
// is not blocked), later calls say why, and the page is told.
func TestVersionChangeClosesOurs(t *testing.T) {
	ctx := context.Background()
	name := freshName(t)
	told := make(chan struct{}, 1)
	b := mustOpen(t, Options{Name: name, Tables: []string{"a"}, OnVersionChange: func() { told <- struct{}{} }})
	v := dbVersion(t, name)
	upgrade := jsAsync("name, version", `
		return await new Promise((resolve, reject) => {
			const req = indexedDB.open(name, version);
			req.onsuccess = () => { req.result.close(); resolve("ok"); };
			req.onerror = () => reject(req.error);
			req.onblocked = () => reject(new Error("blocked by our connection"));
		});`)
	await(t, upgrade.Invoke(name, v+1))
	select {
	case <-told:
	case <-time.After(5 * time.Second):
		t.Fatal("OnVersionChange not called")
	}
	_, err := b.Get(ctx, "a", []string{"k"})
	if !errors.Is(err, ErrVersionChange) || !errors.Is(err, kv.ErrClosed) || !strings.Contains(err.Error(), name) {
		t.Fatalf("get after a version change: %v", err)
	}
	if err := b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("v")}}); !errors.Is(err, ErrVersionChange) {
		t.Fatalf("commit after a version change: %v", err)
	}
	must(t, b.Close())
	b = mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	must(t, b.Close())
}

// A connection that never closes blocks our upgrade: Open reports it
// instead of hanging, and the upgrade goes through once it closes.
func TestUpgradeBlocked(t *testing.T) {
	ctx := context.Background()
	name := freshName(t)
	b := mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	must(t, b.Close())
	stubborn := await(t, rawOpen.Invoke(name, 0))
	defer stubborn.Call("close")
	start := time.Now()
	_, err := Open(ctx, Options{Name: name, Tables: []string{"a", "b"}, BlockedTimeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), name) {
		t.Fatalf("open blocked by another connection: %v", err)
	}
	t.Logf("blocked open gave up after %v: %v", time.Since(start).Round(time.Millisecond), err)
	stubborn.Call("close")
	// The abandoned upgrade proceeds and its connection is closed, so this
	// open is not blocked by it.
	b = mustOpen(t, Options{Name: name, Tables: []string{"a", "b"}, BlockedTimeout: 2 * time.Second})
	defer b.Close()
	must(t, b.Commit(ctx, []kv.Op{{Table: "b", Key: "k", Value: []byte("v")}}))
}

func TestDeleteWhileOpen(t *testing.T) {
	ctx := context.Background()
	name := freshName(t)
	b := mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	must(t, b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("v")}}))
	must(t, Delete(ctx, name))
	if _, err := b.Get(ctx, "a", []string{"k"}); !errors.Is(err, ErrDeleted) || !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("get after delete: %v", err)
	}
	must(t, Delete(ctx, name)) // idempotent
	must(t, Delete(ctx, name+":never-existed"))
	names, err := List(ctx, name)
	must(t, err)
	if len(names) != 0 {
		t.Fatalf("deleted database still listed: %q", names)
	}
	b = mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	defer b.Close()
	got, err := b.Get(ctx, "a", []string{"k"})
	must(t, err)
	if got[0] != nil {
		t.Fatalf("data survived delete: %q", got[0])
	}
}

func TestDeleteBlocked(t *testing.T) {
	ctx := context.Background()
	name := freshName(t)
	b := mustOpen(t, Options{Name: name, Tables: []string{"a"}})
	must(t, b.Close())
	stubborn := await(t, rawOpen.Invoke(name, 0))
	defer stubborn.Call("close")
	saved := BlockedTimeout
	BlockedTimeout = 300 * time.Millisecond
	err := Delete(ctx, name)
	BlockedTimeout = saved
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), name) {
		t.Fatalf("delete blocked by another connection: %v", err)
	}
	stubborn.Call("close")
	// The queued deletion now proceeds.
	deadline := time.Now().Add(5 * time.Second)
	for {
		names, err := List(ctx, name)
		must(t, err)
		if len(names) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("queued deletion never happened")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	prefix := freshName(t) + ":"
	for _, n := range []string{prefix + "y", prefix + "x", "other-" + prefix} {
		b := mustOpen(t, Options{Name: n, Tables: []string{"a"}})
		must(t, b.Close())
		t.Cleanup(func() { _ = Delete(ctx, n) })
	}
	names, err := List(ctx, prefix)
	must(t, err)
	if !slices.Equal(names, []string{prefix + "x", prefix + "y"}) {
		t.Fatalf("list %q: %q", prefix, names)
	}
}

// quotaInjection makes any put of a value of at least min bytes fail the
// way Chromium reports a full disk: the transaction aborts with
// transaction.error a QuotaExceededError, after the request itself
// succeeded. Test-only; it returns the function restoring put.
var quotaInjection = js.Global().Get("Function").New("min", `
	const orig = IDBObjectStore.prototype.put;
	IDBObjectStore.prototype.put = function(value, key) {
		const req = orig.call(this, value, key);
		if (value && value.byteLength >= min) {
			const tx = this.transaction;
			req.addEventListener("success", () => {
				Object.defineProperty(tx, "error", { value: new DOMException("The quota has been exceeded.", "QuotaExceededError") });
				tx.abort();
			});
		}
		return req;
	};
	return () => { IDBObjectStore.prototype.put = orig; };`)

func TestQuotaExceeded(t *testing.T) {
	ctx := context.Background()
	name := freshName(t)
	b := mustOpen(t, Options{Name: name, Tables: []string{"a", "b"}})
	defer b.Close()
	if est, err := awaitPromise(ctx, safejs.Safe(js.Global().Get("navigator").Get("storage").Call("estimate"))); err == nil {
		q, _ := est.Get("quota")
		f, _ := q.Float()
		t.Logf("origin quota here: %.1f GB (too large to fill in a test: the failure is injected)", f/1e9)
	}
	restore := quotaInjection.Invoke(1 << 20)
	err := b.Commit(ctx, []kv.Op{
		{Table: "a", Key: "small", Value: []byte("x")},
		{Table: "b", Key: "huge", Value: make([]byte, 2<<20)},
		{Table: "a", Key: "after", Value: []byte("y")},
	})
	restore.Invoke()
	if !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("want ErrQuotaExceeded, got %v", err)
	}
	for _, want := range []string{name, `"b"`, `"huge"`, "QuotaExceededError"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %s", err, want)
		}
	}
	t.Logf("mapped error: %v", err)
	got, err := b.Get(ctx, "a", []string{"small", "after"})
	must(t, err)
	if got[0] != nil || got[1] != nil {
		t.Fatalf("an aborted batch left writes behind: %q", got)
	}
	// The backend stays usable.
	must(t, b.Commit(ctx, []kv.Op{{Table: "a", Key: "small", Value: []byte("x")}}))
}

func TestCancelledCommitWritesNothing(t *testing.T) {
	b := mustOpen(t, Options{Name: freshName(t), Tables: []string{"a"}})
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("v")}})
	got, gerr := b.Get(context.Background(), "a", []string{"k"})
	must(t, gerr)
	// Either the abort won (error, nothing written) or the commit had
	// already begun (no error, written): never an error with data written.
	if (err != nil) != (got[0] == nil) {
		t.Fatalf("cancelled commit: err %v but value %q", err, got[0])
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled commit: %v", err)
	}
}

func TestCallsAfterClose(t *testing.T) {
	ctx := context.Background()
	b := mustOpen(t, Options{Name: freshName(t), Tables: []string{"a"}})
	must(t, b.Close())
	must(t, b.Close())
	if _, err := b.Get(ctx, "a", []string{"k"}); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("get after close: %v", err)
	}
	if _, err := b.Scan(ctx, "a", ""); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("scan after close: %v", err)
	}
	if err := b.Commit(ctx, []kv.Op{{Table: "a", Key: "k"}}); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("commit after close: %v", err)
	}
}

func TestLargeBatchAndValues(t *testing.T) {
	ctx := context.Background()
	b := mustOpen(t, Options{Name: freshName(t), Tables: []string{"a", "b"}})
	defer b.Close()
	var ops []kv.Op
	for i := range 1000 {
		ops = append(ops, kv.Op{Table: []string{"a", "b"}[i%2], Key: fmt.Sprintf("k%04d", i), Value: bytes.Repeat([]byte{byte(i)}, i)})
	}
	must(t, b.Commit(ctx, ops))
	pairs, err := b.Scan(ctx, "b", "k")
	must(t, err)
	if len(pairs) != 500 || pairs[0].Key != "k0001" || len(pairs[499].Value) != 999 || pairs[499].Value[0] != byte(999%256) {
		t.Fatalf("scan of a large batch: %d pairs", len(pairs))
	}
}
