package sessionconv_test

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // whatsmeow's sqlstore on PostgreSQL, as its users open it
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/sessionconv"
	"github.com/wasmeow/wasmeow/sessiond/pgtest"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// TestThroughPostgreSQLAndBack moves a device through whatsmeow's sqlstore
// on a real PostgreSQL both ways, the path of wasmeow-sessiond's export and
// import: sqlite -> snapshot -> sqlstore on PostgreSQL -> snapshot read in
// place (SQLStoreToSnapshot) -> a new sqlite, compared row by row with the
// original. Then DeleteSQLStoreDevice removes the device and only it.
func TestThroughPostgreSQLAndBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgtest.Start(ctx)
	if err != nil {
		t.Fatalf("throwaway PostgreSQL: %v", err)
	}
	defer pg.Stop()
	pdb, err := sql.Open("pgx", pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()

	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	c := openSQLStore(t, orig)
	r := rand.New(rand.NewPCG(5, 6))
	dev := fillDevice(t, c, r, "15550100001", 7, true)
	other := fillDevice(t, c, r, "15550100009", 3, false)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []types.JID{*dev.ID, *other.ID} {
		blob, _, _, err := sessionconv.SQLiteToSnapshot(ctx, orig, d, "pg")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := sessionconv.SnapshotToSQLStore(ctx, blob, pdb, "postgres", types.EmptyJID); err != nil {
			t.Fatal(err)
		}
	}

	// Read in place from sqlite too: the same records as SQLiteToSnapshot's private copy.
	viaCopy, _, _, err := sessionconv.SQLiteToSnapshot(ctx, orig, *dev.ID, "same")
	if err != nil {
		t.Fatal(err)
	}
	inPlace, _, _, err := sessionconv.SQLStoreToSnapshot(ctx, openRaw(t, orig), "sqlite3", *dev.ID, "same")
	if err != nil {
		t.Fatal(err)
	}
	a, errA := snapshot.DecodeSession(viaCopy)
	b, errB := snapshot.DecodeSession(inPlace)
	if errA != nil || errB != nil || !reflect.DeepEqual(a.Tables, b.Tables) {
		t.Fatalf("sqlite read in place differs from its copy (%v, %v)", errA, errB)
	}

	// Two devices on the server: the one to read must be named.
	if _, _, _, err := sessionconv.SQLStoreToSnapshot(ctx, pdb, "postgres", types.EmptyJID, "x"); !errors.Is(err, sessionconv.ErrNoDevice) {
		t.Fatalf("two devices, no JID: %v", err)
	}
	blob, jid, counts, err := sessionconv.SQLStoreToSnapshot(ctx, pdb, "postgres", *dev.ID, "back")
	if err != nil || jid != *dev.ID {
		t.Fatalf("read back: %s %v", jid, err)
	}
	for what, n := range counts {
		if n == 0 {
			t.Errorf("no %s read back from PostgreSQL", what)
		}
	}
	out := filepath.Join(dir, "out.db")
	if _, _, err := sessionconv.SnapshotToSQLite(ctx, blob, out, types.EmptyJID); err != nil {
		t.Fatal(err)
	}
	if empty := sameTables(t, orig, out, dev.ID.String(), other.ID.String()); len(empty) > 0 {
		t.Errorf("the fixture left %v empty", empty)
	}

	rowsOf := func(who string) map[string]int {
		out := map[string]int{}
		for table, col := range sqlstoreTables {
			if col == "" {
				continue
			}
			var n int
			if err := pdb.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE "+col+" = $1", who).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[table] = n
		}
		return out
	}
	otherBefore := rowsOf(other.ID.String())
	if err := sessionconv.DeleteSQLStoreDevice(ctx, pdb, "postgres", *dev.ID); err != nil {
		t.Fatal(err)
	}
	for table, n := range rowsOf(dev.ID.String()) {
		if n != 0 {
			t.Errorf("%s still holds %d rows of the deleted device", table, n)
		}
	}
	if got := rowsOf(other.ID.String()); !maps.Equal(got, otherBefore) || got["whatsmeow_device"] != 1 {
		t.Errorf("the other device's rows changed: %v, was %v", got, otherBefore)
	}
	if err := sessionconv.DeleteSQLStoreDevice(ctx, pdb, "postgres", *dev.ID); !errors.Is(err, sessionconv.ErrNoDevice) {
		t.Fatalf("deleting it again: %v", err)
	}
}
