//go:build js

package idbstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv/idbkv"
)

// An IndexedDB database an earlier layout wrote keeps the object stores of
// that layout's tables: the upgrade reads them through idbkv, which opens
// them although today's table list no longer names them, and empties them.
func TestEarlierLayoutOnIndexedDB(t *testing.T) {
	ctx := context.Background()
	for _, fx := range layoutFixtures {
		t.Run(fx.file, func(t *testing.T) {
			f := loadLayoutFixture(t, fx.file)
			name := fmt.Sprintf("layout-test-%s-%d", fx.file, time.Now().UnixNano())
			defer idbkv.Delete(ctx, name)
			var old []string
			for table := range f.Tables {
				old = append(old, table)
			}
			b, err := idbkv.Open(ctx, idbkv.Options{Name: name, Tables: old})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(ctx, dumpOps(f.Tables)); err != nil {
				t.Fatal(err)
			}
			_ = b.Close()

			b, err = idbkv.Open(ctx, idbkv.Options{Name: name, Tables: idbstore.BackendTables})
			if err != nil {
				t.Fatal(err)
			}
			c, err := idbstore.New(ctx, b, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkFixtureData(t, ctx, c)
			d, err := c.GetFirstDevice(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.Contacts.PutPushName(ctx, d.ID.ToNonAD(), "written after the upgrade"); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			b, err = idbkv.Open(ctx, idbkv.Options{Name: name, Tables: idbstore.BackendTables})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			checkUpgraded(t, ctx, b)
		})
	}
}
