// Package kvtest checks that a kv.Backend keeps the contract; every backend's
// tests run it (natively or in the browser).
package kvtest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/wasmeow/wasmeow/kv"
)

// Run checks the contract on fresh backends made by open.
func Run(t *testing.T, open func(t *testing.T) kv.Backend) {
	ctx := context.Background()
	t.Run("GetScanCommit", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		must(t, b.Commit(ctx, []kv.Op{
			{Table: "a", Key: "x|2", Value: []byte("two")},
			{Table: "a", Key: "x|1", Value: []byte("one")},
			{Table: "a", Key: "y|1", Value: []byte("other")},
			{Table: "b", Key: "x|1", Value: []byte{}},
		}))
		got, err := b.Get(ctx, "a", []string{"x|1", "missing", "y|1"})
		must(t, err)
		if string(got[0]) != "one" || got[1] != nil || string(got[2]) != "other" {
			t.Fatalf("get: %q", got)
		}
		empty, err := b.Get(ctx, "b", []string{"x|1"})
		must(t, err)
		if empty[0] == nil || len(empty[0]) != 0 {
			t.Fatalf("an empty value must read back as empty, not absent: %#v", empty[0])
		}
		pairs, err := b.Scan(ctx, "a", "x|")
		must(t, err)
		if fmt.Sprint(keys(pairs)) != "[x|1 x|2]" || string(pairs[1].Value) != "two" {
			t.Fatalf("scan x|: %v", keys(pairs))
		}
		all, err := b.Scan(ctx, "a", "")
		must(t, err)
		if len(all) != 3 {
			t.Fatalf("scan all: %v", keys(all))
		}
		none, err := b.Scan(ctx, "nothing-here", "")
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("scan of an unknown table: %v", keys(none))
		}
	})
	t.Run("OverwriteAndDelete", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		must(t, b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("v1")}}))
		must(t, b.Commit(ctx, []kv.Op{
			{Table: "a", Key: "k", Value: []byte("v2")},
			{Table: "a", Key: "gone", Delete: true},
		}))
		got, _ := b.Get(ctx, "a", []string{"k"})
		if string(got[0]) != "v2" {
			t.Fatalf("overwrite: %q", got[0])
		}
		must(t, b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Delete: true}}))
		got, _ = b.Get(ctx, "a", []string{"k"})
		if got[0] != nil {
			t.Fatalf("deleted key still reads %q", got[0])
		}
	})
	t.Run("OrderWithinBatch", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		must(t, b.Commit(ctx, []kv.Op{
			{Table: "a", Key: "k", Value: []byte("first")},
			{Table: "a", Key: "k", Delete: true},
			{Table: "a", Key: "j", Delete: true},
			{Table: "a", Key: "j", Value: []byte("last")},
		}))
		got, _ := b.Get(ctx, "a", []string{"k", "j"})
		if got[0] != nil || string(got[1]) != "last" {
			t.Fatalf("ops must apply in order: %q", got)
		}
	})
	t.Run("NoAliasing", func(t *testing.T) {
		b := open(t)
		defer b.Close()
		v := []byte("orig")
		must(t, b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: v}}))
		v[0] = 'X'
		got, _ := b.Get(ctx, "a", []string{"k"})
		got[0][1] = 'Y'
		again, _ := b.Get(ctx, "a", []string{"k"})
		if string(again[0]) != "orig" {
			t.Fatalf("backend shares memory with callers: %q", again[0])
		}
	})
	t.Run("Closed", func(t *testing.T) {
		b := open(t)
		must(t, b.Close())
		if err := b.Commit(ctx, []kv.Op{{Table: "a", Key: "k", Value: []byte("v")}}); !errors.Is(err, kv.ErrClosed) {
			t.Fatalf("commit after close: %v", err)
		}
		if _, err := b.Scan(ctx, "a", ""); !errors.Is(err, kv.ErrClosed) {
			t.Fatalf("scan after close: %v", err)
		}
	})
}

func keys(ps []kv.Pair) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Key
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
