package sessiond

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// The first custom layout's rows become a snapshot's kv tables (the device
// from the creds), the index is left out (Baileys-shaped sessions, which
// convert through sessionconv: web/test/fleet.test.js); a remote session gives its saved snapshot;
// an e2e tenant's sessions cannot be converted. (A real paired session
// converting and logging in natively: web/test/fleet.test.js.)
func TestSessionSnapshot(t *testing.T) {
	s := openService(t)
	ctx := context.Background()
	tenant, _ := newTenant(t, s, ModeNative)
	fence := mustLease(t, s, tenant, "k")
	// As httpKeyStore writes the first custom layout: BufferJSON values.
	if err := s.SetKeys(ctx, tenant, "k", fence, map[string]map[string][]byte{
		"session": {"our\x00their": []byte(`{"type":"Buffer","data":"AQI="}`)},
		indexType: {"session": []byte(`["our\u0000their"]`)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionSnapshot(ctx, tenant, "k"); err == nil || !strings.Contains(err.Error(), "no creds") {
		t.Fatalf("keys without creds: %v", err)
	}
	if err := s.SaveCreds(ctx, tenant, "k", fence, []byte(`{"device":{"our":{"type":"Buffer","data":"AwQ="}}}`)); err != nil {
		t.Fatal(err)
	}
	blob, err := s.SessionSnapshot(ctx, tenant, "k")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Decode(blob, idbstore.DumpTables)
	if err != nil {
		t.Fatal(err)
	}
	if snap.ClientID != "k" || len(snap.Tables["session"]) != 1 || snap.Tables["session"][0].Key != "our\x00their" ||
		!bytes.Equal(snap.Tables[idbstore.DeviceTable][0].Value, []byte{3, 4}) || snap.Tables[indexType] != nil {
		t.Fatalf("snapshot tables: %+v", snap.Tables)
	}

	if err := s.SaveSnapshot(ctx, tenant, "r", mustLease(t, s, tenant, "r"), []byte("saved snapshot")); err != nil {
		t.Fatal(err)
	}
	if b, err := s.SessionSnapshot(ctx, tenant, "r"); err != nil || string(b) != "saved snapshot" {
		t.Fatalf("remote: %q %v", b, err)
	}
	sealedTenant, _ := newTenant(t, s, ModeE2E)
	if _, err := s.SessionSnapshot(ctx, sealedTenant, "r"); err == nil || !strings.Contains(err.Error(), "ciphertext only") {
		t.Fatalf("e2e: %v", err)
	}
}

func mustLease(t *testing.T, s *Service, tenant, session string) int64 {
	t.Helper()
	l, err := s.Acquire(context.Background(), tenant, session, "h", time.Minute, false)
	if err != nil {
		t.Fatal(err)
	}
	return l.Fence
}
