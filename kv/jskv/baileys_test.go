//go:build js

package jskv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"syscall/js"

	"github.com/wasmeow/wasmeow/baileysauth"
	"github.com/wasmeow/wasmeow/baileysauth/filltest"
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

// TestIdbstoreOnTheBaileysLayout runs whatsmeow's stores (idbstore) on the
// Baileys backend over plain JSON: every table written through the store
// interfaces comes back the same in a new backend and container (a
// reload), and deleting the device empties the user's store.
func TestIdbstoreOnTheBaileysLayout(t *testing.T) {
	ctx := context.Background()
	s := evalJS(t, jsonStore)
	open := func() *idbstore.Container {
		_, c := openContainer(t, s)
		return c
	}
	c1 := open()
	dev := filltest.Fill(t, c1)
	rows1, err := c1.ExportRows(ctx, *dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := open()
	rows2, err := c2.ExportRows(ctx, *dev.ID)
	if err != nil || rows2 == nil {
		t.Fatalf("after reopening: %v %v", rows2, err)
	}
	same := func(a, b *idbstore.DeviceRows) bool {
		ca, _ := baileysauth.FromDevice(a.Device, nil)
		cb, _ := baileysauth.FromDevice(b.Device, nil)
		ja, _ := json.Marshal(ca)
		jb, _ := json.Marshal(cb)
		da, db := *a, *b
		da.Device, db.Device = nil, nil
		return bytes.Equal(ja, jb) && reflect.DeepEqual(da, db)
	}
	if !same(rows1, rows2) {
		t.Fatalf("rows differ after a reload:\n%+v\n%+v", rows1, rows2)
	}
	if len(rows2.Sessions) != 2 || len(rows2.PreKeys) != 4 || len(rows2.AppStateMACs) != 1 || len(rows2.LIDMappings) != 1 || len(rows2.Contacts) != 1 {
		t.Fatalf("rows: %+v", rows2)
	}
	types := evalJS(t, `return (d) => [...new Set([...d.keys()].map((k) => k.split('/')[0]))].sort().join(',')`).Invoke(s.Get("data")).String()
	for _, want := range []string{"pre-key", "session", "sender-key", "identity-key", "app-state-sync-key", "app-state-sync-version", "lid-mapping", "tctoken", IDsType} {
		if !strings.Contains(","+types+",", ","+want+",") {
			t.Errorf("no %s records in %s", want, types)
		}
	}
	// Baileys' LTHash state carries the collection's MACs.
	macs := evalJS(t, `return (d) => Object.keys(JSON.parse(d.get('app-state-sync-version/critical_block')).indexValueMap).length`).Invoke(s.Get("data")).Int()
	if macs != 1 {
		t.Errorf("indexValueMap of critical_block: %d entries, want 1", macs)
	}
	d, err := c2.GetDevice(ctx, *dev.ID)
	if err != nil || d == nil {
		t.Fatal(d, err)
	}
	if err := c2.DeleteDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := c2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// What sqlstore keeps past DeleteDevice stays: the LID map (container-
	// wide) and privacy tokens (no foreign key to the device there).
	if left := evalJS(t, `return (d) => [...d.keys()].filter((k) => !/^(wasmeow-|lid-mapping\/|tctoken\/)/.test(k)).join(',')`).Invoke(s.Get("data")).String(); left != "" {
		t.Errorf("device records left after DeleteDevice: %s", left)
	}
	if c := s.Get("creds").Call("load"); !c.IsNull() {
		// load is async: a Promise of null.
		if got, _ := jsbridge.Await(ctx, c); !got.IsNull() {
			t.Errorf("creds after DeleteDevice: %v", got)
		}
	}
}

// A paired auth state wasmeow did not write (Baileys paired it: its
// sessions are libsignal-node's) is refused at open, coded, not half used.
func TestAPairedStoreWasmeowDidNotWriteIsRefused(t *testing.T) {
	ctx := context.Background()
	s := evalJS(t, jsonStore)
	c, err := baileysauth.FromDevice(filltest.Device(), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c)
	if _, err := jsbridge.Await(ctx, s.Get("creds").Call("save", js.Global().Get("JSON").Call("parse", string(raw)))); err != nil {
		t.Fatal(err)
	}
	b, err := OpenBaileys(s.Get("keys"), s.Get("creds"), js.Undefined(), js.Undefined(), js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	_, err = idbstore.New(ctx, b, nil)
	if errcode.Of(err) != jsbridge.CodeInvalidOption || !strings.Contains(err.Error(), "did not write") {
		t.Fatalf("open: %v (code %q)", err, errcode.Of(err))
	}
}

// Clear empties the store even when keys.clear() does not (Baileys'
// makeCacheableSignalKeyStore's clear only flushes its cache when the
// store under it has none): no privacy token, LID mapping or id list of
// the old account is left for the next one paired in that store.
func TestClearDoesNotTrustKeysClear(t *testing.T) {
	ctx := context.Background()
	s := evalJS(t, strings.Replace(jsonStore, "return { keys,", "let cleared = 0; keys.clear = async () => { cleared++; };\nreturn { cleared: () => cleared, keys,", 1))
	b, c := openContainer(t, s)
	filltest.Fill(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.Call("cleared").Int(); n != 1 {
		t.Errorf("keys.clear() called %d times, want 1", n)
	}
	if left := evalJS(t, `return (d) => [...d.keys()].join(',')`).Invoke(s.Get("data")).String(); left != "" {
		t.Errorf("left after Clear: %s", left)
	}
}

// openContainer is idbstore over the Baileys backend of the store s.
func openContainer(t *testing.T, s js.Value) (*Baileys, *idbstore.Container) {
	b, err := OpenBaileys(s.Get("keys"), s.Get("creds"), js.Undefined(), js.Undefined(), js.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	c, err := idbstore.New(context.Background(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b, c
}
