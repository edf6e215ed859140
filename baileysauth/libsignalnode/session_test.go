package libsignalnode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mau.fi/libsignal/state/record"

	"github.com/wasmeow/wasmeow/baileysauth/libsignalnode"
)

func putSession(t *testing.T, dev interface {
	PutSession(context.Context, string, []byte) error
}, addr string, rec []byte) {
	t.Helper()
	if err := dev.PutSession(context.Background(), addr, rec); err != nil {
		t.Fatal(err)
	}
}

func toGo(t *testing.T, nodeRec []byte, p partyKeys) []byte {
	t.Helper()
	out, dropped, err := libsignalnode.SessionToWhatsmeow(nodeRec, p.local(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped) != 0 {
		t.Fatalf("dropped %q", dropped)
	}
	return out
}

func wantText(t *testing.T, got string, err error, want string) {
	t.Helper()
	if err != nil || got != want {
		t.Fatalf("decrypted %q, %v; want %q", got, err, want)
	}
}

// Bob's record from libsignal-node, converted, decrypts in whatsmeow what
// Alice's libsignal-node sent after it was saved: a message Bob skipped
// (its key kept as a seed) and one on Alice's next ratchet step. And
// whatsmeow, encrypting from the converted record, writes byte for byte
// the message libsignal-node wrote from the original.
func TestNodeSessionGoesOnInWhatsmeow(t *testing.T) {
	f := loadFixture(t)
	bob := device(t, f.Bob)
	putSession(t, bob.Sessions, "alice:1", toGo(t, f.BobRecord, f.Bob))
	for _, m := range f.ToBob {
		got, err := decrypt(t, bob, "alice", m)
		wantText(t, got, err, m.Text)
	}
	// Decrypting again fails: the converted keys are used up as libsignal-node's would be.
	if _, err := decrypt(t, bob, "alice", f.ToBob[0]); err == nil {
		t.Fatal("a message decrypted twice")
	}

	fresh := device(t, f.Bob)
	putSession(t, fresh.Sessions, "alice:1", toGo(t, f.BobRecord, f.Bob))
	b3 := encrypt(t, fresh, "alice", f.ToAlice[0].Text)
	if b3.Type != "msg" || !bytes.Equal(b3.Body, f.ToAlice[0].Body) {
		t.Fatalf("whatsmeow wrote %x\nlibsignal-node wrote %x", b3.Body, f.ToAlice[0].Body)
	}

	alice := device(t, f.Alice)
	putSession(t, alice.Sessions, "bob:1", toGo(t, f.AliceRecord, f.Alice))
	got, err := decrypt(t, alice, "bob", f.ToAlice[0])
	wantText(t, got, err, "b3")
}

// Carol's libsignal-node record still waits for an answer: converted, her
// next message from whatsmeow is again a prekey message, which Bob (here
// whatsmeow with Bob's prekeys) accepts after her first one.
func TestPendingPreKeySurvives(t *testing.T) {
	f := loadFixture(t)
	carol := device(t, f.Carol)
	goRec := toGo(t, f.CarolRecord, f.Carol)
	putSession(t, carol.Sessions, "bob:1", goRec)
	c2 := encrypt(t, carol, "bob", "c2")
	if c2.Type != "pkmsg" {
		t.Fatalf("whatsmeow sent a %s, want a prekey message while unacknowledged", c2.Type)
	}
	bob := device(t, f.Bob)
	got, err := decrypt(t, bob, "carol", f.CarolToBob)
	wantText(t, got, err, "c1")
	got, err = decrypt(t, bob, "carol", c2)
	wantText(t, got, err, "c2")

	back, dropped, err := libsignalnode.SessionFromWhatsmeow(goRec, time.Now())
	if err != nil || len(dropped) != 0 {
		t.Fatal(err, dropped)
	}
	var rec struct {
		Sessions map[string]struct {
			IndexInfo     struct{ BaseKeyType int }
			PendingPreKey *struct {
				SignedKeyID uint32 `json:"signedKeyId"`
				PreKeyID    *uint32
				BaseKey     []byte
			}
		} `json:"_sessions"`
	}
	if err := json.Unmarshal(back, &rec); err != nil {
		t.Fatal(err)
	}
	for id, s := range rec.Sessions {
		if s.PendingPreKey == nil || s.PendingPreKey.PreKeyID == nil || *s.PendingPreKey.PreKeyID != 32 || s.PendingPreKey.SignedKeyID != 1 {
			t.Fatalf("pending prekey %+v", s.PendingPreKey)
		}
		if s.IndexInfo.BaseKeyType != 1 || id != b64(s.PendingPreKey.BaseKey) {
			t.Fatalf("base key type %d (want 1, ours), id %s", s.IndexInfo.BaseKeyType, id)
		}
	}
}

// whatsmeow -> libsignal-node -> whatsmeow keeps every field but the
// skipped message keys of receiving chains, which libsignal-node would need
// as seeds; they are reported. The state comes from whatsmeow's own
// ratchet steps (the converted record after whatsmeow decrypted and sent).
func TestWhatsmeowSessionRoundTrip(t *testing.T) {
	f := loadFixture(t)
	bob := device(t, f.Bob)
	putSession(t, bob.Sessions, "alice:1", toGo(t, f.BobRecord, f.Bob))
	got, err := decrypt(t, bob, "alice", f.ToBob[1]) // a4 only: a2 stays skipped
	wantText(t, got, err, "a4")
	encrypt(t, bob, "alice", "from whatsmeow")
	goRec, err := bob.Sessions.GetSession(context.Background(), "alice:1")
	if err != nil {
		t.Fatal(err)
	}

	nodeRec, dropped, err := libsignalnode.SessionFromWhatsmeow(goRec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped) != 1 || !strings.Contains(dropped[0], "1 skipped message keys") {
		t.Fatalf("dropped %q, want the one skipped key of a2", dropped)
	}
	again, dropped, err := libsignalnode.SessionToWhatsmeow(nodeRec, f.Bob.local(t))
	if err != nil || len(dropped) != 0 {
		t.Fatal(err, dropped)
	}
	want, gotRec := structure(t, goRec), structure(t, again)
	for _, rc := range want.SessionState.ReceiverChains {
		rc.MessageKeys = nil
	}
	for _, rc := range gotRec.SessionState.ReceiverChains {
		rc.MessageKeys = nil
	}
	if !reflect.DeepEqual(want, gotRec) {
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(gotRec)
		t.Fatalf("round trip changed the record\nwant %s\ngot  %s", w, g)
	}
}

// libsignal-node -> whatsmeow -> libsignal-node keeps the ratchet, chains,
// counters and pending prekey; a closed chain comes back with a key that
// derives nothing valid, and the skipped keys are reported.
func TestNodeSessionRoundTrip(t *testing.T) {
	f := loadFixture(t)
	for _, c := range []struct {
		name string
		rec  []byte
		p    partyKeys
	}{{"bob", f.BobRecord, f.Bob}, {"alice", f.AliceRecord, f.Alice}, {"carol", f.CarolRecord, f.Carol}} {
		t.Run(c.name, func(t *testing.T) {
			back, dropped, err := libsignalnode.SessionFromWhatsmeow(toGo(t, c.rec, c.p), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			want, got := nodeShape(t, c.rec), nodeShape(t, back)
			keysKept := 0
			for id, ws := range want {
				gs := got[id]
				for i := range ws.Chains {
					if ws.Chains[i].Key == "" { // closed: any key, it derives nothing valid
						gs.Chains[i].Key = ""
					}
					keysKept += ws.Chains[i].MessageKeys
					ws.Chains[i].MessageKeys = 0
				}
				// whatsmeow does not record who began: the initiator's mark
				// survives only while its prekey message is unanswered.
				if ws.Pending == nil && ws.BaseKeyType == 1 {
					ws.BaseKeyType = 2
				}
				if len(gs.Chains) == len(ws.Chains)+1 && gs.Chains[0].ID == lastRemote(t, ws.Ratchet) {
					// Carol before an answer: the peer's signed prekey, kept
					// by whatsmeow as a receiving chain, comes back as one.
					gs.Chains = gs.Chains[1:]
				}
				want[id] = ws
				got[id] = gs
			}
			if !reflect.DeepEqual(want, got) {
				w, _ := json.Marshal(want)
				g, _ := json.Marshal(got)
				t.Fatalf("round trip changed the record\nwant %s\ngot  %s", w, g)
			}
			if (keysKept > 0) != (len(dropped) > 0) {
				t.Fatalf("%d skipped keys, dropped %q", keysKept, dropped)
			}
		})
	}
}

// shapeEntry is what of a libsignal-node session must survive a round trip.
type shapeEntry struct {
	RegistrationID uint32
	Ratchet        json.RawMessage
	BaseKey        string
	BaseKeyType    int
	Open           bool
	RemoteIdentity string
	Pending        json.RawMessage
	Chains         []shapeChain
}

type shapeChain struct {
	ID, Key       string
	Counter, Type int
	MessageKeys   int
}

func nodeShape(t *testing.T, rec []byte) map[string]shapeEntry {
	t.Helper()
	var raw struct {
		Sessions map[string]struct {
			RegistrationID uint32          `json:"registrationId"`
			CurrentRatchet json.RawMessage `json:"currentRatchet"`
			IndexInfo      struct {
				BaseKey           string `json:"baseKey"`
				BaseKeyType       int    `json:"baseKeyType"`
				Closed            int64  `json:"closed"`
				RemoteIdentityKey string `json:"remoteIdentityKey"`
			} `json:"indexInfo"`
			Chains        json.RawMessage `json:"_chains"`
			PendingPreKey json.RawMessage `json:"pendingPreKey"`
		} `json:"_sessions"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(rec, &raw); err != nil || raw.Version != "v1" {
		t.Fatal(err, raw.Version)
	}
	out := map[string]shapeEntry{}
	for id, s := range raw.Sessions {
		e := shapeEntry{
			RegistrationID: s.RegistrationID, Ratchet: compact(t, s.CurrentRatchet), BaseKey: s.IndexInfo.BaseKey,
			BaseKeyType: s.IndexInfo.BaseKeyType, Open: s.IndexInfo.Closed == -1, RemoteIdentity: s.IndexInfo.RemoteIdentityKey,
			Pending: compact(t, s.PendingPreKey),
		}
		dec := json.NewDecoder(bytes.NewReader(s.Chains))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		for dec.More() {
			k, _ := dec.Token()
			var c struct {
				ChainKey struct {
					Counter int    `json:"counter"`
					Key     string `json:"key"`
				} `json:"chainKey"`
				ChainType   int               `json:"chainType"`
				MessageKeys map[string]string `json:"messageKeys"`
			}
			if err := dec.Decode(&c); err != nil {
				t.Fatal(err)
			}
			e.Chains = append(e.Chains, shapeChain{k.(string), c.ChainKey.Key, c.ChainKey.Counter, c.ChainType, len(c.MessageKeys)})
		}
		// Chain order among receiving chains matters; the sending chain's
		// place in the object does not.
		sortSendingLast(e.Chains)
		out[id] = e
	}
	return out
}

func sortSendingLast(cs []shapeChain) {
	for i, c := range cs {
		if c.Type == 1 {
			copy(cs[i:], cs[i+1:])
			cs[len(cs)-1] = c
			return
		}
	}
}

func compact(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v) // sorted keys
	return out
}

func structure(t *testing.T, rec []byte) *record.SessionStructure {
	t.Helper()
	s, err := pb.Session.Deserialize(rec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBadSessionRecords(t *testing.T) {
	f := loadFixture(t)
	local := f.Bob.local(t)
	for name, rec := range map[string]string{
		"not json":      `{`,
		"old version":   `{"_sessions":{},"version":"v0"}`,
		"short root":    strings.Replace(string(f.BobRecord), `"rootKey":"`, `"rootKey":"AAAA`, 1),
		"bad type byte": strings.Replace(string(f.BobRecord), `"remoteIdentityKey":"B`, `"remoteIdentityKey":"C`, 1),
		"no chains":     strings.Replace(string(f.BobRecord), `"_chains":{`, `"_chains":{},"x":{`, 1),
	} {
		if _, _, err := libsignalnode.SessionToWhatsmeow([]byte(rec), local); err == nil {
			t.Errorf("%s: converted", name)
		}
	}
	closed := strings.Replace(string(f.BobRecord), `"closed":-1`, `"closed":1700000000000`, 1)
	if _, _, err := libsignalnode.SessionToWhatsmeow([]byte(closed), local); !errors.Is(err, libsignalnode.ErrNoOpenSession) {
		t.Errorf("only closed sessions: %v", err)
	}
	if _, _, err := libsignalnode.SessionFromWhatsmeow([]byte(`{"SessionState":{}}`), time.Now()); !errors.Is(err, libsignalnode.ErrNoOpenSession) {
		t.Errorf("empty whatsmeow state: %v", err)
	}
	// Hostile whatsmeow records: an error, never a panic.
	for _, rec := range []string{
		`[]`, `{"SessionState":null}`,
		`{"SessionState":{"SenderChain":{},"ReceiverChains":[null]}}`,
		`{"SessionState":{"SenderChain":{"ChainKey":null},"ReceiverChains":[{}]}}`,
		`{"SessionState":{"SenderChain":{"SenderRatchetKeyPublic":"BQ=="},"ReceiverChains":[{"SenderRatchetKeyPublic":""}]},"PreviousStates":[null]}`,
	} {
		if _, _, err := libsignalnode.SessionFromWhatsmeow([]byte(rec), time.Now()); err == nil {
			t.Errorf("%s: converted", rec)
		}
	}
	for _, rec := range []string{`[]`, `[null]`, `[{"SenderChainKey":null}]`, `[{"SenderChainKey":{},"SigningKeyPublic":"BQ=="}]`} {
		if _, err := libsignalnode.SenderKeyFromWhatsmeow([]byte(`{"SenderKeyStates":` + rec + `}`)); err == nil && rec != `[]` {
			t.Errorf("sender key %s: converted", rec)
		}
	}
}

func lastRemote(t *testing.T, ratchet json.RawMessage) string {
	var r struct {
		LastRemoteEphemeralKey string `json:"lastRemoteEphemeralKey"`
	}
	if err := json.Unmarshal(ratchet, &r); err != nil {
		t.Fatal(err)
	}
	return r.LastRemoteEphemeralKey
}
