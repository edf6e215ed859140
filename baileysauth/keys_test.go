package baileysauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/baileysauth/filltest"
	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// filledStore is a memkv backend with a record in every idbstore table,
// written through whatsmeow's store interfaces.
func filledStore(t *testing.T) (*memkv.Backend, *store.Device) {
	t.Helper()
	b := memkv.New()
	c, err := idbstore.New(context.Background(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b, filltest.Fill(t, c)
}

func TestEveryRecordMapsToTheKeyStoreAndBack(t *testing.T) {
	ctx := context.Background()
	b, dev := filledStore(t)
	our := dev.ID.String()
	seen := map[string]map[string]json.RawMessage{} // type -> id -> value
	creds := map[string]bool{}
	for _, table := range idbstore.BackendTables {
		pairs, err := b.Scan(ctx, table, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(pairs) == 0 {
			t.Errorf("table %s is empty: the test misses it", table)
		}
		for _, p := range pairs {
			if table == idbstore.TableDevice || table == idbstore.TablePreKeyMark {
				creds[table] = true
				continue
			}
			e, err := Encode(table, p.Key, p.Value, our)
			if err != nil {
				t.Fatalf("%s %q: %v", table, p.Key, err)
			}
			if strings.IndexByte(e.ID, 0) >= 0 {
				t.Errorf("%s id %q holds a NUL byte", e.Type, e.ID)
			}
			if seen[e.Type] == nil {
				seen[e.Type] = map[string]json.RawMessage{}
			}
			seen[e.Type][e.ID] = e.Value
			plain, err := PlainJSON(e.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, form := range []json.RawMessage{e.Value, plain} {
				k, v, err := Decode(table, e.ID, form, our)
				if err != nil || k != p.Key || !bytes.Equal(v, p.Value) {
					t.Fatalf("%s %q: back as %q %x (%v), want %x", table, e.ID, k, v, err, p.Value)
				}
			}
		}
	}
	for _, table := range CredsTables {
		if !creds[table] {
			t.Errorf("creds table %s was not written", table)
		}
	}
	// Baileys' types, ids and shapes.
	want := map[string][]string{
		TypeIdentityKey:     {"98765432109876_1.3"},
		TypeSession:         {"98765432109876_1.3", "15550001111.0"},
		TypeSenderKey:       {"120363000000000001@g.us::98765432109876_1::3"},
		TypeAppStateSyncKey: {"AAAAAAEC", "CQ=="},
		TypeAppStateVersion: {"critical_block"},
		TypeTCToken:         {"15550001111@s.whatsapp.net"},
		TypeLIDMapping:      {"15550001111", "98765432109876_reverse"},
		TypePreKey:          {"1", "2", "3", "4"},
	}
	for typ, ids := range want {
		for _, id := range ids {
			if _, ok := seen[typ][id]; !ok {
				t.Errorf("%s: no id %q in %v", typ, id, keysOf(seen[typ]))
			}
		}
	}
	var pk map[string]any
	_ = json.Unmarshal(seen[TypePreKey]["4"], &pk)
	if len(pk) != 3 || pk["uploaded"] != true || pk["public"].(map[string]any)["type"] != "Buffer" {
		t.Errorf("pre-key 4 (generated alone, flagged uploaded): %v", pk)
	}
	pk = nil
	_ = json.Unmarshal(seen[TypePreKey]["1"], &pk)
	if _, ok := pk["uploaded"]; ok || len(pk) != 2 {
		t.Errorf("pre-key 1 (uploaded by the mark) is not a plain KeyPair: %v", pk)
	}
	if string(seen[TypeLIDMapping]["15550001111"]) != `"98765432109876"` || string(seen[TypeLIDMapping]["98765432109876_reverse"]) != `"15550001111"` {
		t.Errorf("lid-mapping: %v", seen[TypeLIDMapping])
	}
	var sk map[string]any
	_ = json.Unmarshal(seen[TypeAppStateSyncKey]["AAAAAAEC"], &sk)
	if fp := sk["fingerprint"].(map[string]any); fp["rawId"] != float64(7) || fp["currentIndex"] != float64(2) || sk["timestamp"] != float64(1764000000123) || sk["wasmeowFingerprint"] != nil {
		t.Errorf("app-state-sync-key: %v", sk)
	}
	sk = nil
	_ = json.Unmarshal(seen[TypeAppStateSyncKey]["CQ=="], &sk)
	if sk["wasmeowFingerprint"] == nil {
		t.Errorf("a fingerprint that is not a proto kept no raw bytes: %v", sk)
	}
	var lt map[string]any
	_ = json.Unmarshal(seen[TypeAppStateVersion]["critical_block"], &lt)
	if lt["version"] != float64(42) || lt["indexValueMap"] == nil {
		t.Errorf("app-state-sync-version: %v", lt)
	}
	var tc map[string]any
	_ = json.Unmarshal(seen[TypeTCToken]["15550001111@s.whatsapp.net"], &tc)
	if tc["timestamp"] != "1764000000" {
		t.Errorf("tctoken: %v", tc)
	}
	var id Bytes
	_ = json.Unmarshal(seen[TypeIdentityKey]["98765432109876_1.3"], &id)
	if len(id) != 33 || id[0] != 5 {
		t.Errorf("identity-key is not libsignal's 33-byte key: %x", id)
	}
	for _, typ := range []string{"wasmeow-app-state-mac-patch", "wasmeow-contact-bucket", "wasmeow-chat-settings", "wasmeow-message-secret", "wasmeow-event-buffer", "wasmeow-layout"} {
		if len(seen[typ]) == 0 {
			t.Errorf("no %s records: %v", typ, keysOf(seen))
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestValuesTheStoreCannotGiveBackAreRefused(t *testing.T) {
	our := "15551234567:12@s.whatsapp.net"
	// A LID map entry whose user is not valid UTF-8: JSON would change it.
	k := idbstore.JoinKey("98765")
	if _, err := Encode(idbstore.TableLIDByPN, k, idbstore.EncodeLIDUser("\xff\xfe"), our); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("invalid UTF-8 string: %v", err)
	}
	// A key whose id is not valid UTF-8: crossing into JS it would become
	// U+FFFD, another id. Refused when written and when deleted.
	for table, k := range map[string]string{
		idbstore.TablePrivacyToken: idbstore.JoinKey(our, "1555\xff@s.whatsapp.net"),
		idbstore.TableLIDByPN:      idbstore.JoinKey("1555\xfe"),
		idbstore.TableSession:      idbstore.JoinKey(our, "1555\xff:0"),
	} {
		if id, err := IDOf(table, k); !errors.Is(err, ErrBadID) {
			t.Errorf("%s key %q: id %q, %v", table, k, id, err)
		}
	}
	// A version past 2^53: a JS number would round it.
	k = idbstore.JoinKey(our, "regular")
	if _, err := Encode(idbstore.TableAppStateVersion, k, idbstore.EncodeAppStateVersion(1<<60, [128]byte{}), our); err == nil {
		t.Fatal("a version past 2^53 was accepted")
	}
	// A NULL session has no key store form (null deletes).
	k = idbstore.JoinKey(our, "1555:0")
	if _, err := Encode(idbstore.TableSession, k, idbstore.EncodeBlob(nil), our); !errors.Is(err, ErrBadValue) {
		t.Fatalf("NULL session: %v", err)
	}
	// Values a store gives back that are not the type's shape.
	for table, raw := range map[string]string{
		idbstore.TableIdentity:        `{"type":"Buffer","data":"AAE="}`,
		idbstore.TablePreKey:          `{"public":"AAE=","private":"AAE="}`,
		idbstore.TableAppStateVersion: `{"version":1,"hash":"AAE=","indexValueMap":{}}`,
		idbstore.TableSession:         `"not base64!"`,
		idbstore.TableLIDByPN:         `{"x":1}`,
	} {
		if _, _, err := Decode(table, map[string]string{idbstore.TableIdentity: "1.0", idbstore.TablePreKey: "1", idbstore.TableAppStateVersion: "x",
			idbstore.TableSession: "1.0", idbstore.TableLIDByPN: "1"}[table], []byte(raw), our); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s %s: %v", table, raw, err)
		}
	}
	// An app-state sync key with no key: what protobuf.js fromObject (in
	// useMultiFileAuthState's get) leaves of one stored as plain JSON.
	for _, raw := range []string{`{"fingerprint":{"rawId":1},"timestamp":"5"}`, `{"keyData":"","timestamp":"5"}`} {
		_, _, err := Decode(idbstore.TableAppStateSyncKey, "AAAAAAEC", []byte(raw), our)
		if !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), `app-state-sync-key "AAAAAAEC"`) || !strings.Contains(err.Error(), "keyData") {
			t.Errorf("sync key %s: %v", raw, err)
		}
	}
	for table, id := range map[string]string{idbstore.TablePreKey: "01", idbstore.TableSession: "1555", idbstore.TableSenderKey: "g@g.us::1", idbstore.TableLIDByLID: "1555", idbstore.TableLIDByPN: "1_reverse"} {
		if _, err := KeyOf(table, id, our); !errors.Is(err, ErrBadID) {
			t.Errorf("%s id %q: %v", table, id, err)
		}
	}
}

func TestTheDeviceAndUploadMarkLiveInTheCreds(t *testing.T) {
	ctx := context.Background()
	b, dev := filledStore(t)
	var ops []kv.Op
	want := map[string]map[string][]byte{}
	for _, table := range idbstore.BackendTables {
		pairs, _ := b.Scan(ctx, table, "")
		for _, p := range pairs {
			ops = append(ops, kv.Op{Table: table, Key: p.Key, Value: p.Value})
			if IsCredsTable(table) {
				if want[table] == nil {
					want[table] = map[string][]byte{}
				}
				want[table][p.Key] = p.Value
			}
		}
	}
	c, changed, err := ApplyOps(nil, ops)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	if c.Our() != dev.ID.String() || c.FirstUnuploadedPreKeyID != 3 || c.NextPreKeyID != 5 {
		t.Fatalf("our %q, firstUnuploadedPreKeyId %d (mark 2), nextPreKeyId %d (4 keys)", c.Our(), c.FirstUnuploadedPreKeyID, c.NextPreKeyID)
	}
	raw, _ := json.Marshal(c)
	var back Creds
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	got, err := back.Records()
	if err != nil {
		t.Fatal(err)
	}
	for table, recs := range want {
		for k, v := range recs {
			if !bytes.Equal(got[table][k], v) {
				t.Errorf("%s %q: %x, want %x", table, k, got[table][k], v)
			}
		}
	}
	// A second device is refused; deleting the device empties the creds.
	other := testDevice(t)
	other.ID = &types.JID{User: "15559999999", Device: 3, Server: types.DefaultUserServer}
	v, _ := idbstore.EncodeDevice(other, 2)
	if _, _, err := ApplyOps(&back, []kv.Op{{Table: idbstore.TableDevice, Key: idbstore.JoinKey(other.ID.String()), Value: v}}); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("second device: %v", err)
	}
	gone, _, err := ApplyOps(&back, []kv.Op{
		{Table: idbstore.TableDevice, Key: idbstore.JoinKey(dev.ID.String()), Delete: true},
		{Table: idbstore.TablePreKeyMark, Key: idbstore.JoinKey(dev.ID.String()), Delete: true},
	})
	if err != nil || gone != nil {
		t.Fatalf("after DeleteDevice: %+v %v", gone, err)
	}
}

func TestAppStateVersionCarriesTheNewestMACOfEveryIndex(t *testing.T) {
	our := "15551234567:12@s.whatsapp.net"
	patch := func(version uint64, macs ...[2]byte) (string, []byte) {
		b := memkv.New()
		c, err := idbstore.New(context.Background(), b, nil)
		if err != nil {
			t.Fatal(err)
		}
		dev := filltest.Fill(t, c)
		var muts []store.AppStateMutationMAC
		for _, m := range macs {
			muts = append(muts, store.AppStateMutationMAC{IndexMAC: bytes.Repeat([]byte{m[0]}, 32), ValueMAC: bytes.Repeat([]byte{m[1]}, 32)})
		}
		if err := dev.AppState.PutAppStateVersion(context.Background(), "regular", version, [128]byte{}); err != nil {
			t.Fatal(err)
		}
		if err := dev.AppState.PutAppStateMutationMACs(context.Background(), "regular", version, muts); err != nil {
			t.Fatal(err)
		}
		_ = c.Flush(context.Background())
		pairs, _ := b.Scan(context.Background(), idbstore.TableAppStateMACs, idbstore.JoinKey(dev.ID.String(), "regular", ""))
		if len(pairs) != 1 {
			t.Fatalf("patch records: %v", pairs)
		}
		// The fixture's device JID is our.
		return pairs[0].Key, pairs[0].Value
	}
	k1, v1 := patch(1, [2]byte{1, 0xa1}, [2]byte{2, 0xa2})
	k2, v2 := patch(2, [2]byte{1, 0xb1})
	k := idbstore.JoinKey(our, "regular")
	e, err := EncodeAppStateVersion(k, idbstore.EncodeAppStateVersion(2, [128]byte{7}), our, map[string][]byte{k2: v2, k1: v1})
	if err != nil {
		t.Fatal(err)
	}
	var lt struct {
		Version       int
		IndexValueMap map[string]struct{ ValueMac Bytes }
	}
	if err := json.Unmarshal(e.Value, &lt); err != nil {
		t.Fatal(err)
	}
	i1, i2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)), base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	if e.Type != TypeAppStateVersion || e.ID != "regular" || lt.Version != 2 || len(lt.IndexValueMap) != 2 ||
		lt.IndexValueMap[i1].ValueMac[0] != 0xb1 || lt.IndexValueMap[i2].ValueMac[0] != 0xa2 {
		t.Fatalf("entry %s: %+v", e.Value, lt)
	}
}
