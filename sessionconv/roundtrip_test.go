//go:build !js

package sessionconv_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/sessionconv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// sqlstoreTables maps every table of sqlstore's schema to the column naming
// the device its rows belong to ("" for the container-wide LID map). A table
// a later whatsmeow adds fails TestRoundTripKeepsEveryTable until it is
// listed here and converted.
var sqlstoreTables = map[string]string{
	"whatsmeow_device":                  "jid",
	"whatsmeow_identity_keys":           "our_jid",
	"whatsmeow_pre_keys":                "jid",
	"whatsmeow_sessions":                "our_jid",
	"whatsmeow_sender_keys":             "our_jid",
	"whatsmeow_app_state_sync_keys":     "jid",
	"whatsmeow_app_state_version":       "jid",
	"whatsmeow_app_state_mutation_macs": "jid",
	"whatsmeow_contacts":                "our_jid",
	"whatsmeow_chat_settings":           "our_jid",
	"whatsmeow_message_secrets":         "our_jid",
	"whatsmeow_privacy_tokens":          "our_jid",
	"whatsmeow_event_buffer":            "our_jid",
	"whatsmeow_lid_map":                 "",
}

// TestRoundTripKeepsEveryTable fills every sqlstore table for two devices
// through whatsmeow's own store methods, converts one device to a snapshot
// and back (sqlstore -> snapshot -> idbstore -> sqlstore), and compares
// every table of the new database with the original, row by row.
func TestRoundTripKeepsEveryTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	c := openSQLStore(t, orig)
	r := rand.New(rand.NewPCG(1, 2))
	dev := fillDevice(t, c, r, "15550100001", 7, true)
	other := fillDevice(t, c, r, "15550100009", 3, false)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// Two devices: the one to convert must be named.
	if _, _, _, err := sessionconv.SQLiteToSnapshot(ctx, orig, types.EmptyJID, "x"); !errors.Is(err, sessionconv.ErrNoDevice) {
		t.Fatalf("two devices, no JID: %v", err)
	}
	blob, jid, counts, err := sessionconv.SQLiteToSnapshot(ctx, orig, *dev.ID, "rt")
	if err != nil || jid != *dev.ID {
		t.Fatalf("to snapshot: %s %v", jid, err)
	}
	for what, n := range counts {
		if n == 0 {
			t.Errorf("no %s converted: the fixture must fill every table", what)
		}
	}
	// Every wasmeow table got records: one idbstore adds is caught here.
	// (prekey_uploaded stays empty: imported prekeys carry their own flags.)
	snap, err := snapshot.DecodeSession(blob)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range idbstore.Tables {
		if len(snap.Tables[table]) == 0 && table != "prekey_uploaded" {
			t.Errorf("the snapshot has no %s records: is the table converted?", table)
		}
	}
	out := filepath.Join(dir, "out.db")
	if _, _, err := sessionconv.SnapshotToSQLite(ctx, blob, out, types.EmptyJID); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("output %v, %v: want mode 0600 (it holds keys)", st, err)
	}

	if empty := sameTables(t, orig, out, dev.ID.String(), other.ID.String()); len(empty) > 0 {
		t.Errorf("the fixture left %v empty", empty)
	}

	// An existing output is never replaced.
	if _, _, err := sessionconv.SnapshotToSQLite(ctx, blob, out, types.EmptyJID); !errors.Is(err, sessionconv.ErrExists) {
		t.Fatalf("existing output: %v", err)
	}
}

// sameTables compares every table of the sqlstore databases at orig and out
// for device our, and fails on rows of other in out. It returns the tables
// without rows of our.
func sameTables(t *testing.T, orig, out, our, other string) (empty []string) {
	t.Helper()
	a, b := openRaw(t, orig), openRaw(t, out)
	if got, want := schemaTables(t, a), schemaTables(t, b); !slices.Equal(got, want) {
		t.Fatalf("tables differ: %v, %v", got, want)
	}
	for _, table := range schemaTables(t, a) {
		if table == "whatsmeow_version" {
			continue
		}
		col, ok := sqlstoreTables[table]
		if !ok {
			t.Errorf("sqlstore table %s is not converted", table)
			continue
		}
		want, got := dumpTable(t, a, table, col, our), dumpTable(t, b, table, col, our)
		if len(want) == 0 {
			empty = append(empty, table)
		}
		if !slices.Equal(want, got) {
			t.Errorf("%s differs after the round trip:\n original:  %q\n converted: %q", table, want, got)
		}
		if col != "" && other != "" {
			if leaked := dumpTable(t, b, table, col, other); len(leaked) > 0 {
				t.Errorf("%s: %d rows of the other device were converted", table, len(leaked))
			}
		}
	}
	return empty
}

func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func schemaTables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'whatsmeow%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// dumpTable renders the device's rows of table, sorted. Contacts' name
// columns read NULL as ”: sqlstore leaves a column it never set NULL, and
// idbstore (like GetContact) does not tell the two apart.
func dumpTable(t *testing.T, db *sql.DB, table, col, our string) []string {
	t.Helper()
	q, args := "SELECT * FROM "+table, []any{}
	if col != "" {
		q, args = q+" WHERE "+col+"=?", []any{our}
	}
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				parts[i] = "NULL"
				if table == "whatsmeow_contacts" {
					parts[i] = ""
				}
			case []byte:
				parts[i] = "x" + hex.EncodeToString(v)
			default:
				parts[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	slices.Sort(out)
	return out
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// fillDevice stores a paired device and, when full, rows in every table,
// all through sqlstore's own methods.
func fillDevice(t *testing.T, c *sqlstore.Container, r *rand.Rand, user string, devID uint16, full bool) *store.Device {
	t.Helper()
	ctx := context.Background()
	d := c.NewDevice()
	jid := types.NewADJID(user, 0, uint8(devID))
	d.ID = &jid
	d.LID = types.JID{User: fmt.Sprint(100000000000000 + r.IntN(1e9)), Device: devID, Server: types.HiddenUserServer}
	d.Account = &waAdv.ADVSignedDeviceIdentity{Details: randBytes(r, 40), AccountSignature: randBytes(r, 64), AccountSignatureKey: randBytes(r, 32), DeviceSignature: randBytes(r, 64)}
	d.Platform, d.BusinessName, d.PushName = "CHROME", "Biz "+user, "Push "+user
	d.FacebookUUID = uuid.New()
	d.LIDMigrationTimestamp = 1767000000
	if err := c.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	peer := func(i int) types.JID { return types.NewJID(fmt.Sprint(15550200000+i), types.DefaultUserServer) }
	peerLID := func(i int) types.JID { return types.NewJID(fmt.Sprint(200000000000000+i), types.HiddenUserServer) }
	for i := range 4 {
		must(d.Identities.PutIdentity(ctx, fmt.Sprintf("%s:%d", peer(i).User, i), [32]byte(randBytes(r, 32))))
		must(d.Sessions.PutSession(ctx, fmt.Sprintf("%s_1:%d", peerLID(i).User, i), randBytes(r, 100+i)))
	}
	if !full {
		return d
	}
	must(d.Sessions.PutSession(ctx, "15550200099:0", nil)) // a NULL session column
	_, err := d.PreKeys.GetOrGenPreKeys(ctx, 20)
	must(err)
	must(d.PreKeys.MarkPreKeysAsUploaded(ctx, 10))
	_, err = d.PreKeys.GenOnePreKey(ctx)
	must(err)
	must(d.PreKeys.RemovePreKey(ctx, 3))
	group := types.NewJID("120363000000000001", types.GroupServer)
	for i := range 3 {
		must(d.SenderKeys.PutSenderKey(ctx, group.String(), fmt.Sprintf("%s_1:%d", peerLID(i).User, i), randBytes(r, 70)))
		must(d.AppStateKeys.PutAppStateSyncKey(ctx, randBytes(r, 6), store.AppStateSyncKey{Data: randBytes(r, 32), Fingerprint: randBytes(r, 20), Timestamp: int64(1767000000 + i)}))
	}
	for i, name := range []string{"regular", "critical_block", "regular_high"} {
		must(d.AppState.PutAppStateVersion(ctx, name, uint64(5+i), [128]byte(randBytes(r, 128))))
		for v := range 2 {
			var macs []store.AppStateMutationMAC
			for range 2 + v {
				macs = append(macs, store.AppStateMutationMAC{IndexMAC: randBytes(r, 32), ValueMAC: randBytes(r, 32)})
			}
			must(d.AppState.PutAppStateMutationMACs(ctx, name, uint64(v+1), macs))
		}
	}
	must(d.Contacts.PutContactName(ctx, peer(0), "Ann", "Ann Example"))
	_, _, err = d.Contacts.PutPushName(ctx, peer(0), "annie")
	must(err)
	_, _, err = d.Contacts.PutPushName(ctx, peer(1), "only a push name")
	must(err)
	_, _, err = d.Contacts.PutBusinessName(ctx, peer(2), "Shop")
	must(err)
	must(d.Contacts.PutManyRedactedPhones(ctx, []store.RedactedPhoneEntry{{JID: peerLID(3), RedactedPhone: "+1 555-•••-0003"}}))
	must(d.Contacts.PutAllContactNames(ctx, []store.ContactEntry{{JID: peer(4), FirstName: "Ben", FullName: "Ben Ünïcode 🙂"}, {JID: peerLID(5), FullName: "Lid Only"}}))
	must(d.ChatSettings.PutMutedUntil(ctx, peer(0), store.MutedForever))
	must(d.ChatSettings.PutMutedUntil(ctx, peer(1), time.Unix(1999999999, 0)))
	must(d.ChatSettings.PutPinned(ctx, group, true))
	must(d.ChatSettings.PutArchived(ctx, peer(2), true))
	must(d.ChatSettings.PutPinned(ctx, peer(3), false)) // a row of defaults
	must(d.MsgSecrets.PutMessageSecrets(ctx, []store.MessageSecretInsert{
		{Chat: group, Sender: peerLID(1), ID: "3EB0AAAA", Secret: randBytes(r, 32)},
		{Chat: peer(0), Sender: peer(0), ID: "3EB0BBBB", Secret: randBytes(r, 32)},
	}))
	must(d.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: peer(0), Token: randBytes(r, 24), Timestamp: time.Unix(1767000100, 0)},
		store.PrivacyToken{User: peerLID(1), Token: randBytes(r, 24), Timestamp: time.Unix(1767000200, 0)}))
	h1, h2 := [32]byte(randBytes(r, 32)), [32]byte(randBytes(r, 32))
	must(d.EventBuffer.PutBufferedEvent(ctx, h1, randBytes(r, 50), time.Unix(1767000300, 0)))
	must(d.EventBuffer.PutBufferedEvent(ctx, h2, randBytes(r, 50), time.Unix(1767000400, 0)))
	must(d.EventBuffer.ClearBufferedEventPlaintext(ctx, h2)) // a handled event: NULL plaintext
	must(d.LIDs.PutManyLIDMappings(ctx, []store.LIDMapping{{LID: peerLID(0), PN: peer(0)}, {LID: peerLID(1), PN: peer(1)}}))
	return d
}

// TestSQLiteSourceIsOnlyRead converts a database a client still holds open
// in WAL mode: the writes still in the WAL are in the snapshot, and the
// database and its WAL are left exactly as they were (the -shm index is
// not data: every SQLite reader updates its read marks).
func TestSQLiteSourceIsOnlyRead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "open.db")
	c := openSQLStore(t, path) // WAL mode, as a running client has it
	defer c.Close()
	dev := fillDevice(t, c, rand.New(rand.NewPCG(3, 4)), "15550100001", 2, false)
	if err := dev.Sessions.PutSession(ctx, "15550200077:0", []byte("written last")); err != nil {
		t.Fatal(err)
	}
	files := func() map[string]string {
		out := map[string]string{}
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err == nil {
				out[f] = hex.EncodeToString(b)
			}
		}
		return out
	}
	before := files()
	if len(before[path+"-wal"]) == 0 {
		t.Fatal("the fixture has no WAL content to check")
	}
	blob, _, _, err := sessionconv.SQLiteToSnapshot(ctx, path, types.EmptyJID, "open")
	if err != nil {
		t.Fatal(err)
	}
	after := files()
	for f, b := range before {
		if after[f] != b {
			t.Errorf("%s changed", f)
		}
	}
	idb, err := sessionconv.OpenSnapshot(ctx, blob)
	if err != nil {
		t.Fatal(err)
	}
	defer idb.Close()
	got, err := idb.GetFirstDevice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := got.Sessions.GetSession(ctx, "15550200077:0"); err != nil || string(s) != "written last" {
		t.Fatalf("the last write: %q, %v", s, err)
	}
}
