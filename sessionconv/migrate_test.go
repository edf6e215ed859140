//go:build !js

package sessionconv_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
	"github.com/wasmeow/wasmeow/sessionconv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

const (
	alice = "15550100001" // the account whose linked device moves
	bob   = "15550100002" // the peer, on its simulated phone
)

// keepOpen lets the test capture the backend after the container is closed.
type keepOpen struct{ kv.Backend }

func (keepOpen) Close() error { return nil }

// TestSQLiteToPageAndBack moves a linked device, unmodified whatsmeow on
// sqlstore, into idbstore by way of a snapshot (restored as the page's
// importSession restores one), and back into a new sqlite database. At each
// stop the device logs in with no QR and the conversation with a peer goes
// on both ways, with no retry receipt and no decryption failure on either
// side.
func TestSQLiteToPageAndBack(t *testing.T) {
	ctx := context.Background()
	srvLog := newTroubleLog(t, "fakewa")
	srv := startServer(t, srvLog)
	for _, p := range []string{alice, bob} {
		if _, err := srv.CreateAccount(p, "user "+p); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	var logs []*troubleLog
	clientLog := func(name string) *troubleLog {
		l := newTroubleLog(t, name)
		logs = append(logs, l)
		return l
	}

	// 1. whatsmeow on sqlite pairs and talks.
	original := filepath.Join(dir, "whatsmeow.db")
	sqlC := openSQLStore(t, original)
	dev, err := sqlC.GetFirstDevice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := newClient(t, srv, "sqlite", dev, clientLog("sqlite"))
	jid := pair(t, srv, first, alice)
	talk(t, srv, first, bob, "before")
	uploaded, err := dev.PreKeys.UploadedPreKeyCount(ctx)
	if err != nil || uploaded == 0 {
		t.Fatalf("uploaded prekeys: %d, %v", uploaded, err)
	}
	first.cli.Disconnect()
	if err := sqlC.Close(); err != nil {
		t.Fatal(err)
	}

	// 2. The command's conversion: sqlite file -> snapshot.
	blob, got, counts, err := sessionconv.SQLiteToSnapshot(ctx, original, jid, "migrated")
	if err != nil {
		t.Fatal(err)
	}
	if got != jid || counts["sessions"] == 0 || counts["identities"] == 0 || counts["prekeys"] == 0 || counts["app_state_sync_keys"] == 0 {
		t.Fatalf("converted %s with %v", got, counts)
	}
	t.Logf("snapshot of %s: %d bytes, %v", jid, len(blob), counts)
	side := filepath.Join(dir, "side.db")
	if _, _, err := sessionconv.SnapshotToSQLite(ctx, blob, side, jid); err != nil {
		t.Fatal(err)
	}
	sameTables(t, original, side, jid.String(), "") // a real session's records, every one kept

	// 3. The page's importSession: decode and validate, restore into a
	// fresh backend, open idbstore on it, take the first device.
	mem, idbC, idbDev := importAsPage(t, blob, jid)
	if n, err := idbDev.PreKeys.UploadedPreKeyCount(ctx); err != nil || n != uploaded {
		t.Fatalf("imported uploaded prekeys: %d, %v; want %d", n, err, uploaded)
	}
	page := newClient(t, srv, "idbstore", idbDev, clientLog("idbstore"))
	reconnect(t, srv, page)
	talk(t, srv, page, bob, "in the page")
	page.cli.Disconnect()

	// 4. The page's exportSession: flush, capture; then the command's
	// conversion back: snapshot -> new sqlite file.
	if err := idbC.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := snapshot.Capture(ctx, mem, "migrated", idbstore.DumpTables)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := again.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(dir, "back.db")
	if got, _, err = sessionconv.SnapshotToSQLite(ctx, exported, back, jid); err != nil || got != jid {
		t.Fatalf("export to sqlite: %s, %v", got, err)
	}
	sqlC = openSQLStore(t, back)
	defer sqlC.Close()
	backDev, err := sqlC.GetDevice(ctx, jid)
	if err != nil || backDev == nil {
		t.Fatalf("exported device: %v, %v", backDev, err)
	}
	if n, err := backDev.PreKeys.UploadedPreKeyCount(ctx); err != nil || n != uploaded {
		t.Fatalf("exported uploaded prekeys: %d, %v; want %d", n, err, uploaded)
	}
	last := newClient(t, srv, "sqlite again", backDev, clientLog("sqlite again"))
	reconnect(t, srv, last)
	talk(t, srv, last, bob, "back on sqlite")

	// The same one linked device all along, and nothing needed a retry.
	if c := companions(srv, alice); !slices.Equal(c, []string{jid.String()}) {
		t.Fatalf("alice's linked devices: %v, want only %s", c, jid)
	}
	for _, l := range append(logs, srvLog) {
		if tr := l.Trouble(); len(tr) > 0 {
			t.Errorf("retry receipts or decryption failures:\n%v", tr)
		}
	}
}

// importAsPage restores a snapshot as the page's importSession does
// (decode and validate, restore into a fresh backend, open idbstore on it)
// and returns the backend, the container and its device, which must be jid.
func importAsPage(t *testing.T, blob []byte, jid types.JID) (*memkv.Backend, *idbstore.Container, *store.Device) {
	t.Helper()
	ctx := context.Background()
	snap, err := snapshot.DecodeSession(blob)
	if err != nil {
		t.Fatal(err)
	}
	mem := memkv.New()
	if err := snap.Restore(ctx, mem); err != nil {
		t.Fatal(err)
	}
	idbC, err := idbstore.New(ctx, keepOpen{mem}, nil)
	if err != nil {
		t.Fatal(err)
	}
	idbDev, err := idbC.GetFirstDevice(ctx)
	if err != nil || idbDev.ID == nil || *idbDev.ID != jid {
		t.Fatalf("imported device %v, %v; want %s", idbDev.ID, err, jid)
	}
	return mem, idbC, idbDev
}
