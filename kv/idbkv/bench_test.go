//go:build js

package idbkv

import (
	"context"
	"fmt"
	"syscall/js"
	"testing"

	"github.com/wasmeow/wasmeow/kv"
)

// Figures only: go test -bench . (in headless chromium via wasmbrowsertest;
// its profile is on disk in a temp dir).
func benchOps(n, size int) []kv.Op {
	ops := make([]kv.Op, n)
	for i := range ops {
		ops[i] = kv.Op{Table: "a", Key: fmt.Sprintf("session|%06d", i), Value: make([]byte, size)}
	}
	return ops
}

func benchCommit(b *testing.B, n int, durability string) {
	ctx := context.Background()
	db := mustOpen(b, Options{Name: freshName(b), Tables: []string{"a"}, Durability: durability})
	defer db.Close()
	ops := benchOps(n, 200)
	b.ResetTimer()
	for b.Loop() {
		must(b, db.Commit(ctx, ops))
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/op-in-batch")
}

func BenchmarkCommit1(b *testing.B)          { benchCommit(b, 1, "strict") }
func BenchmarkCommit1Relaxed(b *testing.B)   { benchCommit(b, 1, "relaxed") }
func BenchmarkCommit500(b *testing.B)        { benchCommit(b, 500, "strict") }
func BenchmarkCommit500Relaxed(b *testing.B) { benchCommit(b, 500, "relaxed") }

func benchGet(b *testing.B, n int) {
	ctx := context.Background()
	db := mustOpen(b, Options{Name: freshName(b), Tables: []string{"a"}})
	defer db.Close()
	ops := benchOps(1000, 200)
	must(b, db.Commit(ctx, ops))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = ops[i*3].Key
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.Get(ctx, "a", keys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet1(b *testing.B)   { benchGet(b, 1) }
func BenchmarkGet256(b *testing.B) { benchGet(b, 256) }

// The same through wasmeow.js's fast calls.
func withFastCalls(b *testing.B, bench func(*testing.B)) {
	helper, _ := loadFastCalls(b)
	must(b, UseFastCalls(helper))
	defer func() { must(b, UseFastCalls(js.Null())) }()
	bench(b)
}

func BenchmarkFastCommit1(b *testing.B) {
	withFastCalls(b, func(b *testing.B) { benchCommit(b, 1, "strict") })
}
func BenchmarkFastCommit1Relaxed(b *testing.B) {
	withFastCalls(b, func(b *testing.B) { benchCommit(b, 1, "relaxed") })
}
func BenchmarkFastCommit500(b *testing.B) {
	withFastCalls(b, func(b *testing.B) { benchCommit(b, 500, "strict") })
}
func BenchmarkFastGet1(b *testing.B)   { withFastCalls(b, func(b *testing.B) { benchGet(b, 1) }) }
func BenchmarkFastGet256(b *testing.B) { withFastCalls(b, func(b *testing.B) { benchGet(b, 256) }) }

func BenchmarkScan5000(b *testing.B) {
	ctx := context.Background()
	db := mustOpen(b, Options{Name: freshName(b), Tables: []string{"a"}})
	defer db.Close()
	must(b, db.Commit(ctx, benchOps(5000, 100)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.Scan(ctx, "a", "session|"); err != nil {
			b.Fatal(err)
		}
	}
}

// The same work written directly in JS (one promise hop from Go per
// iteration): the floor the Go figures above compare with, on the same
// machine and load.
var jsWork = jsAsync("db, what", `
	const enc = new TextEncoder();
	const key = (i) => enc.encode("session|" + String(i).padStart(6, "0"));
	await new Promise((res, rej) => {
		const tx = db.transaction("a", what === "commit500" ? "readwrite" : "readonly", {durability: "strict"});
		const st = tx.objectStore("a");
		if (what === "commit500") {
			for (let i = 0; i < 500; i++) st.put(new Uint8Array(200), key(i));
		} else if (what === "get256") {
			for (let i = 0; i < 256; i++) st.get(key(i * 3));
		} else {
			const r = IDBKeyRange.bound(enc.encode("session|"), enc.encode("session}"), false, true);
			st.getAllKeys(r); st.getAll(r);
		}
		tx.oncomplete = res; tx.onabort = () => rej(tx.error);
	});`)

func benchJS(b *testing.B, what string) {
	ctx := context.Background()
	name := freshName(b)
	db := mustOpen(b, Options{Name: name, Tables: []string{"a"}})
	must(b, db.Commit(ctx, benchOps(5000, 100)))
	must(b, db.Close())
	conn := await(b, rawOpen.Invoke(name, 0))
	defer conn.Call("close")
	b.ResetTimer()
	for b.Loop() {
		await(b, jsWork.Invoke(conn, what))
	}
}

func BenchmarkPureJSCommit500(b *testing.B) { benchJS(b, "commit500") }
func BenchmarkPureJSGet256(b *testing.B)    { benchJS(b, "get256") }
func BenchmarkPureJSScan5000(b *testing.B)  { benchJS(b, "scan5000") }
