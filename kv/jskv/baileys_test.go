//go:build js

package jskv

import (
	"context"
	"errors"
	"testing"

	"syscall/js"

	"github.com/wasmeow/wasmeow/baileysauth"
	"github.com/wasmeow/wasmeow/errcode"
	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/kvtest"
)

// jsonStore is mapStore whose values go through JSON.stringify/parse
// without BufferJSON (Uint8Arrays come back as {"0": b0, ...}), with no
// clear method (Baileys' is optional).
const jsonStore = `
const data = new Map(); let creds = null;
const keys = {
  async get(type, ids) { const out = {}; for (const id of ids) { const v = data.get(type + '/' + id); if (v !== undefined) out[id] = JSON.parse(v); } return out; },
  async set(d) { for (const type in d) for (const id in d[type]) { const v = d[type][id]; if (v === null) data.delete(type + '/' + id); else data.set(type + '/' + id, JSON.stringify(v)); } },
};
const credsObj = { async load() { return creds && JSON.parse(creds); }, async save(c) { creds = c && JSON.stringify(c); } };
return { keys, creds: credsObj, data };`

func openJSONStore(t *testing.T) (*Baileys, func() *Baileys) {
	s := evalJS(t, jsonStore)
	open := func() *Baileys {
		b, err := OpenBaileys(s.Get("keys"), s.Get("creds"), js.Undefined(), js.Undefined(), js.Undefined())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return open(), open
}

func TestBaileysConformance(t *testing.T) {
	// Tables idbstore does not have are whatsmeow's own types: opaque bytes.
	kvtest.Run(t, func(t *testing.T) kv.Backend {
		b, _ := openJSONStore(t)
		return b
	})
}

func TestBaileysLayoutReadsBackThroughPlainJSON(t *testing.T) {
	ctx := context.Background()
	b, reopen := openJSONStore(t)
	our := "15551234567:12@s.whatsapp.net"
	lid := idbstore.EncodeLIDUser("98765")
	session := idbstore.EncodeBlob([]byte{0, 1, 2, 255})
	// Without a device, device records have no home: refused, coded, the store not called.
	err := b.Commit(ctx, []kv.Op{{Table: idbstore.TableSession, Key: idbstore.JoinKey(our, "1555:0"), Value: session}})
	if errcode.Of(err) != jsbridge.CodeStoreValueRefused {
		t.Fatalf("a session with no device: %v (code %q)", err, errcode.Of(err))
	}
	if err := b.Commit(ctx, []kv.Op{{Table: idbstore.TableLIDByPN, Key: idbstore.JoinKey("1555"), Value: lid}}); err != nil {
		t.Fatal(err)
	}
	// A value JSON would change: refused before the store sees it.
	err = b.Commit(ctx, []kv.Op{{Table: idbstore.TableLIDByPN, Key: idbstore.JoinKey("1556"), Value: idbstore.EncodeLIDUser("\xff")}})
	if errcode.Of(err) != jsbridge.CodeStoreValueRefused || !errors.Is(err, baileysauth.ErrUnreadable) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	b2 := reopen()
	pairs, err := b2.Scan(ctx, idbstore.TableLIDByPN, "")
	if err != nil || len(pairs) != 1 || string(pairs[0].Value) != string(lid) {
		t.Fatalf("scan after reopen: %v %v", pairs, err)
	}
	if err := b2.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if pairs, err := reopen().Scan(ctx, idbstore.TableLIDByPN, ""); err != nil || len(pairs) != 0 {
		t.Fatalf("after Clear with no keys.clear: %v %v", pairs, err)
	}
}
