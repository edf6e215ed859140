package sessiond

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestKeyStoreAndCreds(t *testing.T) {
	s := openService(t)
	_, token := newTenant(t, s, ModeNative)
	a := serveAPI(t, s, token)
	l := a.acquire("bob", "h", 5000)
	a.set("bob", l.Fence, map[string]map[string][]byte{
		"session":       {"1555:1@s.whatsapp.net": {1, 2, 3}, "empty": {}, "our\x00their": {9}},
		"prekey":        {"00000001": bytes.Repeat([]byte{7}, 100)},
		"wasmeow-index": {"session": []byte(`["1555:1@s.whatsapp.net","empty"]`)},
	}).want(t, 204, "")
	got := a.get("bob", "session", "1555:1@s.whatsapp.net", "empty", "missing", "our\x00their")
	// wasmeow's ids join their parts with NUL, which PostgreSQL's TEXT cannot hold.
	if !bytes.Equal(got["1555:1@s.whatsapp.net"], []byte{1, 2, 3}) || got["empty"] == nil || len(got["empty"]) != 0 || !bytes.Equal(got["our\x00their"], []byte{9}) {
		t.Fatalf("get: %q", got)
	}
	if _, ok := got["missing"]; ok {
		t.Fatal("a missing id came back")
	}
	// null deletes, in the same batch as a write.
	r := a.do("POST", "/v1/sessions/bob/keys/set", l.Fence, []byte(`{"data":{"session":{"empty":null,"new":"AQ=="}}}`)).want(t, 204, "")
	_ = r
	got = a.get("bob", "session", "empty", "new")
	if _, ok := got["empty"]; ok || !bytes.Equal(got["new"], []byte{1}) {
		t.Fatalf("after delete: %q", got)
	}
	// creds: opaque bytes; 404 when none.
	a.do("GET", "/v1/sessions/bob/creds", 0, nil).want(t, 404, CodeNotFound)
	if r := a.do("GET", "/v1/sessions/bob/creds?optional", 0, nil).want(t, 204, ""); len(r.body) != 0 {
		t.Fatalf("optional creds: %q", r.body)
	}
	a.do("PUT", "/v1/sessions/bob/creds", l.Fence, []byte(`{"device":{}}`)).want(t, 204, "")
	if r := a.do("GET", "/v1/sessions/bob/creds", 0, nil).want(t, 200, ""); string(r.body) != `{"device":{}}` {
		t.Fatalf("creds: %q", r.body)
	}
	var info SessionInfo
	_ = json.Unmarshal(a.do("GET", "/v1/sessions/bob", 0, nil).want(t, 200, "").body, &info)
	if info.Keys != 5 || !info.Creds || info.Snapshot || info.Lease.Holder != "h" {
		t.Fatalf("info: %+v", info)
	}
	a.do("POST", "/v1/sessions/bob/keys/clear", l.Fence, nil).want(t, 204, "")
	a.do("DELETE", "/v1/sessions/bob/creds", l.Fence, nil).want(t, 204, "")
	_ = json.Unmarshal(a.do("GET", "/v1/sessions/bob", 0, nil).want(t, 200, "").body, &info)
	if info.Keys != 0 || info.Creds {
		t.Fatalf("after clear: %+v", info)
	}
}

func TestRemoteSnapshots(t *testing.T) {
	s := openService(t)
	_, token := newTenant(t, s, ModeNative)
	a := serveAPI(t, s, token)
	var info SessionInfo
	_ = json.Unmarshal(a.do("GET", "/v1/sessions/carol", 0, nil).want(t, 200, "").body, &info)
	if info.Snapshot {
		t.Fatal("sessionExists before any save")
	}
	a.do("GET", "/v1/sessions/carol/snapshot", 0, nil).want(t, 404, CodeNotFound)
	l := a.acquire("carol", "h", 5000)
	snap := bytes.Repeat([]byte("snapshot"), 1000)
	a.do("PUT", "/v1/sessions/carol/snapshot", l.Fence, snap).want(t, 204, "")
	if r := a.do("GET", "/v1/sessions/carol/snapshot", 0, nil).want(t, 200, ""); !bytes.Equal(r.body, snap) {
		t.Fatal("extract is not what save was given")
	}
	_ = json.Unmarshal(a.do("GET", "/v1/sessions/carol", 0, nil).want(t, 200, "").body, &info)
	if !info.Snapshot || info.SnapshotBytes != int64(len(snap)) || info.SavedAt == 0 {
		t.Fatalf("info: %+v", info)
	}
	a.do("DELETE", "/v1/sessions/carol", l.Fence, nil).want(t, 204, "")
	a.do("GET", "/v1/sessions/carol/snapshot", 0, nil).want(t, 404, CodeNotFound)
	// The fence survives the delete: the next holder still gets a new one.
	a.do("POST", "/v1/sessions/carol/lease/release", 0, map[string]any{"holder": "h", "fence": l.Fence}).want(t, 204, "")
	if l2 := a.acquire("carol", "h2", 5000); l2.Fence != l.Fence+1 {
		t.Fatalf("fence after delete: %d", l2.Fence)
	}
}

func TestTokensAndBadInputGetCodedErrors(t *testing.T) {
	s := openService(t)
	_, token := newTenant(t, s, ModeNative)
	s.Limits.MaxBody = 64 << 10
	s.Limits.MaxValue = 1000
	s.Limits.MaxBatch = 10
	a := serveAPI(t, s, token)
	anon := &api{t: t, base: a.base}
	anon.do("GET", "/v1/sessions/x", 0, nil).want(t, 401, CodeUnauthorized)
	(&api{t: t, base: a.base, token: "wmt_nope"}).do("GET", "/v1/sessions/x", 0, nil).want(t, 401, CodeUnauthorized)
	a.do("GET", "/v1/sessions/bad%20name", 0, nil).want(t, 400, CodeInvalidRequest)
	a.do("GET", "/v1/sessions/"+strings.Repeat("x", 65), 0, nil).want(t, 400, CodeInvalidRequest)
	a.do("GET", "/v1/nothing", 0, nil).want(t, 404, CodeNotFound)
	a.do("GET", "/v1/sessions/x/keys/nothing", 0, nil).want(t, 404, CodeNotFound)
	a.do("DELETE", "/v1/sessions/x/keys/get", 0, nil).want(t, 405, CodeMethodNotAllowed)
	a.do("POST", "/v1/sessions/x/lease", 0, []byte(`{"holder":"h","ttlMs":1}`)).want(t, 400, CodeInvalidRequest)
	a.do("POST", "/v1/sessions/x/lease", 0, []byte(`{"holder":"","ttlMs":1000}`)).want(t, 400, CodeInvalidRequest)
	a.do("POST", "/v1/sessions/x/lease", 0, []byte(`{"holder":"h","ttlMs":1000,"what":1}`)).want(t, 400, CodeInvalidRequest)
	a.do("POST", "/v1/sessions/x/keys/get", 0, []byte(`not json`)).want(t, 400, CodeInvalidRequest)
	l := a.acquire("x", "h", 5000)
	a.do("PUT", "/v1/sessions/x/snapshot", l.Fence, bytes.Repeat([]byte{1}, 65<<10)).want(t, 413, CodeTooLarge)
	a.set("x", l.Fence, map[string]map[string][]byte{"t": {"big": make([]byte, 1001)}}).want(t, 413, CodeTooLarge)
	many := map[string][]byte{}
	for i := range 11 {
		many[string(rune('a'+i))] = []byte{1}
	}
	a.set("x", l.Fence, map[string]map[string][]byte{"t": many}).want(t, 413, CodeTooLarge)
	a.set("x", l.Fence, map[string]map[string][]byte{"t": {strings.Repeat("i", 513): {1}}}).want(t, 400, CodeInvalidRequest)
	a.set("x", l.Fence, map[string]map[string][]byte{"": {"i": {1}}}).want(t, 400, CodeInvalidRequest)
	a.do("POST", "/v1/sessions/x/keys/set", 0, []byte(`{}`)).want(t, 400, CodeInvalidRequest)
	a.do("PUT", "/v1/sessions/x/snapshot", l.Fence, []byte{}).want(t, 400, CodeInvalidRequest)
	// Refused batches left nothing behind.
	if got := a.get("x", "t", "big", "a"); len(got) != 0 {
		t.Fatalf("a refused batch wrote: %q", got)
	}
}

func TestE2ETenantTakesSealedValuesOnly(t *testing.T) {
	s := openService(t)
	_, token := newTenant(t, s, ModeE2E)
	a := serveAPI(t, s, token)
	l := a.acquire("e", "h", 5000)
	sealedValue := append([]byte(SealedPrefix), make([]byte, 12+16+5)...)
	a.set("e", l.Fence, map[string]map[string][]byte{"t": {"i": []byte("plaintext key material, not sealed")}}).want(t, 422, CodePlaintextRefused)
	a.set("e", l.Fence, map[string]map[string][]byte{"t": {"i": sealedValue, "gone": nil}}).want(t, 204, "")
	a.do("PUT", "/v1/sessions/e/creds", l.Fence, []byte(`{"device":{}}`)).want(t, 422, CodePlaintextRefused)
	a.do("PUT", "/v1/sessions/e/snapshot", l.Fence, []byte{0x1f, 0x8b, 8, 0}).want(t, 422, CodePlaintextRefused)
	a.do("PUT", "/v1/sessions/e/snapshot", l.Fence, sealedValue).want(t, 204, "")
}

func TestSchemaUpgradeIsIdempotentAndRefusesNewer(t *testing.T) {
	s := openService(t)
	ctx := context.Background()
	// A database of its own: this test moves the version.
	if _, err := s.pool.Exec(ctx, `CREATE DATABASE upgrade_test`); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, testDSN+" dbname=upgrade_test")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for range 2 {
		if err := Upgrade(ctx, pool); err != nil {
			t.Fatal(err)
		}
	}
	var v int
	if err := pool.QueryRow(ctx, `SELECT version FROM sessiond_version`).Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("version %d, %v", v, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE sessiond_version SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if err := Upgrade(ctx, pool); err == nil || !strings.Contains(err.Error(), "newer than this program") {
		t.Fatalf("a newer database: %v", err)
	}
}
