package idbstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// The record-level corruption suite: every record of every table is
// overwritten, one at a time, with each kind of damage a store can suffer
// (emptied, an unknown format byte, truncated, trailing garbage); the
// container is reopened on it and the calls that read the table are made.
// Each case must end without a panic, with the damage reported (once) to the
// corruption handler as a *CorruptError naming the table, with every call
// that fails saying which table, with the Signal reads (session, identity,
// sender key) treating the record as missing instead of failing, and with
// every other record still there and readable.

var (
	ourJID   = types.NewADJID("15550000001", 0, 3)
	peerA    = types.NewJID("15550000002", types.DefaultUserServer)
	peerB    = types.NewJID("15550000003", types.DefaultUserServer)
	lidA     = types.NewJID("900000002", types.HiddenUserServer)
	lidB     = types.NewJID("900000003", types.HiddenUserServer)
	group    = "120363000000000001@g.us"
	addrA    = peerA.SignalAddressUser() + ":0"
	addrB    = peerB.SignalAddressUser() + ":0"
	syncKeyA = []byte{0, 0, 0, 1}
	syncKeyB = []byte{0, 0, 0, 2}
)

// populate writes at least one record to every table through the store API.
func populate(t *testing.T, ctx context.Context, b kv.Backend) {
	t.Helper()
	c, err := idbstore.New(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := c.NewDevice()
	id := ourJID
	d.ID = &id
	d.LID = types.NewADJID("900000001", 0, 3)
	d.LID.Server = types.HiddenUserServer
	d.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1, 2}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.PutDevice(ctx, d))
	must(d.Identities.PutIdentity(ctx, addrA, [32]byte{1}))
	must(d.Identities.PutIdentity(ctx, addrB, [32]byte{2}))
	must(d.Sessions.PutSession(ctx, addrA, []byte("session A")))
	must(d.Sessions.PutSession(ctx, addrB, []byte("session B")))
	_, err = d.PreKeys.GetOrGenPreKeys(ctx, 3)
	must(err)
	must(d.PreKeys.MarkPreKeysAsUploaded(ctx, 2))
	must(d.SenderKeys.PutSenderKey(ctx, group, addrA, []byte("sender key A")))
	must(d.SenderKeys.PutSenderKey(ctx, group, addrB, []byte("sender key B")))
	must(d.AppStateKeys.PutAppStateSyncKey(ctx, syncKeyA, store.AppStateSyncKey{Data: []byte("a"), Fingerprint: []byte("f"), Timestamp: 1}))
	must(d.AppStateKeys.PutAppStateSyncKey(ctx, syncKeyB, store.AppStateSyncKey{Data: []byte("b"), Fingerprint: []byte("g"), Timestamp: 2}))
	must(d.AppState.PutAppStateVersion(ctx, "regular", 3, [128]byte{3}))
	must(d.AppState.PutAppStateVersion(ctx, "critical_block", 4, [128]byte{4}))
	must(d.AppState.PutAppStateMutationMACs(ctx, "regular", 3, []store.AppStateMutationMAC{{IndexMAC: bytes.Repeat([]byte{5}, 32), ValueMAC: bytes.Repeat([]byte{6}, 32)}}))
	_, _, err = d.Contacts.PutPushName(ctx, peerA, "Alice")
	must(err)
	_, _, err = d.Contacts.PutPushName(ctx, peerB, "Bob")
	must(err)
	must(d.ChatSettings.PutPinned(ctx, peerA, true))
	must(d.ChatSettings.PutArchived(ctx, peerB, true))
	must(d.MsgSecrets.PutMessageSecret(ctx, peerA, peerA, "MSG1", []byte("secret")))
	must(d.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: peerA, Token: []byte("tok"), Timestamp: time.Unix(100, 0)}))
	must(d.EventBuffer.PutBufferedEvent(ctx, [32]byte{7}, []byte("plaintext"), time.Unix(200, 0)))
	must(d.LIDs.PutLIDMapping(ctx, lidA, peerA))
	must(d.LIDs.PutLIDMapping(ctx, lidB, peerB))
	must(c.Close())
}

// readers make, for every table, the calls that read it; they return the
// first error.
var readers = map[string]func(ctx context.Context, d *store.Device) error{
	"device": func(context.Context, *store.Device) error { return nil }, // read by GetFirstDevice
	"identity": func(ctx context.Context, d *store.Device) error {
		for i, a := range []string{addrA, addrB} {
			ok, err := d.Identities.IsTrustedIdentity(ctx, a, [32]byte{byte(i + 1)})
			if err != nil || !ok {
				return fmt.Errorf("IsTrustedIdentity(%s) = %v, %w", a, ok, err)
			}
		}
		return nil
	},
	"session": func(ctx context.Context, d *store.Device) error {
		for _, a := range []string{addrA, addrB} {
			if _, err := d.Sessions.GetSession(ctx, a); err != nil {
				return err
			}
			if _, err := d.Sessions.HasSession(ctx, a); err != nil {
				return err
			}
		}
		_, err := d.Sessions.GetManySessions(ctx, []string{addrA, addrB})
		return err
	},
	"prekey": func(ctx context.Context, d *store.Device) error {
		for id := uint32(1); id <= 3; id++ {
			if _, err := d.PreKeys.GetPreKey(ctx, id); err != nil {
				return err
			}
		}
		_, err := d.PreKeys.GetOrGenPreKeys(ctx, 3)
		return err
	},
	"prekey_uploaded": func(ctx context.Context, d *store.Device) error {
		_, err := d.PreKeys.UploadedPreKeyCount(ctx)
		return err
	},
	"sender_key": func(ctx context.Context, d *store.Device) error {
		for _, a := range []string{addrA, addrB} {
			if _, err := d.SenderKeys.GetSenderKey(ctx, group, a); err != nil {
				return err
			}
		}
		return nil
	},
	"app_state_sync_key": func(ctx context.Context, d *store.Device) error {
		for _, k := range [][]byte{syncKeyA, syncKeyB} {
			if _, err := d.AppStateKeys.GetAppStateSyncKey(ctx, k); err != nil {
				return err
			}
		}
		_, err := d.AppStateKeys.GetLatestAppStateSyncKeyID(ctx)
		return err
	},
	"app_state_version": func(ctx context.Context, d *store.Device) error {
		for _, n := range []string{"regular", "critical_block"} {
			if _, _, err := d.AppState.GetAppStateVersion(ctx, n); err != nil {
				return err
			}
		}
		return nil
	},
	"app_state_mac_patch": func(ctx context.Context, d *store.Device) error {
		_, err := d.AppState.GetAppStateMutationMAC(ctx, "regular", bytes.Repeat([]byte{5}, 32))
		return err
	},
	"contact_bucket": func(ctx context.Context, d *store.Device) error {
		_, err := d.Contacts.GetAllContacts(ctx)
		return err
	},
	"chat_settings": func(ctx context.Context, d *store.Device) error {
		for _, j := range []types.JID{peerA, peerB} {
			if _, err := d.ChatSettings.GetChatSettings(ctx, j); err != nil {
				return err
			}
		}
		return nil
	},
	"message_secret": func(ctx context.Context, d *store.Device) error {
		_, _, err := d.MsgSecrets.GetMessageSecret(ctx, peerA, peerA, "MSG1")
		return err
	},
	"privacy_token": func(ctx context.Context, d *store.Device) error {
		_, err := d.PrivacyTokens.GetPrivacyToken(ctx, peerA)
		return err
	},
	"event_buffer": func(ctx context.Context, d *store.Device) error {
		_, err := d.EventBuffer.GetBufferedEvent(ctx, [32]byte{7})
		return err
	},
	"lid_map": func(ctx context.Context, d *store.Device) error {
		for _, l := range []types.JID{lidA, lidB} {
			if _, err := d.LIDs.GetPNForLID(ctx, l); err != nil {
				return err
			}
		}
		return nil
	},
	"lid_map_pn": func(ctx context.Context, d *store.Device) error {
		for _, p := range []types.JID{peerA, peerB} {
			if _, err := d.LIDs.GetLIDForPN(ctx, p); err != nil {
				return err
			}
		}
		return nil
	},
}

// Tables whose reads recover by treating a damaged record as missing.
var treatedAsMissing = []string{"identity", "session", "sender_key"}

var damages = []struct {
	name string
	fn   func([]byte) []byte
}{
	{"emptied", func([]byte) []byte { return []byte{} }},
	{"unknown format", func(v []byte) []byte { return append([]byte{0xff}, v[1:]...) }},
	{"truncated", func(v []byte) []byte { return v[:len(v)-1] }},
	{"trailing garbage", func(v []byte) []byte { return append(slices.Clone(v), 0xee, 0xee) }},
}

func dump(t *testing.T, ctx context.Context, b kv.Backend) map[string][]kv.Pair {
	t.Helper()
	out := map[string][]kv.Pair{}
	for _, table := range idbstore.Tables {
		ps, err := b.Scan(ctx, table, "")
		if err != nil {
			t.Fatal(err)
		}
		out[table] = ps
	}
	return out
}

func restoreInto(t *testing.T, ctx context.Context, all map[string][]kv.Pair) *memkv.Backend {
	t.Helper()
	b := memkv.New()
	var ops []kv.Op
	for table, ps := range all {
		for _, p := range ps {
			ops = append(ops, kv.Op{Table: table, Key: p.Key, Value: p.Value})
		}
	}
	if err := b.Commit(ctx, ops); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCorruptRecordOfEveryTable(t *testing.T) {
	ctx := context.Background()
	src := memkv.New()
	populate(t, ctx, keepOpen{src})
	orig := dump(t, ctx, src)
	cases := 0
	for _, table := range idbstore.Tables {
		if len(orig[table]) == 0 {
			t.Fatalf("populate wrote nothing to table %s: the suite would not cover it", table)
		}
		if readers[table] == nil {
			t.Fatalf("no reader for table %s", table)
		}
		for i, rec := range orig[table] {
			for _, dmg := range damages {
				cases++
				name := fmt.Sprintf("%s/%d/%s", table, i, dmg.name)
				t.Run(name, func(t *testing.T) {
					checkCorruption(t, ctx, orig, table, rec, dmg.fn(rec.Value))
				})
			}
		}
	}
	t.Logf("record corruption: %d cases over %d tables (%d damage kinds)", cases, len(idbstore.Tables), len(damages))
	fmt.Printf("idbstore record corruption: %d cases over %d tables, %d kinds of damage\n", cases, len(idbstore.Tables), len(damages))
}

func checkCorruption(t *testing.T, ctx context.Context, orig map[string][]kv.Pair, table string, rec kv.Pair, bad []byte) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	b := restoreInto(t, ctx, orig)
	if err := b.Commit(ctx, []kv.Op{{Table: table, Key: rec.Key, Value: bad}}); err != nil {
		t.Fatal(err)
	}
	c, err := idbstore.New(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var reports []*idbstore.CorruptError
	c.SetCorruptionHandler(func(ce *idbstore.CorruptError) { reports = append(reports, ce) })
	checkErr := func(err error) {
		t.Helper()
		var ce *idbstore.CorruptError
		if !errors.As(err, &ce) || ce.Table != table || !strings.Contains(err.Error(), "decode "+table+" record") {
			t.Fatalf("want a *CorruptError naming table %s, got %v", table, err)
		}
		if !errors.Is(err, idbstore.ErrCorrupt) {
			t.Fatalf("%v does not wrap ErrCorrupt", err)
		}
	}
	d, err := c.GetFirstDevice(ctx)
	if table == "device" {
		checkErr(err)
	} else {
		if err != nil {
			t.Fatalf("a damaged %s record must not stop the device from loading: %v", table, err)
		}
		err = readers[table](ctx, d)
		if slices.Contains(treatedAsMissing, table) {
			if err != nil {
				t.Fatalf("a damaged %s record must read as missing, not fail: %v", table, err)
			}
		} else {
			checkErr(err)
		}
	}
	if len(reports) != 1 || reports[0].Table != table || reports[0].Key != rec.Key {
		t.Fatalf("want exactly one report of %s %q, got %v", table, rec.Key, reports)
	}
	if err := idbstore.ValidateRecord(table, rec.Key, bad); err == nil {
		t.Fatalf("ValidateRecord accepts the damaged %s record", table)
	}
	// Nothing else lost: every other record is stored as it was and still
	// validates.
	after := dump(t, ctx, b)
	for tb, ps := range orig {
		for _, p := range ps {
			if tb == table && p.Key == rec.Key {
				continue
			}
			got := slices.IndexFunc(after[tb], func(q kv.Pair) bool { return q.Key == p.Key && bytes.Equal(q.Value, p.Value) })
			if got < 0 {
				t.Fatalf("record %s %q was lost or changed", tb, p.Key)
			}
			if err := idbstore.ValidateRecord(tb, p.Key, p.Value); err != nil {
				t.Fatalf("an intact record fails validation: %v", err)
			}
		}
	}
}

// A damaged session record is reported once, reads as missing, and is
// replaced by the next session whatsmeow stores for that contact; the
// other contact's session is untouched.
func TestCorruptSessionIsReplacedByANewOne(t *testing.T) {
	ctx := context.Background()
	src := memkv.New()
	populate(t, ctx, keepOpen{src})
	orig := dump(t, ctx, src)
	var rec kv.Pair
	for _, p := range orig["session"] {
		if strings.HasSuffix(p.Key, addrA) {
			rec = p
		}
	}
	b := restoreInto(t, ctx, orig)
	_ = b.Commit(ctx, []kv.Op{{Table: "session", Key: rec.Key, Value: []byte{9, 9, 9}}})
	c, _ := idbstore.New(ctx, b, nil)
	defer c.Close()
	var reports []*idbstore.CorruptError
	c.SetCorruptionHandler(func(ce *idbstore.CorruptError) { reports = append(reports, ce) })
	d, err := c.GetFirstDevice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if has, err := d.Sessions.HasSession(ctx, addrA); has || err != nil {
		t.Fatalf("HasSession of a damaged record = %v, %v; want false, nil", has, err)
	}
	if len(reports) != 1 || reports[0].Address() != addrA || !strings.Contains(reports[0].Error(), "session") {
		t.Fatalf("reports: %v", reports)
	}
	if err := d.Sessions.PutSession(ctx, addrA, []byte("fresh")); err != nil {
		t.Fatal(err)
	}
	if s, err := d.Sessions.GetSession(ctx, addrA); err != nil || string(s) != "fresh" {
		t.Fatalf("after a new session: %q, %v", s, err)
	}
	if s, err := d.Sessions.GetSession(ctx, addrB); err != nil || string(s) != "session B" {
		t.Fatalf("the other session: %q, %v", s, err)
	}
	if len(reports) != 1 {
		t.Fatalf("reported again: %v", reports)
	}
}
