package snapshot_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// A snapshot taken by an earlier idbstore layout (a remote store's copy, an
// exported backup) imports the way wasm's decodeSnapshot and Restore do it,
// and the session opened on it finds its contacts: the same upgrade runs,
// even where the backend already holds today's layout record (a database
// opened before, never paired).
func TestSnapshotOfEarlierLayoutImports(t *testing.T) {
	ctx := context.Background()
	for _, file := range []string{"before-ff5192e.json", "before-dba4452.json", "before-layout-version.json"} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "idbstore", "testdata", "layouts", file))
			if err != nil {
				t.Fatal(err)
			}
			var f struct{ Tables map[string][]kv.Pair }
			if err := json.Unmarshal(raw, &f); err != nil {
				t.Fatal(err)
			}
			old := &snapshot.Snapshot{ClientID: "old", Tables: f.Tables}
			blob, err := old.Encode()
			if err != nil {
				t.Fatal(err)
			}

			snap, err := snapshot.Decode(blob, idbstore.DumpTables)
			if err != nil {
				t.Fatal(err)
			}
			if !idbstore.DumpHasDevice(snap.Tables) {
				t.Fatal("no device in the snapshot")
			}
			if err := snap.Validate(idbstore.ValidateRecord); err != nil {
				t.Fatal(err)
			}
			idbstore.PrepareRestore(snap.Tables)

			// A database opened (and stamped with today's layout) before.
			b := memkv.New()
			if err := b.Commit(ctx, []kv.Op{{Table: "layout", Key: "version", Value: []byte{1, byte(idbstore.LayoutVersion)}}}); err != nil {
				t.Fatal(err)
			}
			if err := snap.Restore(ctx, b); err != nil {
				t.Fatal(err)
			}
			c, err := idbstore.New(ctx, keepOpen{b}, nil)
			if err != nil {
				t.Fatal(err)
			}
			dev, err := c.GetFirstDevice(ctx)
			if err != nil || dev == nil {
				t.Fatalf("GetFirstDevice: %v %v", dev, err)
			}
			all, err := dev.Contacts.GetAllContacts(ctx)
			if err != nil || len(all) != 40 {
				t.Fatalf("GetAllContacts: %d contacts, %v; want 40", len(all), err)
			}
			if n, err := dev.PreKeys.UploadedPreKeyCount(ctx); err != nil || n != 20 {
				t.Fatalf("UploadedPreKeyCount = %d, %v; want 20", n, err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if ps, _ := b.Scan(ctx, "contact", ""); len(ps) != 0 {
				t.Fatalf("the old contact table still holds %d records", len(ps))
			}

			// A new capture holds today's layout only, and says so.
			again, err := snapshot.Capture(ctx, b, "new", idbstore.DumpTables)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Tables["contact"]) != 0 || len(again.Tables["layout"]) != 1 {
				t.Fatalf("capture after the upgrade: %d old contact records, %d layout records", len(again.Tables["contact"]), len(again.Tables["layout"]))
			}
		})
	}
}

type keepOpen struct{ kv.Backend }

func (keepOpen) Close() error { return nil }
