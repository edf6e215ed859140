package tracetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/google/uuid"
)

// The key space of generated traces. Phone numbers have 12 digits and LIDs 15
// so that no LIKE pattern of one ever matches the other; the first
// mappedContacts contacts have a fixed PN<->LID pair, the rest none. Pairs
// never change: sqlstore's LID cache goes stale when a pair is remapped, which
// is a quirk no other store should copy.
const (
	numSlots       = 3
	numContacts    = 40
	mappedContacts = 30
	hotContacts    = 10
	numGroups      = 8
	massContacts   = 200
)

var appStateNames = []string{"critical_block", "critical_unblock_low", "regular", "regular_high", "regular_low"}

func slotJID(i int) string  { return fmt.Sprintf("4917000000%02d:%d@s.whatsapp.net", i+1, 10+i) }
func slotLID(i int) string  { return fmt.Sprintf("1990000000000%02d:%d@lid", i+1, 10+i) }
func pnUser(k int) string   { return fmt.Sprintf("4915%08d", 10000+k) }
func lidUser(k int) string  { return fmt.Sprintf("2000000000%05d", k) }
func pnJID(k int) string    { return pnUser(k) + "@s.whatsapp.net" }
func lidJID(k int) string   { return lidUser(k) + "@lid" }
func groupJID(g int) string { return fmt.Sprintf("1203630000000%02d@g.us", g) }

// signal address of a contact's device, in PN or LID form
func addr(k, dev int, lid bool) string {
	if lid {
		return fmt.Sprintf("%s_1:%d", lidUser(k), dev)
	}
	return fmt.Sprintf("%s:%d", pnUser(k), dev)
}

type msgRec struct{ chat, sender, id string }

type gen struct {
	ctx   context.Context
	rng   *rand.Rand
	e     *Env
	w     *Writer
	n     int
	calls int
	count map[string]int

	state     [numSlots]int // 0 empty, 1 fresh, 2 saved
	maxPreKey [numSlots]uint32
	hashes    [numSlots][][]byte
	versions  [numSlots]map[string]uint64
	macs      [numSlots]map[string]map[string]uint64 // name -> index MAC -> version stored with
	syncIDs   [][]byte
	tsUp      int64
	tsDown    int64
	tokenTS   int64
	msgs      []msgRec
	msgSerial int
}

// Generate drives the store that open returns with a seeded random sequence
// of calls and writes every call with its result to out. It returns how often
// each method was called.
func Generate(ctx context.Context, open Opener, seed uint64, calls int, reference string, out io.Writer) (map[string]int, error) {
	e, err := NewEnv(ctx, open, numSlots)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	h := Header{Seed: seed, Calls: calls, Reference: reference}
	for i := 0; i < numSlots; i++ {
		h.Slots = append(h.Slots, Slot{JID: slotJID(i), LID: slotLID(i)})
	}
	w, err := NewWriter(out, h)
	if err != nil {
		return nil, err
	}
	g := &gen{ctx: ctx, rng: rand.New(rand.NewPCG(seed, 0x7761736d656f77)), e: e, w: w, calls: calls, count: map[string]int{},
		tsUp: 1_700_000_000, tsDown: 1_699_999_999, tokenTS: 1_700_000_000}
	for i := range g.versions {
		g.versions[i] = map[string]uint64{}
		g.macs[i] = map[string]map[string]uint64{}
	}
	for i := 0; i < 8; i++ {
		g.syncIDs = append(g.syncIDs, g.bytes(6))
	}
	// Two devices side by side from the start; the third comes and goes.
	for _, s := range []int{0, 1} {
		if err := g.newDevice(s); err != nil {
			return g.count, err
		}
	}
	table := g.table()
	total := 0
	for _, t := range table {
		total += t.weight
	}
	for g.n < calls {
		if err := g.ensureDevices(); err != nil {
			return g.count, err
		}
		r := g.rng.IntN(total)
		for _, t := range table {
			if r < t.weight {
				if err := t.fn(); err != nil {
					return g.count, err
				}
				break
			}
			r -= t.weight
		}
	}
	if err := w.Close(); err != nil {
		return g.count, err
	}
	return g.count, nil
}

type genEntry struct {
	weight int
	fn     func() error
}

// do runs one call, writes it, and returns its result.
func (g *gen) do(op string, dev int, args any) (json.RawMessage, string, error) {
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, "", fmt.Errorf("encode %s arguments: %w", op, err)
	}
	res, errText, err := g.e.Exec(g.ctx, op, dev, raw)
	if err != nil {
		return nil, "", fmt.Errorf("call %d %s: %w", g.n+1, op, err)
	}
	g.n++
	g.count[op]++
	return res, errText, g.w.Write(Line{N: g.n, Op: op, Dev: dev, Args: raw, Res: res, Err: errText})
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	return b
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// contact picks a contact index, mostly from a hot set so that reads hit.
func (g *gen) contact() int {
	if g.chance(0.7) {
		return g.rng.IntN(hotContacts)
	}
	return g.rng.IntN(numContacts)
}

func (g *gen) addr() string {
	k := g.contact()
	return addr(k, g.rng.IntN(3), k < mappedContacts && g.chance(0.4))
}

func (g *gen) userJID() string {
	k := g.contact()
	if k < mappedContacts && g.chance(0.4) {
		return lidJID(k)
	}
	return pnJID(k)
}

func (g *gen) chatJID() string {
	if g.chance(0.3) {
		return groupJID(g.rng.IntN(numGroups))
	}
	return g.userJID()
}

// identityKey is one of two keys per address so that IsTrustedIdentity sees
// both matches and mismatches.
func (g *gen) identityKey(a string) Bytes {
	k := make([]byte, 32)
	copy(k, a)
	k[31] = byte(g.rng.IntN(2))
	return k
}

// slot picks a slot with a saved device, mostly the first.
func (g *gen) slot() (int, bool) {
	if g.state[0] == 2 && g.chance(0.6) {
		return 0, true
	}
	var saved []int
	for i, s := range g.state {
		if s == 2 {
			saved = append(saved, i)
		}
	}
	if len(saved) == 0 {
		return 0, false
	}
	return saved[g.rng.IntN(len(saved))], true
}

// onSlot runs fn with a slot that has a saved device.
func (g *gen) onSlot(fn func(dev int) error) func() error {
	return func() error {
		dev, ok := g.slot()
		if !ok {
			return nil
		}
		return fn(dev)
	}
}

func (g *gen) ensureDevices() error {
	for _, s := range []int{0, 1} {
		if g.state[s] != 2 && g.chance(0.2) {
			return g.newDevice(s)
		}
	}
	return nil
}

func (g *gen) newDevice(s int) error {
	args := newDeviceArgs{Noise: g.bytes(32), Identity: g.bytes(32), SignedPreKey: g.bytes(32), Signature: g.bytes(64), RegistrationID: g.rng.Uint32(), AdvSecret: g.bytes(32)}
	if _, _, err := g.do("NewDevice", s, args); err != nil {
		return err
	}
	g.state[s], g.maxPreKey[s] = 1, 0
	if g.chance(0.2) {
		// Saving before the JID is known must fail.
		if _, _, err := g.do("PutDevice", s, putDeviceArgs{NoID: true}); err != nil {
			return err
		}
	}
	if g.chance(0.9) {
		return g.putDevice(s)
	}
	return nil
}

var platforms = []string{"android", "smba", "iphone", "web", ""}
var names = []string{"Alice", "Bob", "Café ☕", "", "Dr. Ümlaut", "李雷", "alice", "Zoë 🦊"}

func (g *gen) putDevice(s int) error {
	fb := uuid.Nil
	if g.chance(0.5) {
		fb = uuid.UUID([16]byte(g.bytes(16)))
	}
	lid := ""
	if g.chance(0.8) {
		lid = slotLID(s)
	}
	args := putDeviceArgs{
		ID: slotJID(s), LID: lid, Platform: platforms[g.rng.IntN(len(platforms))],
		BusinessName: names[g.rng.IntN(len(names))], PushName: names[g.rng.IntN(len(names))],
		LIDMigrationTS: int64(g.rng.IntN(3)) * g.tsUp, FacebookUUID: fb.String(),
		Account: accountArgs{Details: g.bytes(40), Sig: g.bytes(64), SigKey: g.bytes(32), DeviceSig: g.bytes(64)},
	}
	_, errText, err := g.do("PutDevice", s, args)
	if err == nil && errText == "" {
		g.state[s] = 2
	}
	return err
}

func (g *gen) table() []genEntry {
	return []genEntry{
		// sessions
		{40, g.onSlot(func(d int) error { _, _, err := g.do("GetSession", d, addrArgs{g.addr()}); return err })},
		{10, g.onSlot(func(d int) error { _, _, err := g.do("HasSession", d, addrArgs{g.addr()}); return err })},
		{10, g.onSlot(func(d int) error {
			n := g.rng.IntN(40)
			if g.chance(0.1) {
				n = 0
			}
			as := make([]string, n)
			for i := range as {
				as[i] = g.addr()
			}
			_, _, err := g.do("GetManySessions", d, addrsArgs{as})
			return err
		})},
		{40, g.onSlot(func(d int) error {
			_, _, err := g.do("PutSession", d, sessionArgs{g.addr(), g.bytes(40 + g.rng.IntN(120))})
			return err
		})},
		{6, g.onSlot(func(d int) error {
			m := map[string]Bytes{}
			for i := 2 + g.rng.IntN(40); i > 0; i-- {
				m[g.addr()] = g.bytes(40 + g.rng.IntN(120))
			}
			_, _, err := g.do("PutManySessions", d, manySessionsArgs{m})
			return err
		})},
		{4, g.onSlot(func(d int) error { _, _, err := g.do("DeleteAllSessions", d, phoneArgs{g.phone()}); return err })},
		{8, g.onSlot(func(d int) error { _, _, err := g.do("DeleteSession", d, addrArgs{g.addr()}); return err })},
		{6, g.onSlot(func(d int) error {
			k := g.contact()
			lid := lidJID(k)
			if k >= mappedContacts {
				lid = lidJID(100 + k)
			}
			_, _, err := g.do("MigratePNToLID", d, lidMapArgs{PN: pnJID(k), LID: lid})
			return err
		})},
		// identities
		{20, g.onSlot(func(d int) error {
			a := g.addr()
			_, _, err := g.do("PutIdentity", d, identityArgs{a, g.identityKey(a)})
			return err
		})},
		{20, g.onSlot(func(d int) error {
			a := g.addr()
			_, _, err := g.do("IsTrustedIdentity", d, identityArgs{a, g.identityKey(a)})
			return err
		})},
		{4, g.onSlot(func(d int) error { _, _, err := g.do("DeleteAllIdentities", d, phoneArgs{g.phone()}); return err })},
		{6, g.onSlot(func(d int) error { _, _, err := g.do("DeleteIdentity", d, addrArgs{g.addr()}); return err })},
		// prekeys
		{6, g.onSlot(func(d int) error {
			n := uint32(1 + g.rng.IntN(30))
			if g.chance(0.1) {
				n = 100
			}
			res, _, err := g.do("GetOrGenPreKeys", d, countArgs{n})
			var ks []preKeyRes
			_ = json.Unmarshal(res, &ks)
			for _, k := range ks {
				g.maxPreKey[d] = max(g.maxPreKey[d], k.ID)
			}
			return err
		})},
		{6, g.onSlot(func(d int) error {
			res, _, err := g.do("GenOnePreKey", d, struct{}{})
			var k preKeyRes
			_ = json.Unmarshal(res, &k)
			g.maxPreKey[d] = max(g.maxPreKey[d], k.ID)
			return err
		})},
		{10, g.onSlot(func(d int) error { _, _, err := g.do("GetPreKey", d, idArgs{g.preKeyID(d)}); return err })},
		{6, g.onSlot(func(d int) error { _, _, err := g.do("RemovePreKey", d, idArgs{g.preKeyID(d)}); return err })},
		{6, g.onSlot(func(d int) error { _, _, err := g.do("MarkPreKeysAsUploaded", d, idArgs{g.preKeyID(d)}); return err })},
		{8, g.onSlot(func(d int) error { _, _, err := g.do("UploadedPreKeyCount", d, struct{}{}); return err })},
		// sender keys
		{15, g.onSlot(func(d int) error {
			_, _, err := g.do("PutSenderKey", d, senderKeyArgs{g.group(), g.senderAddr(), g.bytes(60 + g.rng.IntN(100))})
			return err
		})},
		{15, g.onSlot(func(d int) error {
			_, _, err := g.do("GetSenderKey", d, senderKeyArgs{Group: g.group(), User: g.senderAddr()})
			return err
		})},
		// app state sync keys
		{6, g.onSlot(func(d int) error {
			_, _, err := g.do("PutAppStateSyncKey", d, syncKeyArgs{ID: g.syncID(), Data: g.bytes(32), Fingerprint: g.bytes(20), Timestamp: g.syncTS()})
			return err
		})},
		{6, g.onSlot(func(d int) error { _, _, err := g.do("GetAppStateSyncKey", d, syncKeyArgs{ID: g.syncID()}); return err })},
		{6, g.onSlot(func(d int) error { _, _, err := g.do("GetLatestAppStateSyncKeyID", d, struct{}{}); return err })},
		// app state
		{8, g.onSlot(func(d int) error {
			name := g.appName()
			v := g.versions[d][name] + uint64(1+g.rng.IntN(3))
			_, errText, err := g.do("PutAppStateVersion", d, appVersionArgs{Name: name, Version: v, Hash: g.bytes(128)})
			if errText == "" {
				g.versions[d][name] = v
			}
			return err
		})},
		{8, g.onSlot(func(d int) error {
			_, _, err := g.do("GetAppStateVersion", d, appVersionArgs{Name: g.appName()})
			return err
		})},
		{2, g.onSlot(func(d int) error {
			name := g.appName()
			_, _, err := g.do("DeleteAppStateVersion", d, appVersionArgs{Name: name})
			delete(g.macs[d], name)
			return err
		})},
		{6, g.onSlot(g.putMACs)},
		{4, g.onSlot(func(d int) error {
			name := g.appName()
			idx := make([]Bytes, 1+g.rng.IntN(20))
			for i := range idx {
				idx[i] = g.macIndex(d, name)
			}
			_, _, err := g.do("DeleteAppStateMutationMACs", d, macsArgs{Name: name, Indexes: idx})
			for _, b := range idx {
				delete(g.macs[d][name], string(b))
			}
			return err
		})},
		{10, g.onSlot(func(d int) error {
			name := g.appName()
			_, _, err := g.do("GetAppStateMutationMAC", d, macArgs{Name: name, Index: g.macIndex(d, name)})
			return err
		})},
		// contacts
		{10, g.onSlot(func(d int) error {
			_, _, err := g.do("PutPushName", d, contactArgs{JID: g.userJID(), Name: names[g.rng.IntN(len(names))]})
			return err
		})},
		{5, g.onSlot(func(d int) error {
			_, _, err := g.do("PutBusinessName", d, contactArgs{JID: g.userJID(), Name: names[g.rng.IntN(len(names))]})
			return err
		})},
		{6, g.onSlot(func(d int) error {
			_, _, err := g.do("PutContactName", d, contactArgs{JID: g.userJID(), First: names[g.rng.IntN(len(names))], Full: names[g.rng.IntN(len(names))] + " X"})
			return err
		})},
		{2, g.onSlot(func(d int) error {
			cs := make([]contactArgs, 1+g.rng.IntN(150))
			for i := range cs {
				cs[i] = contactArgs{JID: g.massJID(), First: names[g.rng.IntN(len(names))], Full: names[g.rng.IntN(len(names))] + " Y"}
			}
			_, _, err := g.do("PutAllContactNames", d, contactsArgs{cs})
			return err
		})},
		{2, g.onSlot(func(d int) error {
			cs := make([]contactArgs, 1+g.rng.IntN(100))
			for i := range cs {
				cs[i] = contactArgs{JID: g.massJID(), Name: fmt.Sprintf("+49∙∙∙∙∙∙%02d", g.rng.IntN(100))}
			}
			_, _, err := g.do("PutManyRedactedPhones", d, contactsArgs{cs})
			return err
		})},
		{12, g.onSlot(func(d int) error { _, _, err := g.do("GetContact", d, contactArgs{JID: g.userJID()}); return err })},
		{1, g.onSlot(func(d int) error { _, _, err := g.do("GetAllContacts", d, struct{}{}); return err })},
		// chat settings
		{4, g.onSlot(func(d int) error {
			until := []int64{-1, 0, g.tsUp + int64(g.rng.IntN(100000))}[g.rng.IntN(3)]
			_, _, err := g.do("PutMutedUntil", d, chatArgs{Chat: g.chatJID(), MutedUntil: until})
			return err
		})},
		{4, g.onSlot(func(d int) error {
			_, _, err := g.do("PutPinned", d, chatArgs{Chat: g.chatJID(), Value: g.chance(0.5)})
			return err
		})},
		{4, g.onSlot(func(d int) error {
			_, _, err := g.do("PutArchived", d, chatArgs{Chat: g.chatJID(), Value: g.chance(0.5)})
			return err
		})},
		{8, g.onSlot(func(d int) error { _, _, err := g.do("GetChatSettings", d, chatArgs{Chat: g.chatJID()}); return err })},
		// message secrets
		{8, g.onSlot(func(d int) error {
			m := g.msg()
			_, _, err := g.do("PutMessageSecret", d, secretArgs{Chat: m.chat, Sender: g.withDevice(m.sender), ID: m.id, Secret: g.bytes(32)})
			return err
		})},
		{3, g.onSlot(func(d int) error {
			ss := make([]secretArgs, 1+g.rng.IntN(50))
			for i := range ss {
				m := g.msg()
				ss[i] = secretArgs{Chat: m.chat, Sender: m.sender, ID: m.id, Secret: g.bytes(32)}
			}
			_, _, err := g.do("PutMessageSecrets", d, secretsArgs{ss})
			return err
		})},
		{10, g.onSlot(func(d int) error {
			var m msgRec
			if len(g.msgs) > 0 && g.chance(0.8) {
				m = g.msgs[g.rng.IntN(len(g.msgs))]
			} else {
				m = msgRec{chat: g.chatJID(), sender: g.userJID(), id: "3EB0ABSENT" + fmt.Sprint(g.rng.IntN(1000))}
			}
			_, _, err := g.do("GetMessageSecret", d, secretArgs{Chat: g.otherForm(m.chat), Sender: g.withDevice(g.otherForm(m.sender)), ID: m.id})
			return err
		})},
		// privacy tokens
		{5, g.onSlot(func(d int) error {
			seen := map[string]bool{}
			var ts []tokenArg
			for i := 1 + g.rng.IntN(5); i > 0; i-- {
				u := g.userJID()
				if seen[u] {
					continue
				}
				seen[u] = true
				g.tokenTS += 1 + int64(g.rng.IntN(100))
				ts = append(ts, tokenArg{User: g.withDevice(u), Token: g.bytes(24), Timestamp: g.tokenTS})
			}
			_, _, err := g.do("PutPrivacyTokens", d, tokensArgs{ts})
			return err
		})},
		{8, g.onSlot(func(d int) error {
			_, _, err := g.do("GetPrivacyToken", d, tokenArg{User: g.withDevice(g.userJID())})
			return err
		})},
		// event buffer
		{8, g.onSlot(func(d int) error { _, _, err := g.do("GetBufferedEvent", d, bufArgs{Hash: g.hash(d, 0.8)}); return err })},
		{8, g.onSlot(func(d int) error {
			_, _, err := g.do("PutBufferedEvent", d, bufArgs{Hash: g.hash(d, 0.05), Plaintext: g.bytes(20 + g.rng.IntN(200)), ServerTime: g.tsUp + int64(g.rng.IntN(1000))})
			return err
		})},
		{5, g.onSlot(func(d int) error {
			_, _, err := g.do("ClearBufferedEventPlaintext", d, bufArgs{Hash: g.hash(d, 0.8)})
			return err
		})},
		{2, g.onSlot(func(d int) error { _, _, err := g.do("DeleteOldBufferedHashes", d, struct{}{}); return err })},
		{40, g.onSlot(g.decryptionTxn)},
		// LID mappings
		{6, g.onSlot(func(d int) error {
			k := g.rng.IntN(mappedContacts)
			a := lidMapArgs{LID: lidJID(k), PN: pnJID(k)}
			if g.chance(0.1) {
				a = lidMapArgs{LID: pnJID(k), PN: lidJID(k)}
			}
			_, _, err := g.do("PutLIDMapping", d, a)
			return err
		})},
		{3, g.onSlot(func(d int) error {
			ms := make([]lidMapArgs, 5+g.rng.IntN(100))
			for i := range ms {
				k := g.rng.IntN(mappedContacts)
				if g.chance(0.6) {
					k = numContacts + g.rng.IntN(massContacts)
				}
				ms[i] = lidMapArgs{LID: lidJID(k), PN: pnJID(k)}
				if g.chance(0.05) {
					ms[i] = lidMapArgs{LID: groupJID(0), PN: pnJID(k)}
				}
			}
			_, _, err := g.do("PutManyLIDMappings", d, lidMapsArgs{ms})
			return err
		})},
		{8, g.onSlot(func(d int) error {
			l := g.withDevice(lidJID(g.mappedOrMass()))
			if g.chance(0.05) {
				l = pnJID(0)
			}
			_, _, err := g.do("GetPNForLID", d, lidMapArgs{LID: l})
			return err
		})},
		{8, g.onSlot(func(d int) error {
			p := g.withDevice(pnJID(g.mappedOrMass()))
			if g.chance(0.05) {
				p = lidJID(0)
			}
			_, _, err := g.do("GetLIDForPN", d, lidMapArgs{PN: p})
			return err
		})},
		{5, g.onSlot(func(d int) error {
			js := make([]string, 1+g.rng.IntN(40))
			for i := range js {
				js[i] = pnJID(g.mappedOrMass())
				if g.chance(0.05) {
					js[i] = groupJID(1)
				}
			}
			_, _, err := g.do("GetManyLIDsForPNs", d, jidsArgs{js})
			return err
		})},
		// container
		{2, func() error {
			s := g.rng.IntN(numSlots)
			if g.state[s] == 2 && !g.chance(0.2) {
				return nil
			}
			// On a saved slot this is a re-pair over the same JID: sqlstore
			// keeps the stored keys and updates only the mutable fields.
			return g.newDevice(s)
		}},
		{3, g.onSlot(g.putDevice)},
		{2, func() error { _, _, err := g.do("GetFirstDevice", -1, struct{}{}); return err }},
		{3, func() error {
			j := slotJID(g.rng.IntN(numSlots))
			if g.chance(0.2) {
				j = "491799999999:1@s.whatsapp.net"
			}
			_, _, err := g.do("GetDevice", -1, jidsArgs{[]string{j}})
			return err
		}},
		{2, func() error { _, _, err := g.do("GetAllDevices", -1, struct{}{}); return err }},
		{2, func() error {
			switch {
			case g.chance(0.25):
				_, _, err := g.do("DeleteDevice", -1, jidsArgs{[]string{"491799999999:1@s.whatsapp.net"}})
				return err
			case g.chance(0.1):
				_, _, err := g.do("DeleteDevice", -1, jidsArgs{})
				return err
			}
			// Mostly the third device, which comes and goes; rarely the
			// main ones, which then start over empty.
			dev, ok := 2, g.state[2] == 2
			if !ok {
				if !g.chance(0.3) {
					return nil
				}
				if dev, ok = g.slot(); !ok {
					return nil
				}
			}
			_, errText, err := g.do("DeleteDevice", dev, struct{}{})
			if errText == "" {
				g.state[dev] = 0
				g.versions[dev] = map[string]uint64{}
				g.macs[dev] = map[string]map[string]uint64{}
				g.hashes[dev] = nil
			}
			return err
		}},
		{1, func() error {
			_, _, err := g.do("Reopen", -1, struct{}{})
			for i := range g.state {
				if g.state[i] == 1 {
					g.state[i] = 0
				}
			}
			return err
		}},
	}
}

// group and senderAddr keep sender keys on a small set of groups and members
// so that reads hit.
func (g *gen) group() string { return groupJID(g.rng.IntN(3)) }

func (g *gen) senderAddr() string {
	k := g.rng.IntN(5)
	return addr(k, 0, k < mappedContacts && g.chance(0.3))
}

func (g *gen) phone() string {
	k := g.contact()
	if k < mappedContacts && g.chance(0.4) {
		return lidUser(k) + "_1"
	}
	return pnUser(k)
}

func (g *gen) preKeyID(d int) uint32 { return uint32(g.rng.IntN(int(g.maxPreKey[d]) + 4)) }

func (g *gen) syncID() Bytes { return g.syncIDs[g.rng.IntN(len(g.syncIDs))] }

// syncTS returns timestamps that never repeat, mostly rising, sometimes older
// than all before: "latest key" is then always well defined.
func (g *gen) syncTS() int64 {
	if g.chance(0.2) {
		g.tsDown -= 1 + int64(g.rng.IntN(1000))
		return g.tsDown
	}
	g.tsUp += 1 + int64(g.rng.IntN(1000))
	return g.tsUp
}

func (g *gen) appName() string { return appStateNames[g.rng.IntN(len(appStateNames))] }

func (g *gen) macIndex(d int, name string) Bytes {
	known := g.macs[d][name]
	if len(known) > 0 && g.chance(0.7) {
		return Bytes(g.pick(known))
	}
	return g.bytes(32)
}

func (g *gen) putMACs(d int) error {
	name := g.appName()
	if g.versions[d][name] == 0 && g.chance(0.8) {
		// Mostly as whatsmeow does it: a version row first (the MACs
		// reference it); sometimes without, which sqlstore refuses.
		v := uint64(1 + g.rng.IntN(3))
		_, errText, err := g.do("PutAppStateVersion", d, appVersionArgs{Name: name, Version: v, Hash: g.bytes(128)})
		if err != nil {
			return err
		}
		if errText == "" {
			g.versions[d][name] = v
		}
	}
	v := g.versions[d][name]
	if g.chance(0.3) {
		v++ // a version not (yet) stored with PutAppStateVersion
	}
	if g.macs[d][name] == nil {
		g.macs[d][name] = map[string]uint64{}
	}
	known := g.macs[d][name]
	muts := make([]macArgs, 1+g.rng.IntN(120))
	inBatch := map[string]bool{}
	for i := range muts {
		idx := Bytes(g.bytes(32))
		// Rewrite an index MAC stored with an older version: the newest wins.
		if len(known) > 0 && g.chance(0.3) {
			k := g.pick(known)
			if known[k] < v && !inBatch[k] {
				idx = Bytes(k)
			}
		}
		if i > 0 && i == len(muts)-1 && g.chance(0.05) {
			idx = muts[0].Index // a duplicate in one batch: the whole batch fails
		}
		inBatch[string(idx)] = true
		muts[i] = macArgs{Index: idx, Value: g.bytes(32)}
	}
	_, errText, err := g.do("PutAppStateMutationMACs", d, macsArgs{Name: name, Version: v, Mutations: muts})
	if errText == "" {
		for _, m := range muts {
			known[string(m.Index)] = v
		}
	}
	return err
}

func (g *gen) massJID() string {
	if g.chance(0.3) {
		return g.userJID()
	}
	k := numContacts + g.rng.IntN(massContacts)
	if g.chance(0.3) {
		return lidJID(k)
	}
	return pnJID(k)
}

func (g *gen) mappedOrMass() int {
	if g.chance(0.3) {
		return numContacts + g.rng.IntN(massContacts)
	}
	return g.contact()
}

// withDevice sometimes gives a user JID a device part: the stores must treat
// it as the user (ToNonAD) where sqlstore does.
func (g *gen) withDevice(j string) string {
	if j == "" || !g.chance(0.2) || strings.HasSuffix(j, "@g.us") {
		return j
	}
	user, server, _ := strings.Cut(j, "@")
	return fmt.Sprintf("%s:%d@%s", user, 1+g.rng.IntN(5), server)
}

// otherForm swaps a mapped contact's PN and LID form half of the time: message
// secrets must be found under either.
func (g *gen) otherForm(j string) string {
	if !g.chance(0.5) {
		return j
	}
	for k := 0; k < mappedContacts; k++ {
		switch j {
		case pnJID(k):
			return lidJID(k)
		case lidJID(k):
			return pnJID(k)
		}
	}
	return j
}

// msg returns a message: usually a new one, sometimes one already stored (its
// secret must then stay the first one). A message keeps the one chat/sender
// form it was first stored under, so that a lookup matches at most one row.
func (g *gen) msg() msgRec {
	if len(g.msgs) > 0 && g.chance(0.2) {
		return g.msgs[g.rng.IntN(len(g.msgs))]
	}
	g.msgSerial++
	chat := g.chatJID()
	sender := chat
	if strings.HasSuffix(chat, "@g.us") || g.chance(0.3) {
		sender = g.userJID()
	}
	m := msgRec{chat: chat, sender: sender, id: fmt.Sprintf("3EB0%012X", g.msgSerial)}
	g.msgs = append(g.msgs, m)
	return m
}

// hash returns a ciphertext hash of slot d: a known one with probability
// known, else a new one (remembered).
func (g *gen) hash(d int, known float64) Bytes {
	if len(g.hashes[d]) > 0 && g.chance(known) {
		return g.hashes[d][g.rng.IntN(len(g.hashes[d]))]
	}
	h := g.bytes(32)
	g.hashes[d] = append(g.hashes[d], h)
	return h
}

func (g *gen) step(op string, args any) txnStep {
	raw, _ := json.Marshal(args)
	return txnStep{Op: op, Args: raw}
}

// decryptionTxn is shaped like whatsmeow's decryption of one message.
func (g *gen) decryptionTxn(d int) error {
	a := g.addr()
	key := g.identityKey(a)
	h := g.hash(d, 0.05)
	steps := []txnStep{
		g.step("GetSession", addrArgs{a}),
		g.step("IsTrustedIdentity", identityArgs{a, key}),
	}
	if g.chance(0.2) {
		id := g.preKeyID(d)
		steps = append(steps, g.step("GetPreKey", idArgs{id}), g.step("RemovePreKey", idArgs{id}))
	}
	steps = append(steps,
		g.step("PutIdentity", identityArgs{a, key}),
		g.step("PutSession", sessionArgs{a, g.bytes(40 + g.rng.IntN(120))}),
	)
	if g.chance(0.2) {
		grp := groupJID(g.rng.IntN(numGroups))
		steps = append(steps, g.step("GetSenderKey", senderKeyArgs{Group: grp, User: a}), g.step("PutSenderKey", senderKeyArgs{grp, a, g.bytes(80)}))
	}
	steps = append(steps, g.step("PutBufferedEvent", bufArgs{Hash: h, Plaintext: g.bytes(20 + g.rng.IntN(300)), ServerTime: g.tsUp}))
	if g.chance(0.3) {
		steps = append(steps, g.step("ClearBufferedEventPlaintext", bufArgs{Hash: h}))
	}
	if g.chance(0.3) {
		steps = append(steps, g.step("GetBufferedEvent", bufArgs{Hash: h}), g.step("HasSession", addrArgs{a}))
	}
	_, _, err := g.do("DoDecryptionTxn", d, txnArgs{Steps: steps, Fail: g.chance(0.25)})
	return err
}

// pick returns a random key of m, chosen from its sorted keys so that map
// order never makes a generation run differ.
func (g *gen) pick(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys[g.rng.IntN(len(keys))]
}

// ErrMissingMethods is returned by CheckCoverage.
var ErrMissingMethods = errors.New("methods never called")

// CheckCoverage reports the methods a generation run never called.
func CheckCoverage(count map[string]int) error {
	var missing []string
	for _, m := range Methods() {
		if count[m] == 0 {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingMethods, strings.Join(missing, ", "))
	}
	return nil
}
