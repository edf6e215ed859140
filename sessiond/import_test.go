package sessiond

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// An import lands as the session's saved snapshot (the remote strategy's
// extract returns it) under the importer's lease; it never replaces a
// session that holds anything, never writes without the current fence,
// and an e2e tenant cannot import at all.
func TestImportSnapshot(t *testing.T) {
	s := openService(t)
	ctx := context.Background()
	tenant, _ := newTenant(t, s, ModeNative)

	if err := s.ImportSnapshot(ctx, tenant, "never-leased", 1, []byte("x")); err == nil || !strings.Contains(err.Error(), "never been leased") {
		t.Fatalf("without a lease: %v", err)
	}
	fence := mustLease(t, s, tenant, "n")
	if err := s.ImportSnapshot(ctx, tenant, "n", fence+1, []byte("x")); err == nil || !strings.Contains(err.Error(), "lease") {
		t.Fatalf("a stale fence: %v", err)
	}
	if err := s.ImportSnapshot(ctx, tenant, "n", fence, []byte("native device")); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Snapshot(ctx, tenant, "n"); err != nil || string(b) != "native device" {
		t.Fatalf("the imported snapshot: %q %v", b, err)
	}
	if err := s.ImportSnapshot(ctx, tenant, "n", fence, []byte("another")); !errors.Is(err, ErrSessionExists) {
		t.Fatalf("over a snapshot: %v", err)
	}

	// A key store session (creds only, or keys only) is not replaced either.
	kf := mustLease(t, s, tenant, "k")
	if err := s.SaveCreds(ctx, tenant, "k", kf, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.ImportSnapshot(ctx, tenant, "k", kf, []byte("x")); !errors.Is(err, ErrSessionExists) {
		t.Fatalf("over creds: %v", err)
	}
	vf := mustLease(t, s, tenant, "v")
	if err := s.SetKeys(ctx, tenant, "v", vf, map[string]map[string][]byte{"session": {"a": []byte(`1`)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ImportSnapshot(ctx, tenant, "v", vf, []byte("x")); !errors.Is(err, ErrSessionExists) {
		t.Fatalf("over keys: %v", err)
	}
	if b, err := s.Snapshot(ctx, tenant, "v"); err == nil {
		t.Fatalf("a refused import left a snapshot: %q", b)
	}

	sealed, _ := newTenant(t, s, ModeE2E)
	if err := s.ImportSnapshot(ctx, sealed, "e", mustLease(t, s, sealed, "e"), []byte("x")); err == nil || !strings.Contains(err.Error(), "end-to-end") {
		t.Fatalf("e2e tenant: %v", err)
	}
}
