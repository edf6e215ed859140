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
	"strings"
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
	steps := 5000
	if testing.Short() {
		steps = 600
	}
	for seed := uint64(1); seed <= 8; seed++ {
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
		want := run(w.ctx, w.sqlDev[jid])
		got := run(w.ctx, w.idbDev[jid])
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

type diffOp func(r *rand.Rand, w *world, jid types.JID) (string, func(ctx context.Context, d *store.Device) any)

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
	var inner []diffOp
	ops := []diffOp{
		// identities
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			a, k := addr(r), key32(r)
			return "PutIdentity " + a, func(ctx context.Context, d *store.Device) any { return res(nil, d.Identities.PutIdentity(ctx, a, k)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			a, k := addr(r), key32(r)
			return "IsTrustedIdentity " + a, func(ctx context.Context, d *store.Device) any {
				return res(d.Identities.IsTrustedIdentity(ctx, a, k))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			p := pick(r, phones...)
			return "DeleteAllIdentities " + p, func(ctx context.Context, d *store.Device) any {
				return res(nil, d.Identities.DeleteAllIdentities(ctx, p))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			a := pick(r, addr(r), "9000_1:%", "100_:1")
			return "DeleteIdentity " + a, func(ctx context.Context, d *store.Device) any { return res(nil, d.Identities.DeleteIdentity(ctx, a)) }
		},
		// sessions
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			a := addr(r)
			sess := pick(r, randBytes(r, 1+r.IntN(40)), nil, []byte{})
			return "PutSession " + a, func(ctx context.Context, d *store.Device) any { return res(nil, d.Sessions.PutSession(ctx, a, sess)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			a := addr(r)
			return "GetSession " + a, func(ctx context.Context, d *store.Device) any { return res(d.Sessions.GetSession(ctx, a)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			a := addr(r)
			return "HasSession " + a, func(ctx context.Context, d *store.Device) any { return res(d.Sessions.HasSession(ctx, a)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			as := []string{addr(r), addr(r), addr(r)}[:r.IntN(4)]
			return fmt.Sprint("GetManySessions ", as), func(ctx context.Context, d *store.Device) any { return res(d.Sessions.GetManySessions(ctx, as)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			m := map[string][]byte{addr(r): randBytes(r, 5), addr(r): randBytes(r, 6)}
			return fmt.Sprint("PutManySessions ", m), func(ctx context.Context, d *store.Device) any { return res(nil, d.Sessions.PutManySessions(ctx, m)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			p := pick(r, phones...)
			return "DeleteAllSessions " + p, func(ctx context.Context, d *store.Device) any { return res(nil, d.Sessions.DeleteAllSessions(ctx, p)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			a := addr(r)
			return "DeleteSession " + a, func(ctx context.Context, d *store.Device) any { return res(nil, d.Sessions.DeleteSession(ctx, a)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			pn, lid := pnJID(r), lidJID(r)
			return fmt.Sprint("MigratePNToLID ", pn, lid), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.Sessions.MigratePNToLID(ctx, pn, lid))
			}
		},
		// prekeys
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			return "GenOnePreKey", func(ctx context.Context, d *store.Device) any {
				k, err := d.PreKeys.GenOnePreKey(ctx)
				if err != nil {
					return res(nil, err)
				}
				return res(k.KeyID, nil)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			n := uint32(r.IntN(6))
			return fmt.Sprint("GetOrGenPreKeys ", n), func(ctx context.Context, d *store.Device) any {
				ks, err := d.PreKeys.GetOrGenPreKeys(ctx, n)
				var ids []uint32
				for _, k := range ks {
					ids = append(ids, k.KeyID)
				}
				return res(ids, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			id := uint32(r.IntN(30))
			return fmt.Sprint("GetPreKey ", id), func(ctx context.Context, d *store.Device) any {
				k, err := d.PreKeys.GetPreKey(ctx, id)
				if k == nil {
					return res(nil, err)
				}
				return res(k.KeyID, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			id := uint32(r.IntN(30))
			return fmt.Sprint("RemovePreKey ", id), func(ctx context.Context, d *store.Device) any { return res(nil, d.PreKeys.RemovePreKey(ctx, id)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			id := uint32(r.IntN(30))
			return fmt.Sprint("MarkPreKeysAsUploaded ", id), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.PreKeys.MarkPreKeysAsUploaded(ctx, id))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			return "UploadedPreKeyCount", func(ctx context.Context, d *store.Device) any { return res(d.PreKeys.UploadedPreKeyCount(ctx)) }
		},
		// sender keys
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			g, u, v := pick(r, "123-456@g.us", "777@g.us"), addr(r), randBytes(r, 8)
			return "PutSenderKey " + g + " " + u, func(ctx context.Context, d *store.Device) any {
				return res(nil, d.SenderKeys.PutSenderKey(ctx, g, u, v))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			g, u := pick(r, "123-456@g.us", "777@g.us"), addr(r)
			return "GetSenderKey " + g + " " + u, func(ctx context.Context, d *store.Device) any { return res(d.SenderKeys.GetSenderKey(ctx, g, u)) }
		},
		// app state sync keys
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			id := randBytes(r, 2)
			k := store.AppStateSyncKey{Data: randBytes(r, 4), Fingerprint: randBytes(r, 3), Timestamp: int64(r.IntN(5))}
			return fmt.Sprintf("PutAppStateSyncKey %x %+v", id, k), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.AppStateKeys.PutAppStateSyncKey(ctx, id, k))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			id := randBytes(r, 2)
			return fmt.Sprintf("GetAppStateSyncKey %x", id), func(ctx context.Context, d *store.Device) any { return res(d.AppStateKeys.GetAppStateSyncKey(ctx, id)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			return "GetLatestAppStateSyncKeyID", func(ctx context.Context, d *store.Device) any {
				return res(d.AppStateKeys.GetLatestAppStateSyncKeyID(ctx))
			}
		},
		// app state versions and MACs
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			name, ver := pick(r, "regular", "critical_block"), uint64(r.IntN(4))
			var h [128]byte
			h[0] = byte(r.IntN(3))
			return fmt.Sprint("PutAppStateVersion ", name, ver), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.AppState.PutAppStateVersion(ctx, name, ver, h))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			name := pick(r, "regular", "critical_block")
			return "GetAppStateVersion " + name, func(ctx context.Context, d *store.Device) any {
				v, h, err := d.AppState.GetAppStateVersion(ctx, name)
				return res([]any{v, h}, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			name := pick(r, "regular", "critical_block")
			return "DeleteAppStateVersion " + name, func(ctx context.Context, d *store.Device) any {
				return res(nil, d.AppState.DeleteAppStateVersion(ctx, name))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			name, ver := pick(r, "regular", "critical_block"), uint64(r.IntN(4))
			var muts []store.AppStateMutationMAC
			for i := r.IntN(4); i > 0; i-- {
				muts = append(muts, store.AppStateMutationMAC{IndexMAC: mac(r), ValueMAC: randBytes(r, 32)})
			}
			return fmt.Sprint("PutAppStateMutationMACs ", name, ver, len(muts)), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.AppState.PutAppStateMutationMACs(ctx, name, ver, muts))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			name := pick(r, "regular", "critical_block")
			idx := [][]byte{mac(r), mac(r)}[:r.IntN(3)]
			return fmt.Sprint("DeleteAppStateMutationMACs ", name, len(idx)), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.AppState.DeleteAppStateMutationMACs(ctx, name, idx))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			name, idx := pick(r, "regular", "critical_block"), mac(r)
			return fmt.Sprintf("GetAppStateMutationMAC %s %x", name, idx[:1]), func(ctx context.Context, d *store.Device) any {
				return res(d.AppState.GetAppStateMutationMAC(ctx, name, idx))
			}
		},
		// contacts
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			u, n := anyJID(r), pick(r, "", "Ann", "Bob")
			return fmt.Sprint("PutPushName ", u, n), func(ctx context.Context, d *store.Device) any {
				ch, old, err := d.Contacts.PutPushName(ctx, u, n)
				return res([]any{ch, old}, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			u, n := anyJID(r), pick(r, "", "Shop", "Store")
			return fmt.Sprint("PutBusinessName ", u, n), func(ctx context.Context, d *store.Device) any {
				ch, old, err := d.Contacts.PutBusinessName(ctx, u, n)
				return res([]any{ch, old}, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			u, a, b := anyJID(r), pick(r, "", "A"), pick(r, "", "A B", "C")
			return fmt.Sprint("PutContactName ", u, a, b), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.Contacts.PutContactName(ctx, u, a, b))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			var cs []store.ContactEntry
			for i := r.IntN(4); i > 0; i-- {
				cs = append(cs, store.ContactEntry{JID: anyJID(r), FirstName: pick(r, "", "X"), FullName: pick(r, "X Y", "Z")})
			}
			return fmt.Sprint("PutAllContactNames ", cs), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.Contacts.PutAllContactNames(ctx, slices.Clone(cs)))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			var es []store.RedactedPhoneEntry
			for i := r.IntN(4); i > 0; i-- {
				es = append(es, store.RedactedPhoneEntry{JID: lidJID(r), RedactedPhone: pick(r, "", "+1 ***-**12", "+44 ***")})
			}
			return fmt.Sprint("PutManyRedactedPhones ", es), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.Contacts.PutManyRedactedPhones(ctx, slices.Clone(es)))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			u := anyJID(r)
			return fmt.Sprint("GetContact ", u), func(ctx context.Context, d *store.Device) any { return res(d.Contacts.GetContact(ctx, u)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			return "GetAllContacts", func(ctx context.Context, d *store.Device) any {
				m, err := d.Contacts.GetAllContacts(ctx)
				return res(sortedMap(m), err)
			}
		},
		// chat settings
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			c := anyJID(r)
			until := pick(r, time.Time{}, store.MutedForever, time.Unix(1700000000+int64(r.IntN(3)), 0))
			return fmt.Sprint("PutMutedUntil ", c, until), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.ChatSettings.PutMutedUntil(ctx, c, until))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			c, v := anyJID(r), r.IntN(2) == 0
			return fmt.Sprint("PutPinned ", c, v), func(ctx context.Context, d *store.Device) any { return res(nil, d.ChatSettings.PutPinned(ctx, c, v)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			c, v := anyJID(r), r.IntN(2) == 0
			return fmt.Sprint("PutArchived ", c, v), func(ctx context.Context, d *store.Device) any { return res(nil, d.ChatSettings.PutArchived(ctx, c, v)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			c := anyJID(r)
			return fmt.Sprint("GetChatSettings ", c), func(ctx context.Context, d *store.Device) any { return res(d.ChatSettings.GetChatSettings(ctx, c)) }
		},
		// message secrets
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			c, s, id, sec := anyJID(r), pick(r, pnJID(r), lidJID(r)), pick(r, "M1", "M2"), randBytes(r, 4)
			return fmt.Sprint("PutMessageSecret ", c, s, id), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.MsgSecrets.PutMessageSecret(ctx, c, s, id, sec))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			var ins []store.MessageSecretInsert
			for i := r.IntN(3); i > 0; i-- {
				ins = append(ins, store.MessageSecretInsert{Chat: anyJID(r), Sender: pick(r, pnJID(r), lidJID(r)), ID: pick(r, "M1", "M3"), Secret: randBytes(r, 4)})
			}
			return fmt.Sprint("PutMessageSecrets ", ins), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.MsgSecrets.PutMessageSecrets(ctx, ins))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			c, s, id := anyJID(r), pick(r, pnJID(r), lidJID(r)), pick(r, "M1", "M2", "M3")
			return fmt.Sprint("GetMessageSecret ", c, s, id), func(ctx context.Context, d *store.Device) any {
				sec, sender, err := d.MsgSecrets.GetMessageSecret(ctx, c, s, id)
				return res([]any{sec, sender}, err)
			}
		},
		// privacy tokens
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			var ts []store.PrivacyToken
			for i := r.IntN(3); i > 0; i-- {
				ts = append(ts, store.PrivacyToken{User: pick(r, pnJID(r), lidJID(r)), Token: randBytes(r, 3), Timestamp: time.Unix(int64(1000+r.IntN(5)), 0)})
			}
			return fmt.Sprint("PutPrivacyTokens ", ts), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.PrivacyTokens.PutPrivacyTokens(ctx, ts...))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			u := pick(r, pnJID(r), lidJID(r), anyJID(r))
			return fmt.Sprint("GetPrivacyToken ", u), func(ctx context.Context, d *store.Device) any { return res(d.PrivacyTokens.GetPrivacyToken(ctx, u)) }
		},
		// event buffer
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			h, pt, ts := hash(r), pick(r, randBytes(r, 5), nil), time.Unix(int64(2000+r.IntN(9)), 0)
			return fmt.Sprintf("PutBufferedEvent %x", h[:1]), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.EventBuffer.PutBufferedEvent(ctx, h, pt, ts))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			h := hash(r)
			return fmt.Sprintf("GetBufferedEvent %x", h[:1]), func(ctx context.Context, d *store.Device) any {
				ev, err := d.EventBuffer.GetBufferedEvent(ctx, h)
				if ev == nil {
					return res(nil, err)
				}
				return res([]any{ev.Plaintext, ev.ServerTime}, err)
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			h := hash(r)
			return fmt.Sprintf("ClearBufferedEventPlaintext %x", h[:1]), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.EventBuffer.ClearBufferedEventPlaintext(ctx, h))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			return "DeleteOldBufferedHashes", func(ctx context.Context, d *store.Device) any {
				return res(nil, d.EventBuffer.DeleteOldBufferedHashes(ctx))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			a, sess, h, pt, fail := addr(r), randBytes(r, 7), hash(r), randBytes(r, 3), r.IntN(3) == 0
			k := key32(r)
			return fmt.Sprintf("DoDecryptionTxn %s %x fail=%v", a, h[:1], fail), func(ctx context.Context, d *store.Device) any {
				var inner []any
				err := d.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
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
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			l, p := pick(r, lidJID(r), pnJID(r)), pnJID(r)
			return fmt.Sprint("PutLIDMapping ", l, p), func(ctx context.Context, d *store.Device) any { return res(nil, d.LIDs.PutLIDMapping(ctx, l, p)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			var ms []store.LIDMapping
			for i := r.IntN(4); i > 0; i-- {
				ms = append(ms, store.LIDMapping{LID: lidJID(r).ToNonAD(), PN: pnJID(r).ToNonAD()})
			}
			return fmt.Sprint("PutManyLIDMappings ", ms), func(ctx context.Context, d *store.Device) any {
				return res(nil, d.LIDs.PutManyLIDMappings(ctx, slices.Clone(ms)))
			}
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			l := pick(r, lidJID(r), pnJID(r))
			return fmt.Sprint("GetPNForLID ", l), func(ctx context.Context, d *store.Device) any { return res(d.LIDs.GetPNForLID(ctx, l)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			p := pick(r, pnJID(r), lidJID(r))
			return fmt.Sprint("GetLIDForPN ", p), func(ctx context.Context, d *store.Device) any { return res(d.LIDs.GetLIDForPN(ctx, p)) }
		},
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
			ps := []types.JID{pnJID(r), pnJID(r), lidJID(r)}[:r.IntN(4)]
			return fmt.Sprint("GetManyLIDsForPNs ", ps), func(ctx context.Context, d *store.Device) any {
				m, err := d.LIDs.GetManyLIDsForPNs(ctx, ps)
				return res(sortedMap(m), err)
			}
		},
		// a transaction around other random calls, failing now and then
		func(r *rand.Rand, w *world, jid types.JID) (string, func(context.Context, *store.Device) any) {
			var descs []string
			var runs []func(context.Context, *store.Device) any
			for len(runs) < 1+r.IntN(4) {
				desc, run := inner[r.IntN(len(inner))](r, w, jid)
				if desc == "" || strings.HasPrefix(desc, "txn") {
					continue
				}
				descs, runs = append(descs, desc), append(runs, run)
			}
			fail := r.IntN(2) == 0
			return fmt.Sprintf("txn fail=%v %q", fail, descs), func(ctx context.Context, d *store.Device) any {
				var inside []any
				err := d.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
					for _, run := range runs {
						inside = append(inside, run(ctx, d))
					}
					if fail {
						return fmt.Errorf("fn failed")
					}
					return nil
				})
				return res(inside, err)
			}
		},
		// container
		func(r *rand.Rand, w *world, jid types.JID) (string, func(context.Context, *store.Device) any) {
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
		func(r *rand.Rand, w *world, jid types.JID) (string, func(context.Context, *store.Device) any) {
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
		func(r *rand.Rand, w *world, _ types.JID) (string, func(context.Context, *store.Device) any) {
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
	inner = ops
	return ops
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
