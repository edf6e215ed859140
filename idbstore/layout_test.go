package idbstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// layoutFixture is a dump written by testdata/layouts/gen at the commit it
// names: a known data set stored through that commit's idbstore.
type layoutFixture struct {
	Commit string               `json:"commit"`
	Note   string               `json:"note"`
	Tables map[string][]kv.Pair `json:"tables"`
}

// layoutFixtures are the databases of every earlier layout, by file, with
// the table that shows the fixture is of that layout, and the commits New
// makes on it (an upgrade that has nothing to change writes nothing: the
// layout record goes with the first write).
var layoutFixtures = []struct {
	file, marker, absent string
	upgradeCommits       int32
}{
	{"before-ff5192e.json", "contact", "contact_bucket", 1},
	{"before-dba4452.json", "contact_bucket", "prekey_uploaded", 0},
	{"before-layout-version.json", "prekey_uploaded", "layout", 0},
}

func loadLayoutFixture(t *testing.T, file string) layoutFixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "layouts", file))
	if err != nil {
		t.Fatal(err)
	}
	var f layoutFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func dumpOps(dump map[string][]kv.Pair) []kv.Op {
	var ops []kv.Op
	for table, ps := range dump {
		for _, p := range ps {
			ops = append(ops, kv.Op{Table: table, Key: p.Key, Value: p.Value})
		}
	}
	return ops
}

// countingBackend counts commits.
type countingBackend struct {
	kv.Backend
	commits atomic.Int32
}

func (c *countingBackend) Commit(ctx context.Context, ops []kv.Op) error {
	c.commits.Add(1)
	return c.Backend.Commit(ctx, ops)
}

func (*countingBackend) Close() error { return nil }

func TestOpenEveryEarlierLayout(t *testing.T) {
	ctx := context.Background()
	for _, fx := range layoutFixtures {
		t.Run(fx.file, func(t *testing.T) {
			f := loadLayoutFixture(t, fx.file)
			if len(f.Tables[fx.marker]) == 0 || len(f.Tables[fx.absent]) > 0 {
				t.Fatalf("fixture of %s: want records in %s and none in %s, has %d and %d", f.Commit, fx.marker, fx.absent, len(f.Tables[fx.marker]), len(f.Tables[fx.absent]))
			}
			mem := memkv.New()
			if err := mem.Commit(ctx, dumpOps(f.Tables)); err != nil {
				t.Fatal(err)
			}
			b := &countingBackend{Backend: mem}
			c, err := idbstore.New(ctx, b, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := b.commits.Load(); n != fx.upgradeCommits {
				t.Fatalf("New made %d commits, want %d", n, fx.upgradeCommits)
			}
			checkFixtureData(t, ctx, c)
			// A write: the layout record goes with it if the upgrade
			// wrote nothing.
			d, err := c.GetFirstDevice(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.ChatSettings.PutPinned(ctx, types.JID{User: "15557777777", Server: types.DefaultUserServer}, true); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			checkUpgraded(t, ctx, mem)

			// The upgrade is done: opening again writes nothing and finds
			// the same data.
			b.commits.Store(0)
			c, err = idbstore.New(ctx, b, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := b.commits.Load(); n != 0 {
				t.Fatalf("reopening an upgraded store made %d commits", n)
			}
			checkFixtureData(t, ctx, c)
			_ = c.Close()
		})
	}
}

// checkUpgraded checks that b is at today's layout and no table of an
// earlier one holds anything.
func checkUpgraded(t *testing.T, ctx context.Context, b kv.Backend) {
	t.Helper()
	for _, table := range idbstore.DumpTables {
		ps, err := b.Scan(ctx, table, "")
		if err != nil {
			t.Fatal(err)
		}
		known := false
		for _, tt := range idbstore.BackendTables {
			known = known || tt == table
		}
		if !known && len(ps) > 0 {
			t.Errorf("table %s of an earlier layout still holds %d records", table, len(ps))
		}
		if table == "layout" {
			want := []byte{1, byte(idbstore.LayoutVersion)}
			if len(ps) != 1 || ps[0].Key != "version" || !bytes.Equal(ps[0].Value, want) {
				t.Errorf("layout table holds %v, want version %d", ps, idbstore.LayoutVersion)
			}
		}
	}
}

func fill(n int, b byte) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b + byte(i)
	}
	return out
}

// checkFixtureData finds every record gen wrote (testdata/layouts/gen).
func checkFixtureData(t *testing.T, ctx context.Context, c *idbstore.Container) {
	t.Helper()
	d, err := c.GetFirstDevice(ctx)
	if err != nil || d == nil {
		t.Fatalf("GetFirstDevice: %v, %v", d, err)
	}
	if d.ID.String() != "15550009999:7@s.whatsapp.net" || d.LID.String() != "999000999:7@lid" || d.PushName != "Fixture" || d.Platform != "web" ||
		!bytes.Equal(d.Account.AccountSignature, fill(64, 2)) {
		t.Fatalf("device: %s", deviceString(d))
	}
	all, err := d.Contacts.GetAllContacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 40 {
		t.Errorf("GetAllContacts: %d contacts, want 40", len(all))
	}
	for i := 0; i < 40; i++ {
		u := types.JID{User: fmt.Sprintf("1555100%04d", i), Server: types.DefaultUserServer}
		// gen calls PutContactName(u, "Full i", "First i"); like sqlstore,
		// idbstore takes the first name first (the interface's parameter
		// names say otherwise).
		want := types.ContactInfo{Found: true, FirstName: fmt.Sprintf("Full %d", i), FullName: fmt.Sprintf("First %d", i)}
		if i%2 == 0 {
			want.PushName = fmt.Sprintf("Push %d", i)
		}
		if i%5 == 0 {
			want.BusinessName = fmt.Sprintf("Biz %d", i)
		}
		if i%7 == 0 {
			want.RedactedPhone = fmt.Sprintf("+1 555 ***-%02d", i)
		}
		if got := all[u]; got != want {
			t.Errorf("GetAllContacts[%s] = %+v, want %+v", u, got, want)
		}
		if got, err := d.Contacts.GetContact(ctx, u); err != nil || got != want {
			t.Errorf("GetContact(%s) = %+v, %v; want %+v", u, got, err, want)
		}
	}

	if n, err := d.PreKeys.UploadedPreKeyCount(ctx); err != nil || n != 20 {
		t.Errorf("UploadedPreKeyCount = %d, %v; want 20 (1-20 but 3, and 31)", n, err)
	}
	for id := uint32(1); id <= 32; id++ {
		pk, err := d.PreKeys.GetPreKey(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if (id == 3 || id == 32) != (pk == nil) {
			t.Errorf("GetPreKey(%d) = %v", id, pk)
			continue
		}
		if pk != nil && *keys.NewKeyPairFromPrivateKey(*pk.Priv).Pub != *pk.Pub {
			t.Errorf("prekey %d: public key does not match its private key", id)
		}
	}

	for i := 0; i < 5; i++ {
		addr := fmt.Sprintf("1555200%04d:0", i)
		if s, err := d.Sessions.GetSession(ctx, addr); err != nil || string(s) != fmt.Sprintf("session %d", i) {
			t.Errorf("GetSession(%s) = %q, %v", addr, s, err)
		}
		if ok, err := d.Identities.IsTrustedIdentity(ctx, addr, [32]byte(fill(32, byte(i*32)))); err != nil || !ok {
			t.Errorf("IsTrustedIdentity(%s, its key) = %v, %v", addr, ok, err)
		}
		if ok, err := d.Identities.IsTrustedIdentity(ctx, addr, [32]byte(fill(32, 200))); err != nil || ok {
			t.Errorf("IsTrustedIdentity(%s, another key) = %v, %v: the identity was not found", addr, ok, err)
		}
		if s, err := d.SenderKeys.GetSenderKey(ctx, "120363000000000001@g.us", addr); err != nil || string(s) != fmt.Sprintf("sender key %d", i) {
			t.Errorf("GetSenderKey(%s) = %q, %v", addr, s, err)
		}
	}
	for i := 0; i < 3; i++ {
		k, err := d.AppStateKeys.GetAppStateSyncKey(ctx, []byte{0, 0, 1, byte(i)})
		if err != nil || k == nil || !bytes.Equal(k.Data, fill(32, byte(i))) || k.Timestamp != int64(1700000000+i) {
			t.Errorf("GetAppStateSyncKey(%d) = %+v, %v", i, k, err)
		}
	}
	if v, h, err := d.AppState.GetAppStateVersion(ctx, "regular"); err != nil || v != 5 || h != [128]byte(fill(128, 9)) {
		t.Errorf("GetAppStateVersion = %d, %x, %v", v, h[:4], err)
	}
	if m, err := d.AppState.GetAppStateMutationMAC(ctx, "regular", fill(32, 12)); err != nil || !bytes.Equal(m, fill(32, 13)) {
		t.Errorf("GetAppStateMutationMAC = %x, %v", m, err)
	}
	chat := types.JID{User: "15551000001", Server: types.DefaultUserServer}
	if cs, err := d.ChatSettings.GetChatSettings(ctx, chat); err != nil || !cs.Found || !cs.Pinned || !cs.Archived || !cs.MutedUntil.Equal(time.Unix(2000000000, 0)) {
		t.Errorf("GetChatSettings = %+v, %v", cs, err)
	}
	if s, _, err := d.MsgSecrets.GetMessageSecret(ctx, chat, chat, "3EB0FIXTURE"); err != nil || !bytes.Equal(s, fill(32, 20)) {
		t.Errorf("GetMessageSecret = %x, %v", s, err)
	}
	if tok, err := d.PrivacyTokens.GetPrivacyToken(ctx, chat); err != nil || tok == nil || !bytes.Equal(tok.Token, fill(16, 30)) || !tok.Timestamp.Equal(time.Unix(1700000100, 0)) {
		t.Errorf("GetPrivacyToken = %+v, %v", tok, err)
	}
	lid := types.JID{User: "999000111", Server: types.HiddenUserServer}
	if pn, err := d.LIDs.GetPNForLID(ctx, lid); err != nil || pn != chat {
		t.Errorf("GetPNForLID = %v, %v", pn, err)
	}
	if l, err := d.LIDs.GetLIDForPN(ctx, chat); err != nil || l != lid {
		t.Errorf("GetLIDForPN = %v, %v", l, err)
	}
	if ev, err := d.EventBuffer.GetBufferedEvent(ctx, [32]byte(fill(32, 40))); err != nil || ev == nil || string(ev.Plaintext) != "buffered plaintext" {
		t.Errorf("GetBufferedEvent = %+v, %v", ev, err)
	}
	// Unuploaded keys are handed out, not regenerated: 21-30.
	pks, err := d.PreKeys.GetOrGenPreKeys(ctx, 10)
	if err != nil || len(pks) != 10 || pks[0].KeyID != 21 || pks[9].KeyID != 30 {
		t.Errorf("GetOrGenPreKeys(10) = %d keys from %v, %v; want 21-30", len(pks), pks, err)
	}
}

// A contact that a build after the bucket change wrote while the old
// per-contact record was stranded keeps its newer names; the old record
// fills only the names it lacks.
func TestLayoutUpgradeMergesStrandedContacts(t *testing.T) {
	ctx := context.Background()
	f := loadLayoutFixture(t, "before-ff5192e.json")
	mem := memkv.New()
	if err := mem.Commit(ctx, dumpOps(f.Tables)); err != nil {
		t.Fatal(err)
	}
	// Stand-in for today's code before layout versions: it wrote the bucket
	// and never saw the old record. Write a push name through today's
	// store, then put the layout back to version 0.
	c, err := idbstore.New(ctx, &countingBackend{Backend: mem}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	old := loadLayoutFixture(t, "before-ff5192e.json")
	u := types.JID{User: "15551000002", Server: types.DefaultUserServer}
	c, err = idbstore.New(ctx, &countingBackend{Backend: mem}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.GetFirstDevice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Contacts.PutPushName(ctx, u, "Newer push"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	var legacy []kv.Op
	for _, p := range old.Tables["contact"] {
		legacy = append(legacy, kv.Op{Table: "contact", Key: p.Key, Value: p.Value})
	}
	legacy = append(legacy, kv.Op{Table: "layout", Key: "version", Delete: true})
	if err := mem.Commit(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	c, err = idbstore.New(ctx, &countingBackend{Backend: mem}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err = c.GetFirstDevice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Contacts.GetContact(ctx, u)
	want := types.ContactInfo{Found: true, FirstName: "Full 2", FullName: "First 2", PushName: "Newer push"}
	if err != nil || got != want {
		t.Fatalf("GetContact = %+v, %v; want %+v", got, err, want)
	}
	checkUpgraded(t, ctx, mem)
}

func TestLayoutNewerThanBuildRefused(t *testing.T) {
	ctx := context.Background()
	mem := memkv.New()
	if err := mem.Commit(ctx, []kv.Op{{Table: "layout", Key: "version", Value: []byte{1, byte(idbstore.LayoutVersion + 1)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := idbstore.New(ctx, &countingBackend{Backend: mem}, nil); !errors.Is(err, idbstore.ErrNewerLayout) {
		t.Fatalf("New on a newer layout: %v, want ErrNewerLayout", err)
	}
	if err := mem.Commit(ctx, []kv.Op{{Table: "layout", Key: "version", Value: []byte{1}}}); err != nil {
		t.Fatal(err)
	}
	var ce *idbstore.CorruptError
	if _, err := idbstore.New(ctx, &countingBackend{Backend: mem}, nil); !errors.As(err, &ce) || ce.Table != "layout" {
		t.Fatalf("New on a truncated layout record: %v, want a CorruptError naming table layout", err)
	}
}

// A failed upgrade commit leaves the store as it was: the next open runs
// the step again.
func TestLayoutUpgradeAtomic(t *testing.T) {
	ctx := context.Background()
	f := loadLayoutFixture(t, "before-ff5192e.json")
	mem := memkv.New()
	if err := mem.Commit(ctx, dumpOps(f.Tables)); err != nil {
		t.Fatal(err)
	}
	if _, err := idbstore.New(ctx, failingCommits{mem}, nil); err == nil {
		t.Fatal("New succeeded although its upgrade could not commit")
	}
	if ps, _ := mem.Scan(ctx, "contact", ""); len(ps) != 40 {
		t.Fatalf("after a failed upgrade the old table holds %d records, want 40", len(ps))
	}
	c, err := idbstore.New(ctx, &countingBackend{Backend: mem}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFixtureData(t, ctx, c)
	_ = c.Close()
	checkUpgraded(t, ctx, mem)
}

type failingCommits struct{ kv.Backend }

func (failingCommits) Commit(context.Context, []kv.Op) error { return errors.New("disk full") }
func (failingCommits) Close() error                          { return nil }

// A dump's every record, the old layouts' included, passes ValidateRecord
// (what a snapshot import checks before restoring).
func TestLayoutFixturesValidate(t *testing.T) {
	for _, fx := range layoutFixtures {
		f := loadLayoutFixture(t, fx.file)
		for table, ps := range f.Tables {
			for _, p := range ps {
				if err := idbstore.ValidateRecord(table, p.Key, p.Value); err != nil {
					t.Errorf("%s: %v", fx.file, err)
				}
			}
		}
	}
}
