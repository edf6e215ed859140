//go:build !js

package idbstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// TestDifferentialAgainstSQLStore runs the same seeded random calls against
// whatsmeow's sqlstore (sqlite) and idbstore on memkv and requires identical
// results, with the idbstore container closed and reopened now and then.
func TestDifferentialAgainstSQLStore(t *testing.T) {
	steps := 3000
	if testing.Short() {
		steps = 600
	}
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runDifferential(t, seed, steps) })
	}
}

type world struct {
	t       *testing.T
	ctx     context.Context
	sqlC    *sqlstore.Container
	sqlPath string
	idbC    *idbstore.Container
	mem     *memkv.Backend
	jids    []types.JID
	sqlDev  map[types.JID]*store.Device
	idbDev  map[types.JID]*store.Device
	proto   map[types.JID]*store.Device // the saved device, to re-save after a delete
}

func runDifferential(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	mem := memkv.New()
	w := &world{t: t, ctx: ctx, mem: mem, sqlPath: filepath.Join(t.TempDir(), "ref.db"),
		sqlDev: map[types.JID]*store.Device{}, idbDev: map[types.JID]*store.Device{}, proto: map[types.JID]*store.Device{}}
	w.reopen()
	defer func() { _ = w.sqlC.Close() }()
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	for i := 0; i < 2; i++ {
		jid := types.NewADJID(fmt.Sprint(5550000+i), 0, uint8(3+i))
		w.jids = append(w.jids, jid)
		w.saveDevice(jid, randomDevice(r, w.sqlC, jid))
	}
	ops := diffOps()
	for step := 0; step < steps; step++ {
		if r.IntN(250) == 0 {
			w.reopen()
			continue
		}
		jid := w.jids[r.IntN(len(w.jids))]
		op := ops[r.IntN(len(ops))]
		desc, run := op(r, w, jid)
		if desc == "" {
			continue
		}
		want := run(w.sqlDev[jid])
		got := run(w.idbDev[jid])
		if !reflect.DeepEqual(normalize(want), normalize(got)) {
			t.Fatalf("step %d, device %s: %s\n sqlstore: %#v\n idbstore: %#v", step, jid, desc, want, got)
		}
	}
	if err := w.idbC.Close(); err != nil {
		t.Fatal(err)
	}
}

// reopen closes the idbstore container (keeping the memory backend's data)
// and opens a new one, and refetches the devices from both stores so their
// per-instance caches start over alike.
func (w *world) reopen() {
	if w.idbC != nil {
		if err := w.idbC.Close(); err != nil {
			w.t.Fatal(err)
		}
	}
	c, err := idbstore.New(w.ctx, keepOpen{w.mem}, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	w.idbC = c
	if w.sqlC != nil {
		if err := w.sqlC.Close(); err != nil {
			w.t.Fatal(err)
		}
	}
	if w.sqlC, err = sqlstore.New(w.ctx, "sqlite3", "file:"+w.sqlPath+"?_foreign_keys=on&_sync=OFF&_journal=WAL", nil); err != nil {
		w.t.Fatal(err)
	}
	for _, jid := range w.jids {
		w.refetch(jid)
	}
}

func (w *world) refetch(jid types.JID) {
	sd, err := w.sqlC.GetDevice(w.ctx, jid)
	if err != nil {
		w.t.Fatal(err)
	}
	id, err := w.idbC.GetDevice(w.ctx, jid)
	if err != nil {
		w.t.Fatal(err)
	}
	if (sd == nil) != (id == nil) {
		w.t.Fatalf("device %s: sqlstore has it %v, idbstore %v", jid, sd != nil, id != nil)
	}
	if sd == nil {
		// Deleted: keep using stores bound to the JID, as a client would.
		sd, id = cloneDevice(w.proto[jid]), cloneDevice(w.proto[jid])
		sd.Container, id.Container = w.sqlC, w.idbC
		sd.Initialized, id.Initialized = false, false
		// Wiring without saving: sqlstore only wires on PutDevice, so save
		// and delete again on both sides.
		_ = sd.Save(w.ctx)
		_ = id.Save(w.ctx)
		_ = sd.Delete(w.ctx)
		_ = id.Delete(w.ctx)
		sd.ID, id.ID = &jid, &jid
	} else {
		compareDevices(w.t, sd, id)
	}
	w.sqlDev[jid], w.idbDev[jid] = sd, id
}

func (w *world) saveDevice(jid types.JID, d *store.Device) {
	w.proto[jid] = cloneDevice(d)
	sd, id := cloneDevice(d), cloneDevice(d)
	sd.Container, id.Container = w.sqlC, w.idbC
	if err := sd.Save(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	if err := id.Save(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	w.sqlDev[jid], w.idbDev[jid] = sd, id
}

func compareDevices(t *testing.T, a, b *store.Device) {
	t.Helper()
	if da, db := deviceString(a), deviceString(b); da != db {
		t.Fatalf("device differs:\n sqlstore: %s\n idbstore: %s", da, db)
	}
}

type result struct {
	V   any
	Err bool
}

func res(v any, err error) result {
	// Pointers would print as addresses: compare what they point at.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			v = nil
		} else {
			v = rv.Elem().Interface()
		}
	}
	return result{V: v, Err: err != nil}
}

// normalize makes empty and nil byte slices equal (sqlite returns either).
func normalize(v any) any {
	return fmt.Sprintf("%v", v)
}

type diffOp func(r *rand.Rand, w *world, jid types.JID) (string, func(d *store.Device) any)

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(4)) // few distinct values: collisions happen
	}
	return b
}

func key32(r *rand.Rand) [32]byte { return [32]byte(randBytes(r, 32)) }

var phones = []string{"1000", "1001", "1002", "100", "9000", "9001", "9000_1", "1001_1", "ab", "AB", "1_0", "é"}

func addr(r *rand.Rand) string { return fmt.Sprintf("%s:%d", pick(r, phones...), r.IntN(3)) }

func pnJID(r *rand.Rand) types.JID {
	return types.JID{User: pick(r, "1000", "1001", "1002", "1003"), Server: types.DefaultUserServer, Device: uint16(pick(r, 0, 0, 1, 2))}
}

func lidJID(r *rand.Rand) types.JID {
	return types.JID{User: pick(r, "9000", "9001", "9002", "9003"), Server: types.HiddenUserServer, Device: uint16(pick(r, 0, 0, 1))}
}

func anyJID(r *rand.Rand) types.JID {
	switch r.IntN(3) {
	case 0:
		return pnJID(r)
	case 1:
		return lidJID(r)
	}
	return types.NewJID(pick(r, "123-456", "777"), types.GroupServer)
}

func diffOps() []diffOp {
	ctxOf := func(w *world) context.Context { return w.ctx }
	return []diffOp{
		// identities
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			a, k := addr(r), key32(r)
			return "PutIdentity " + a, func(d *store.Device) any { return res(nil, d.Identities.PutIdentity(ctxOf(w), a, k)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			a, k := addr(r), key32(r)
			return "IsTrustedIdentity " + a, func(d *store.Device) any {
				return res(d.Identities.IsTrustedIdentity(ctxOf(w), a, k))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			p := pick(r, phones...)
			return "DeleteAllIdentities " + p, func(d *store.Device) any { return res(nil, d.Identities.DeleteAllIdentities(ctxOf(w), p)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			a := pick(r, addr(r), "9000_1:%", "100_:1")
			return "DeleteIdentity " + a, func(d *store.Device) any { return res(nil, d.Identities.DeleteIdentity(ctxOf(w), a)) }
		},
		// sessions
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			a := addr(r)
			sess := pick(r, randBytes(r, 1+r.IntN(40)), nil, []byte{})
			return "PutSession " + a, func(d *store.Device) any { return res(nil, d.Sessions.PutSession(ctxOf(w), a, sess)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			a := addr(r)
			return "GetSession " + a, func(d *store.Device) any { return res(d.Sessions.GetSession(ctxOf(w), a)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			a := addr(r)
			return "HasSession " + a, func(d *store.Device) any { return res(d.Sessions.HasSession(ctxOf(w), a)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			as := []string{addr(r), addr(r), addr(r)}[:r.IntN(4)]
			return fmt.Sprint("GetManySessions ", as), func(d *store.Device) any { return res(d.Sessions.GetManySessions(ctxOf(w), as)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			m := map[string][]byte{addr(r): randBytes(r, 5), addr(r): randBytes(r, 6)}
			return fmt.Sprint("PutManySessions ", m), func(d *store.Device) any { return res(nil, d.Sessions.PutManySessions(ctxOf(w), m)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			p := pick(r, phones...)
			return "DeleteAllSessions " + p, func(d *store.Device) any { return res(nil, d.Sessions.DeleteAllSessions(ctxOf(w), p)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			a := addr(r)
			return "DeleteSession " + a, func(d *store.Device) any { return res(nil, d.Sessions.DeleteSession(ctxOf(w), a)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			pn, lid := pnJID(r), lidJID(r)
			return fmt.Sprint("MigratePNToLID ", pn, lid), func(d *store.Device) any {
				return res(nil, d.Sessions.MigratePNToLID(ctxOf(w), pn, lid))
			}
		},
		// prekeys
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			return "GenOnePreKey", func(d *store.Device) any {
				k, err := d.PreKeys.GenOnePreKey(ctxOf(w))
				if err != nil {
					return res(nil, err)
				}
				return res(k.KeyID, nil)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			n := uint32(r.IntN(6))
			return fmt.Sprint("GetOrGenPreKeys ", n), func(d *store.Device) any {
				ks, err := d.PreKeys.GetOrGenPreKeys(ctxOf(w), n)
				var ids []uint32
				for _, k := range ks {
					ids = append(ids, k.KeyID)
				}
				return res(ids, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			id := uint32(r.IntN(30))
			return fmt.Sprint("GetPreKey ", id), func(d *store.Device) any {
				k, err := d.PreKeys.GetPreKey(ctxOf(w), id)
				if k == nil {
					return res(nil, err)
				}
				return res(k.KeyID, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			id := uint32(r.IntN(30))
			return fmt.Sprint("RemovePreKey ", id), func(d *store.Device) any { return res(nil, d.PreKeys.RemovePreKey(ctxOf(w), id)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			id := uint32(r.IntN(30))
			return fmt.Sprint("MarkPreKeysAsUploaded ", id), func(d *store.Device) any {
				return res(nil, d.PreKeys.MarkPreKeysAsUploaded(ctxOf(w), id))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			return "UploadedPreKeyCount", func(d *store.Device) any { return res(d.PreKeys.UploadedPreKeyCount(ctxOf(w))) }
		},
		// sender keys
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			g, u, v := pick(r, "123-456@g.us", "777@g.us"), addr(r), randBytes(r, 8)
			return "PutSenderKey " + g + " " + u, func(d *store.Device) any { return res(nil, d.SenderKeys.PutSenderKey(ctxOf(w), g, u, v)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			g, u := pick(r, "123-456@g.us", "777@g.us"), addr(r)
			return "GetSenderKey " + g + " " + u, func(d *store.Device) any { return res(d.SenderKeys.GetSenderKey(ctxOf(w), g, u)) }
		},
		// app state sync keys
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			id := randBytes(r, 2)
			k := store.AppStateSyncKey{Data: randBytes(r, 4), Fingerprint: randBytes(r, 3), Timestamp: int64(r.IntN(5))}
			return fmt.Sprintf("PutAppStateSyncKey %x %+v", id, k), func(d *store.Device) any {
				return res(nil, d.AppStateKeys.PutAppStateSyncKey(ctxOf(w), id, k))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			id := randBytes(r, 2)
			return fmt.Sprintf("GetAppStateSyncKey %x", id), func(d *store.Device) any { return res(d.AppStateKeys.GetAppStateSyncKey(ctxOf(w), id)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			return "GetLatestAppStateSyncKeyID", func(d *store.Device) any {
				return res(d.AppStateKeys.GetLatestAppStateSyncKeyID(ctxOf(w)))
			}
		},
		// app state versions and MACs
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			name, ver := pick(r, "regular", "critical_block"), uint64(r.IntN(4))
			var h [128]byte
			h[0] = byte(r.IntN(3))
			return fmt.Sprint("PutAppStateVersion ", name, ver), func(d *store.Device) any {
				return res(nil, d.AppState.PutAppStateVersion(ctxOf(w), name, ver, h))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			name := pick(r, "regular", "critical_block")
			return "GetAppStateVersion " + name, func(d *store.Device) any {
				v, h, err := d.AppState.GetAppStateVersion(ctxOf(w), name)
				return res([]any{v, h}, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			name := pick(r, "regular", "critical_block")
			return "DeleteAppStateVersion " + name, func(d *store.Device) any { return res(nil, d.AppState.DeleteAppStateVersion(ctxOf(w), name)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			name, ver := pick(r, "regular", "critical_block"), uint64(r.IntN(4))
			var muts []store.AppStateMutationMAC
			for i := r.IntN(4); i > 0; i-- {
				muts = append(muts, store.AppStateMutationMAC{IndexMAC: mac(r), ValueMAC: randBytes(r, 32)})
			}
			return fmt.Sprint("PutAppStateMutationMACs ", name, ver, len(muts)), func(d *store.Device) any {
				return res(nil, d.AppState.PutAppStateMutationMACs(ctxOf(w), name, ver, muts))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			name := pick(r, "regular", "critical_block")
			idx := [][]byte{mac(r), mac(r)}[:r.IntN(3)]
			return fmt.Sprint("DeleteAppStateMutationMACs ", name, len(idx)), func(d *store.Device) any {
				return res(nil, d.AppState.DeleteAppStateMutationMACs(ctxOf(w), name, idx))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			name, idx := pick(r, "regular", "critical_block"), mac(r)
			return fmt.Sprintf("GetAppStateMutationMAC %s %x", name, idx[:1]), func(d *store.Device) any {
				return res(d.AppState.GetAppStateMutationMAC(ctxOf(w), name, idx))
			}
		},
		// contacts
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			u, n := anyJID(r), pick(r, "", "Ann", "Bob")
			return fmt.Sprint("PutPushName ", u, n), func(d *store.Device) any {
				ch, old, err := d.Contacts.PutPushName(ctxOf(w), u, n)
				return res([]any{ch, old}, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			u, n := anyJID(r), pick(r, "", "Shop", "Store")
			return fmt.Sprint("PutBusinessName ", u, n), func(d *store.Device) any {
				ch, old, err := d.Contacts.PutBusinessName(ctxOf(w), u, n)
				return res([]any{ch, old}, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			u, a, b := anyJID(r), pick(r, "", "A"), pick(r, "", "A B", "C")
			return fmt.Sprint("PutContactName ", u, a, b), func(d *store.Device) any { return res(nil, d.Contacts.PutContactName(ctxOf(w), u, a, b)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			var cs []store.ContactEntry
			for i := r.IntN(4); i > 0; i-- {
				cs = append(cs, store.ContactEntry{JID: anyJID(r), FirstName: pick(r, "", "X"), FullName: pick(r, "X Y", "Z")})
			}
			return fmt.Sprint("PutAllContactNames ", cs), func(d *store.Device) any {
				return res(nil, d.Contacts.PutAllContactNames(ctxOf(w), slices.Clone(cs)))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			var es []store.RedactedPhoneEntry
			for i := r.IntN(4); i > 0; i-- {
				es = append(es, store.RedactedPhoneEntry{JID: lidJID(r), RedactedPhone: pick(r, "", "+1 ***-**12", "+44 ***")})
			}
			return fmt.Sprint("PutManyRedactedPhones ", es), func(d *store.Device) any {
				return res(nil, d.Contacts.PutManyRedactedPhones(ctxOf(w), slices.Clone(es)))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			u := anyJID(r)
			return fmt.Sprint("GetContact ", u), func(d *store.Device) any { return res(d.Contacts.GetContact(ctxOf(w), u)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			return "GetAllContacts", func(d *store.Device) any {
				m, err := d.Contacts.GetAllContacts(ctxOf(w))
				return res(sortedMap(m), err)
			}
		},
		// chat settings
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			c := anyJID(r)
			until := pick(r, time.Time{}, store.MutedForever, time.Unix(1700000000+int64(r.IntN(3)), 0))
			return fmt.Sprint("PutMutedUntil ", c, until), func(d *store.Device) any { return res(nil, d.ChatSettings.PutMutedUntil(ctxOf(w), c, until)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			c, v := anyJID(r), r.IntN(2) == 0
			return fmt.Sprint("PutPinned ", c, v), func(d *store.Device) any { return res(nil, d.ChatSettings.PutPinned(ctxOf(w), c, v)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			c, v := anyJID(r), r.IntN(2) == 0
			return fmt.Sprint("PutArchived ", c, v), func(d *store.Device) any { return res(nil, d.ChatSettings.PutArchived(ctxOf(w), c, v)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			c := anyJID(r)
			return fmt.Sprint("GetChatSettings ", c), func(d *store.Device) any { return res(d.ChatSettings.GetChatSettings(ctxOf(w), c)) }
		},
		// message secrets
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			c, s, id, sec := anyJID(r), pick(r, pnJID(r), lidJID(r)), pick(r, "M1", "M2"), randBytes(r, 4)
			return fmt.Sprint("PutMessageSecret ", c, s, id), func(d *store.Device) any {
				return res(nil, d.MsgSecrets.PutMessageSecret(ctxOf(w), c, s, id, sec))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			var ins []store.MessageSecretInsert
			for i := r.IntN(3); i > 0; i-- {
				ins = append(ins, store.MessageSecretInsert{Chat: anyJID(r), Sender: pick(r, pnJID(r), lidJID(r)), ID: pick(r, "M1", "M3"), Secret: randBytes(r, 4)})
			}
			return fmt.Sprint("PutMessageSecrets ", ins), func(d *store.Device) any { return res(nil, d.MsgSecrets.PutMessageSecrets(ctxOf(w), ins)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			c, s, id := anyJID(r), pick(r, pnJID(r), lidJID(r)), pick(r, "M1", "M2", "M3")
			return fmt.Sprint("GetMessageSecret ", c, s, id), func(d *store.Device) any {
				sec, sender, err := d.MsgSecrets.GetMessageSecret(ctxOf(w), c, s, id)
				return res([]any{sec, sender}, err)
			}
		},
		// privacy tokens
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			var ts []store.PrivacyToken
			for i := r.IntN(3); i > 0; i-- {
				ts = append(ts, store.PrivacyToken{User: pick(r, pnJID(r), lidJID(r)), Token: randBytes(r, 3), Timestamp: time.Unix(int64(1000+r.IntN(5)), 0)})
			}
			return fmt.Sprint("PutPrivacyTokens ", ts), func(d *store.Device) any { return res(nil, d.PrivacyTokens.PutPrivacyTokens(ctxOf(w), ts...)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			u := pick(r, pnJID(r), lidJID(r), anyJID(r))
			return fmt.Sprint("GetPrivacyToken ", u), func(d *store.Device) any { return res(d.PrivacyTokens.GetPrivacyToken(ctxOf(w), u)) }
		},
		// event buffer
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			h, pt, ts := hash(r), pick(r, randBytes(r, 5), nil), time.Unix(int64(2000+r.IntN(9)), 0)
			return fmt.Sprintf("PutBufferedEvent %x", h[:1]), func(d *store.Device) any {
				return res(nil, d.EventBuffer.PutBufferedEvent(ctxOf(w), h, pt, ts))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			h := hash(r)
			return fmt.Sprintf("GetBufferedEvent %x", h[:1]), func(d *store.Device) any {
				ev, err := d.EventBuffer.GetBufferedEvent(ctxOf(w), h)
				if ev == nil {
					return res(nil, err)
				}
				return res([]any{ev.Plaintext, ev.ServerTime}, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			h := hash(r)
			return fmt.Sprintf("ClearBufferedEventPlaintext %x", h[:1]), func(d *store.Device) any {
				return res(nil, d.EventBuffer.ClearBufferedEventPlaintext(ctxOf(w), h))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			return "DeleteOldBufferedHashes", func(d *store.Device) any { return res(nil, d.EventBuffer.DeleteOldBufferedHashes(ctxOf(w))) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			a, sess, h, pt, fail := addr(r), randBytes(r, 7), hash(r), randBytes(r, 3), r.IntN(3) == 0
			k := key32(r)
			return fmt.Sprintf("DoDecryptionTxn %s %x fail=%v", a, h[:1], fail), func(d *store.Device) any {
				var inner []any
				err := d.EventBuffer.DoDecryptionTxn(ctxOf(w), func(ctx context.Context) error {
					s, err := d.Sessions.GetSession(ctx, a)
					inner = append(inner, s, err != nil)
					if err := d.Identities.PutIdentity(ctx, a, k); err != nil {
						return err
					}
					if err := d.Sessions.PutSession(ctx, a, sess); err != nil {
						return err
					}
					s, err = d.Sessions.GetSession(ctx, a)
					inner = append(inner, s, err != nil)
					if err := d.EventBuffer.PutBufferedEvent(ctx, h, pt, time.Unix(5, 0)); err != nil {
						return err
					}
					if fail {
						return fmt.Errorf("decrypt failed")
					}
					return nil
				})
				return res(inner, err)
			}
		},
		// LID map
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			l, p := pick(r, lidJID(r), pnJID(r)), pnJID(r)
			return fmt.Sprint("PutLIDMapping ", l, p), func(d *store.Device) any { return res(nil, d.LIDs.PutLIDMapping(ctxOf(w), l, p)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			var ms []store.LIDMapping
			for i := r.IntN(4); i > 0; i-- {
				ms = append(ms, store.LIDMapping{LID: lidJID(r).ToNonAD(), PN: pnJID(r).ToNonAD()})
			}
			return fmt.Sprint("PutManyLIDMappings ", ms), func(d *store.Device) any {
				return res(nil, d.LIDs.PutManyLIDMappings(ctxOf(w), slices.Clone(ms)))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			l := pick(r, lidJID(r), pnJID(r))
			return fmt.Sprint("GetPNForLID ", l), func(d *store.Device) any { return res(d.LIDs.GetPNForLID(ctxOf(w), l)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			p := pick(r, pnJID(r), lidJID(r))
			return fmt.Sprint("GetLIDForPN ", p), func(d *store.Device) any { return res(d.LIDs.GetLIDForPN(ctxOf(w), p)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			ps := []types.JID{pnJID(r), pnJID(r), lidJID(r)}[:r.IntN(4)]
			return fmt.Sprint("GetManyLIDsForPNs ", ps), func(d *store.Device) any {
				m, err := d.LIDs.GetManyLIDsForPNs(ctxOf(w), ps)
				return res(sortedMap(m), err)
			}
		},
		// container
		func(r *rand.Rand, w *world, jid types.JID) (string, func(*store.Device) any) {
			if r.IntN(8) != 0 {
				return "", nil
			}
			sd, id := w.sqlDev[jid], w.idbDev[jid]
			errS, errI := w.sqlC.DeleteDevice(w.ctx, sd), w.idbC.DeleteDevice(w.ctx, id)
			if (errS != nil) != (errI != nil) {
				w.t.Fatalf("DeleteDevice %s: sqlstore %v, idbstore %v", jid, errS, errI)
			}
			return "", nil
		},
		func(r *rand.Rand, w *world, jid types.JID) (string, func(*store.Device) any) {
			if r.IntN(3) != 0 {
				return "", nil
			}
			// Save again (after a delete this re-creates it), with a changed push name.
			sd, id := w.sqlDev[jid], w.idbDev[jid]
			name := pick(r, "me", "myself")
			sd.PushName, id.PushName = name, name
			errS, errI := w.sqlC.PutDevice(w.ctx, sd), w.idbC.PutDevice(w.ctx, id)
			if (errS != nil) != (errI != nil) {
				w.t.Fatalf("PutDevice %s: sqlstore %v, idbstore %v", jid, errS, errI)
			}
			w.refetch(jid)
			return "", nil
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(*store.Device) any) {
			sds, err := w.sqlC.GetAllDevices(w.ctx)
			if err != nil {
				w.t.Fatal(err)
			}
			ids, err := w.idbC.GetAllDevices(w.ctx)
			if err != nil {
				w.t.Fatal(err)
			}
			if len(sds) != len(ids) {
				w.t.Fatalf("GetAllDevices: sqlstore %d devices, idbstore %d", len(sds), len(ids))
			}
			for i := range sds {
				compareDevices(w.t, sds[i], ids[i])
			}
			return "", nil
		},
	}
}

func mac(r *rand.Rand) []byte {
	b := make([]byte, 32)
	b[0] = byte(r.IntN(6))
	return b
}

func hash(r *rand.Rand) [32]byte {
	var h [32]byte
	h[0] = byte(r.IntN(8))
	return h
}

func sortedMap[K interface {
	comparable
	fmt.Stringer
}, V any](m map[K]V) []string {
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(out)
	return out
}
