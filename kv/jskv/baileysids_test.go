//go:build js

package jskv

import (
	"context"
	"fmt"
	"syscall/js"
	"testing"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
)

// countingStore is jsonStore that also records the JSON size of each
// keys.set and how many keys.get calls it served.
const countingStore = `
const data = new Map(); let creds = null; const stat = { setBytes: 0, gets: 0 };
const keys = {
  async get(type, ids) { stat.gets++; const out = {}; for (const id of ids) { const v = data.get(type + '/' + id); if (v !== undefined) out[id] = JSON.parse(v); } return out; },
  async set(d) { stat.setBytes = JSON.stringify(d).length; for (const type in d) for (const id in d[type]) { const v = d[type][id]; if (v === null) data.delete(type + '/' + id); else data.set(type + '/' + id, JSON.stringify(v)); } },
};
const credsObj = { async load() { return creds && JSON.parse(creds); }, async save(c) { creds = c && JSON.stringify(c); } };
return { keys, creds: credsObj, data, stat };`

func secretOp(i int) kv.Op {
	key := idbstore.JoinKey("15551234567:12@s.whatsapp.net", "120363000000000001@g.us", "15550100001@s.whatsapp.net", fmt.Sprintf("3EB0%016X", i))
	return kv.Op{Table: "message_secret", Key: key, Value: []byte{1, 2, 3, byte(i)}}
}

func openCounting(t *testing.T, s js.Value) *Baileys {
	b, err := OpenBaileys(s.Get("keys"), s.Get("creds"), js.Undefined(), js.Undefined(), js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A commit writes only the id buckets its ids fall in: with 10,000
// message secrets stored (whatsmeow never deletes them), adding one more
// costs a few kilobytes, not the whole list.
func TestBaileysIDListWritesStayBounded(t *testing.T) {
	ctx := context.Background()
	s := evalJS(t, countingStore)
	b := openCounting(t, s)
	const n, batch = 10000, 200
	for i := 0; i < n; i += batch {
		ops := make([]kv.Op, batch)
		for j := range ops {
			ops[j] = secretOp(i + j)
		}
		if err := b.Commit(ctx, ops); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(ctx, []kv.Op{secretOp(n)}); err != nil {
		t.Fatal(err)
	}
	one := s.Get("stat").Get("setBytes").Int()
	// One record (~150 bytes of JSON) and one bucket of ~40 ids of ~90
	// bytes; the whole list would be ~900 KB.
	if one > 16<<10 {
		t.Fatalf("adding one id to %d wrote %d bytes of JSON", n, one)
	}
	if err := b.Commit(ctx, []kv.Op{{Table: "message_secret", Key: secretOp(7).Key, Delete: true}}); err != nil {
		t.Fatal(err)
	}
	if del := s.Get("stat").Get("setBytes").Int(); del > 16<<10 {
		t.Fatalf("deleting one id of %d wrote %d bytes of JSON", n, del)
	}
	// A reload lists the table with one keys.get of its buckets.
	gets := s.Get("stat").Get("gets").Int()
	pairs, err := openCounting(t, s).Scan(ctx, "message_secret", "")
	if err != nil || len(pairs) != n {
		t.Fatalf("scan after reopen: %d pairs (want %d), %v", len(pairs), n, err)
	}
	if got := s.Get("stat").Get("gets").Int() - gets; got != 2 {
		t.Errorf("a scan of one table made %d keys.get calls, want 2 (the id buckets, the records)", got)
	}
	t.Logf("one id added to %d: %d bytes of JSON written", n, one)
}

// A store written by the first layout (one sorted array per table, id =
// the table's name) reads the same, and the first commit that touches the
// table converts it to buckets.
func TestBaileysFirstIDListFormIsConverted(t *testing.T) {
	ctx := context.Background()
	s := evalJS(t, countingStore)
	b := openCounting(t, s)
	var ops []kv.Op
	for i := range 50 {
		ops = append(ops, secretOp(i))
	}
	if err := b.Commit(ctx, ops); err != nil {
		t.Fatal(err)
	}
	// Rewrite the id lists in the first form.
	evalJS(t, `return (data) => {
	  const all = [];
	  for (const [k, v] of [...data]) if (k.startsWith('wasmeow-ids/message_secret/')) { all.push(...JSON.parse(v)); data.delete(k); }
	  data.set('wasmeow-ids/message_secret', JSON.stringify(all.sort()));
	}`).Invoke(s.Get("data"))
	pairs, err := openCounting(t, s).Scan(ctx, "message_secret", "")
	if err != nil || len(pairs) != 50 {
		t.Fatalf("scan of the first form: %d pairs, %v", len(pairs), err)
	}
	b = openCounting(t, s)
	if err := b.Commit(ctx, []kv.Op{secretOp(50)}); err != nil {
		t.Fatal(err)
	}
	if s.Get("data").Call("has", "wasmeow-ids/message_secret").Bool() {
		t.Fatal("the first form's record is still there after a commit")
	}
	buckets := evalJS(t, `return (data) => [...data.keys()].filter((k) => k.startsWith('wasmeow-ids/message_secret/')).length`).Invoke(s.Get("data")).Int()
	if buckets < 20 {
		t.Fatalf("%d buckets for 51 ids", buckets)
	}
	pairs, err = openCounting(t, s).Scan(ctx, "message_secret", "")
	if err != nil || len(pairs) != 51 {
		t.Fatalf("scan after the conversion: %d pairs, %v", len(pairs), err)
	}
}
