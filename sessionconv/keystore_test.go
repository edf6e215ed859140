package sessionconv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/wasmeow/wasmeow/baileysauth"
	"github.com/wasmeow/wasmeow/baileysauth/filltest"
	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv/memkv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// A key store as the page's custom strategy writes it (baileysauth's
// entries and wasmeow's id lists), from a store with a record in every
// table, reads back into a snapshot holding every one of those records.
func TestKeyStoreToSnapshotKeepsEveryRecord(t *testing.T) {
	ctx := context.Background()
	b := memkv.New()
	c, err := idbstore.New(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev := filltest.Fill(t, c)
	our := dev.ID.String()
	creds, err := baileysauth.FromDevice(dev, nil)
	if err != nil {
		t.Fatal(err)
	}
	credsJSON, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]map[string]json.RawMessage{baileysauth.IDsType: {}}
	lists := map[string][]string{}
	want := map[string]map[string][]byte{}
	for _, table := range idbstore.BackendTables {
		pairs, err := b.Scan(ctx, table, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pairs {
			if baileysauth.IsCredsTable(table) || table == idbstore.TableLayout {
				continue // in the creds; the layout stamp is the target's own
			}
			e, err := baileysauth.Encode(table, p.Key, p.Value, our)
			if err != nil {
				t.Fatalf("%s %q: %v", table, p.Key, err)
			}
			if keys[e.Type] == nil {
				keys[e.Type] = map[string]json.RawMessage{}
			}
			keys[e.Type][e.ID] = e.Value
			lists[table] = append(lists[table], e.ID)
			if want[table] == nil {
				want[table] = map[string][]byte{}
			}
			want[table][p.Key] = p.Value
		}
	}
	// Two lists per table, as buckets are written (and one id in both).
	for table, ids := range lists {
		half := len(ids) / 2
		a, _ := json.Marshal(ids[:half+1])
		z, _ := json.Marshal(ids[half:])
		keys[baileysauth.IDsType][table+"/00"] = a
		keys[baileysauth.IDsType][table+"/ff"] = z
	}
	if !IsWasmeowKeyStore(keys) {
		t.Fatal("a key store with id lists not recognised")
	}
	blob, err := KeyStoreToSnapshot(ctx, credsJSON, keys, "moved")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.DecodeSession(blob)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string][]byte{}
	for table, pairs := range snap.Tables {
		got[table] = map[string][]byte{}
		for _, p := range pairs {
			got[table][p.Key] = p.Value
		}
	}
	for table, recs := range want {
		for k, v := range recs {
			if !bytes.Equal(got[table][k], v) {
				t.Errorf("%s %q: got %x, want %x", table, k, got[table][k], v)
			}
		}
	}
	if len(got[idbstore.TableDevice]) != 1 {
		t.Errorf("device records: %d", len(got[idbstore.TableDevice]))
	}

	// A record that does not decode is an error, not a silent loss.
	for id := range keys[baileysauth.TypeSession] {
		keys[baileysauth.TypeSession][id] = json.RawMessage(`{"bogus":true}`)
	}
	if _, err := KeyStoreToSnapshot(ctx, credsJSON, keys, "moved"); !errors.Is(err, ErrKeyStore) {
		t.Fatalf("a garbage session record: %v", err)
	}
	if _, err := KeyStoreToSnapshot(ctx, json.RawMessage(`{}`), keys, "moved"); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("unpaired creds: %v", err)
	}
}
