//go:build js

package idbkv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall/js"
	"testing"

	"github.com/wasmeow/wasmeow/kv"
)

// loadFastCalls evaluates wasmeow.js's own fastCalls (the text between its
// BEGIN and END markers; this page has no CSP, unlike the pages the package
// serves, which get the helper from the static module) and wraps its
// functions to count their calls. wasmbrowsertest serves the host's files to
// the test, under the directory go test ran it in ($PWD).
func loadFastCalls(t testing.TB) (helper, counts js.Value) {
	t.Helper()
	pwd := os.Getenv("PWD")
	if pwd == "" {
		t.Fatal("PWD is not set: cannot find web/wasmeow.js")
	}
	src, err := os.ReadFile(filepath.Join(pwd, "..", "..", "web", "wasmeow.js"))
	if err != nil {
		t.Fatalf("reading wasmeow.js: %v", err)
	}
	text := string(src)
	begin, end := strings.Index(text, "// BEGIN fastCalls"), strings.Index(text, "// END fastCalls")
	if begin < 0 || end < begin {
		t.Fatal("wasmeow.js has no BEGIN fastCalls / END fastCalls markers")
	}
	counted := js.Global().Get("Function").New("fastCalls", `
		const h = fastCalls(null), counts = { idbCommit: 0, idbGet: 0 };
		const wrap = (name) => (...args) => { counts[name]++; return h[name](...args); };
		return { helper: { idbCommit: wrap("idbCommit"), idbGet: wrap("idbGet"), wsSend: h.wsSend }, counts };`)
	fastCalls := js.Global().Get("Function").New(text[begin:end] + "\nreturn fastCalls;").Invoke()
	r := counted.Invoke(fastCalls)
	return r.Get("helper"), r.Get("counts")
}

// TestFastCallsPath runs the backend's tests again with wasmeow.js's helper
// installed (every other test runs the per-op path), and checks that the
// helper carried the commits and gets.
func TestFastCallsPath(t *testing.T) {
	helper, counts := loadFastCalls(t)
	must(t, UseFastCalls(helper))
	t.Cleanup(func() { must(t, UseFastCalls(js.Null())) })
	for name, test := range map[string]func(*testing.T){
		"Conformance":                  TestConformance,
		"ReopenKeepsData":              TestReopenKeepsData,
		"BinaryKeysOrderBytewise":      TestBinaryKeysOrderBytewise,
		"UnknownTable":                 TestUnknownTable,
		"ForeignRecord":                TestForeignRecord,
		"VersionChangeClosesOurs":      TestVersionChangeClosesOurs,
		"QuotaExceeded":                TestQuotaExceeded,
		"CancelledCommitWritesNothing": TestCancelledCommitWritesNothing,
		"CallsAfterClose":              TestCallsAfterClose,
		"LargeBatchAndValues":          TestLargeBatchAndValues,
		"FailedOpIsNamed":              TestFailedOpIsNamed,
	} {
		t.Run(name, test)
	}
	commits, gets := counts.Get("idbCommit").Int(), counts.Get("idbGet").Int()
	t.Logf("through the helper: %d commits, %d gets", commits, gets)
	if commits < 10 || gets < 10 {
		t.Fatalf("the helper carried %d commits and %d gets: the per-op path ran instead", commits, gets)
	}
}

// failInjection makes the op of a batch on key "dup" fail mid-way as a
// request (put becomes add on a key that exists: ConstraintError, from the
// request, bubbling to the transaction), and a put on key "throws" throw
// synchronously (DataError). Test-only; it returns the function restoring put.
var failInjection = js.Global().Get("Function").New(`
	const orig = IDBObjectStore.prototype.put;
	const name = (key) => new TextDecoder().decode(key);
	IDBObjectStore.prototype.put = function(value, key) {
		if (name(key) === "dup") return this.add(value, key);
		if (name(key) === "throws") throw new DOMException("injected", "DataError");
		return orig.call(this, value, key);
	};
	return () => { IDBObjectStore.prototype.put = orig; };`)

// TestFailedOpIsNamed: an op failing in the middle of a batch, by its request
// or by a throw, fails the commit with the browser's error naming that op,
// and nothing of the batch stays.
func TestFailedOpIsNamed(t *testing.T) {
	ctx := context.Background()
	b := mustOpen(t, Options{Name: freshName(t), Tables: []string{"a", "b"}})
	defer b.Close()
	must(t, b.Commit(ctx, []kv.Op{{Table: "b", Key: "dup", Value: []byte("old")}}))
	restore := failInjection.Invoke()
	defer restore.Invoke()
	for _, c := range []struct{ key, domName, says string }{
		{"dup", "ConstraintError", `failed at table "b" key "dup"`},
		{"throws", "DataError", `table "b" key "throws"`},
	} {
		err := b.Commit(ctx, []kv.Op{
			{Table: "a", Key: "before", Value: []byte("1")},
			{Table: "a", Key: "gone", Delete: true},
			{Table: "b", Key: c.key, Value: []byte("new")},
			{Table: "a", Key: "after", Value: []byte("2")},
		})
		var d *DOMError
		if err == nil || !errors.As(err, &d) || d.Name != c.domName || !strings.Contains(err.Error(), c.says) {
			t.Fatalf("op on %q failing mid-batch: want %s naming it (%s), got %v", c.key, c.domName, c.says, err)
		}
		got, err := b.Get(ctx, "a", []string{"before", "after"})
		must(t, err)
		if got[0] != nil || got[1] != nil {
			t.Fatalf("a failed batch left writes behind: %q", got)
		}
	}
	restore.Invoke()
	got, err := b.Get(ctx, "b", []string{"dup"})
	must(t, err)
	if string(got[0]) != "old" {
		t.Fatalf("the failed batch changed b/dup: %q", got[0])
	}
}
