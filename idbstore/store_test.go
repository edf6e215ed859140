package idbstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

// probe wraps a backend to count round trips, record commits, hold commits
// back and make them fail.
type probe struct {
	kv.Backend
	mu        sync.Mutex
	gets      int
	scans     int
	commits   [][]kv.Op
	failWith  error
	gate      chan struct{}
	entered   chan struct{} // told (if set) when a commit starts, before the gate
	scanGate  chan struct{} // holds every Scan (if set) until closed
	noClosing bool
}

func (p *probe) Get(ctx context.Context, table string, keys []string) ([][]byte, error) {
	p.mu.Lock()
	p.gets++
	p.mu.Unlock()
	return p.Backend.Get(ctx, table, keys)
}

func (p *probe) Scan(ctx context.Context, table, prefix string) ([]kv.Pair, error) {
	p.mu.Lock()
	p.scans++
	gate := p.scanGate
	p.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return p.Backend.Scan(ctx, table, prefix)
}

func (p *probe) Commit(ctx context.Context, ops []kv.Op) error {
	p.mu.Lock()
	gate, fail, entered := p.gate, p.failWith, p.entered
	p.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		<-gate
	}
	if fail != nil {
		return fail
	}
	p.mu.Lock()
	p.commits = append(p.commits, append([]kv.Op(nil), ops...))
	p.mu.Unlock()
	return p.Backend.Commit(ctx, ops)
}

func (p *probe) Close() error {
	if p.noClosing {
		return nil
	}
	return p.Backend.Close()
}

func (p *probe) counts() (gets, scans, commits int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gets, p.scans, len(p.commits)
}

func (p *probe) reset() {
	p.mu.Lock()
	p.gets, p.scans, p.commits = 0, 0, nil
	p.mu.Unlock()
}

var ctx = context.Background()

// open returns a container on a fresh probe over memkv with one saved device.
func open(t *testing.T) (*idbstore.Container, *probe, *store.Device) {
	t.Helper()
	p := &probe{Backend: memkv.New(), noClosing: true}
	c, err := idbstore.New(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	d := randomDevice(rand.New(rand.NewPCG(1, 2)), c, types.NewADJID("5551234", 0, 7))
	if err := c.PutDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.reset()
	return c, p, d
}

func reopen(t *testing.T, c *idbstore.Container, p *probe) *idbstore.Container {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, err := idbstore.New(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c2.Close() })
	return c2
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCompileTimeShape(t *testing.T) {
	var _ store.DeviceContainer = (*idbstore.Container)(nil)
	var _ store.AllStores = (*idbstore.Store)(nil)
	if len(idbstore.Tables) == 0 {
		t.Fatal("no tables")
	}
}

func TestNewDeviceAndGetFirstDevice(t *testing.T) {
	c, err := idbstore.New(ctx, memkv.New(), nil)
	must(t, err)
	defer c.Close()
	d, err := c.GetFirstDevice(ctx)
	must(t, err)
	if d.ID != nil || d.NoiseKey == nil || d.SignedPreKey == nil || d.Initialized {
		t.Fatalf("GetFirstDevice on an empty container: %+v", d)
	}
	if err := c.PutDevice(ctx, d); !errors.Is(err, idbstore.ErrDeviceIDMustBeSet) {
		t.Fatalf("PutDevice without ID: %v", err)
	}
	got, err := c.GetDevice(ctx, types.NewADJID("1", 0, 1))
	if got != nil || err != nil {
		t.Fatalf("GetDevice of unknown JID: %v, %v", got, err)
	}
}

// fillDevice writes one record into every store of d.
func fillDevice(t *testing.T, d *store.Device) {
	t.Helper()
	pn := types.NewJID("1000", types.DefaultUserServer)
	lid := types.NewJID("9000", types.HiddenUserServer)
	must(t, d.Identities.PutIdentity(ctx, "1000:0", [32]byte{1}))
	must(t, d.Sessions.PutSession(ctx, "1000:0", []byte("session")))
	_, err := d.PreKeys.GetOrGenPreKeys(ctx, 5)
	must(t, err)
	must(t, d.PreKeys.MarkPreKeysAsUploaded(ctx, 3))
	must(t, d.SenderKeys.PutSenderKey(ctx, "1@g.us", "1000:0", []byte("sk")))
	must(t, d.AppStateKeys.PutAppStateSyncKey(ctx, []byte{7}, store.AppStateSyncKey{Data: []byte("d"), Fingerprint: []byte("f"), Timestamp: 5}))
	must(t, d.AppState.PutAppStateVersion(ctx, "regular", 3, [128]byte{9}))
	must(t, d.AppState.PutAppStateMutationMACs(ctx, "regular", 3, []store.AppStateMutationMAC{{IndexMAC: make([]byte, 32), ValueMAC: bytes32(4)}}))
	_, _, err = d.Contacts.PutPushName(ctx, pn, "Ann")
	must(t, err)
	must(t, d.ChatSettings.PutPinned(ctx, pn, true))
	must(t, d.MsgSecrets.PutMessageSecret(ctx, pn, pn, "M1", []byte("secret")))
	must(t, d.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: pn, Token: []byte("tok"), Timestamp: time.Unix(100, 0)}))
	must(t, d.EventBuffer.PutBufferedEvent(ctx, [32]byte{3}, []byte("pt"), time.Unix(50, 0)))
	must(t, d.LIDs.PutLIDMapping(ctx, lid, pn))
}

func bytes32(b byte) []byte {
	out := make([]byte, 32)
	out[0] = b
	return out
}

// checkDevice reads back what fillDevice wrote.
func checkDevice(t *testing.T, d *store.Device) {
	t.Helper()
	pn := types.NewJID("1000", types.DefaultUserServer)
	lid := types.NewJID("9000", types.HiddenUserServer)
	expect := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
	trusted, err := d.Identities.IsTrustedIdentity(ctx, "1000:0", [32]byte{2})
	must(t, err)
	expect("identity trusted with another key", trusted, false)
	sess, err := d.Sessions.GetSession(ctx, "1000:0")
	must(t, err)
	expect("session", string(sess), "session")
	n, err := d.PreKeys.UploadedPreKeyCount(ctx)
	must(t, err)
	expect("uploaded prekeys", n, 3)
	pk, err := d.PreKeys.GetPreKey(ctx, 5)
	must(t, err)
	expect("prekey 5", pk != nil && pk.KeyID == 5, true)
	sk, err := d.SenderKeys.GetSenderKey(ctx, "1@g.us", "1000:0")
	must(t, err)
	expect("sender key", string(sk), "sk")
	latest, err := d.AppStateKeys.GetLatestAppStateSyncKeyID(ctx)
	must(t, err)
	expect("latest sync key", latest, []byte{7})
	ver, hash, err := d.AppState.GetAppStateVersion(ctx, "regular")
	must(t, err)
	expect("app state version", []any{ver, hash[0]}, []any{3, 9})
	mac, err := d.AppState.GetAppStateMutationMAC(ctx, "regular", make([]byte, 32))
	must(t, err)
	expect("mutation MAC", mac, bytes32(4))
	contact, err := d.Contacts.GetContact(ctx, pn)
	must(t, err)
	expect("contact", contact.PushName, "Ann")
	cs, err := d.ChatSettings.GetChatSettings(ctx, pn)
	must(t, err)
	expect("pinned", cs.Pinned, true)
	secret, sender, err := d.MsgSecrets.GetMessageSecret(ctx, pn, lid, "M1")
	must(t, err)
	expect("message secret via the LID twin of the sender", []any{string(secret), sender}, []any{"secret", pn})
	tok, err := d.PrivacyTokens.GetPrivacyToken(ctx, lid)
	must(t, err)
	expect("privacy token via the LID twin", tok != nil && string(tok.Token) == "tok", true)
	ev, err := d.EventBuffer.GetBufferedEvent(ctx, [32]byte{3})
	must(t, err)
	expect("buffered event", ev != nil && string(ev.Plaintext) == "pt" && ev.ServerTime.Unix() == 50, true)
	gotPN, err := d.LIDs.GetPNForLID(ctx, lid)
	must(t, err)
	expect("PN for LID", gotPN, pn)
}

func TestCloseReopenKeepsEveryDeviceAndKey(t *testing.T) {
	c, p, d := open(t)
	d2 := randomDevice(rand.New(rand.NewPCG(3, 4)), c, types.NewADJID("5559999", 0, 2))
	must(t, c.PutDevice(ctx, d2))
	fillDevice(t, d)
	checkDevice(t, d)

	c = reopen(t, c, p)
	p.reset()
	devices, err := c.GetAllDevices(ctx)
	must(t, err)
	if len(devices) != 2 || devices[0].ID.String() != d.ID.String() || devices[1].ID.String() != d2.ID.String() {
		t.Fatalf("devices after reopen: %v", devices)
	}
	if deviceString(devices[0]) != deviceString(d) {
		t.Fatalf("device record changed across reopen:\n before %s\n after  %s", deviceString(d), deviceString(devices[0]))
	}
	checkDevice(t, devices[0])
	gets, scans, _ := p.counts()
	if gets+scans == 0 {
		t.Fatal("a reopened container answered without reading the backend")
	}
	// Second round: all from memory (loading a device starts no background
	// prefetch whose scans could land here: PrefetchLater is the client's
	// call, once it is ready).
	p.reset()
	checkDevice(t, devices[0])
	if gets, scans, commits := p.counts(); gets+scans+commits != 0 {
		t.Fatalf("repeat reads hit the backend: %d gets, %d scans, %d commits", gets, scans, commits)
	}
	// The other device is untouched.
	sess, err := devices[1].Sessions.GetSession(ctx, "1000:0")
	if err != nil || sess != nil {
		t.Fatalf("second device sees the first one's session: %q, %v", sess, err)
	}
}

func TestDeleteDeviceRemovesAllItsKeys(t *testing.T) {
	c, p, d := open(t)
	other := randomDevice(rand.New(rand.NewPCG(5, 6)), c, types.NewADJID("5557777", 0, 1))
	must(t, c.PutDevice(ctx, other))
	fillDevice(t, d)
	fillDevice(t, other)
	must(t, c.DeleteDevice(ctx, d))
	must(t, c.Flush(ctx))
	our := d.ID.String()
	for _, table := range idbstore.Tables {
		pairs, err := p.Backend.Scan(ctx, table, "")
		must(t, err)
		for _, pair := range pairs {
			// Privacy tokens survive in sqlstore (no foreign key); the LID map is global.
			if strings.HasPrefix(pair.Key, our) && table != "privacy_token" {
				t.Errorf("%s still holds %q of the deleted device", table, pair.Key)
			}
		}
	}
	got, err := c.GetDevice(ctx, *d.ID)
	if got != nil || err != nil {
		t.Fatalf("GetDevice after delete: %v, %v", got, err)
	}
	// The deleted device's stores refuse writes like sqlstore's foreign keys.
	if err := d.Sessions.PutSession(ctx, "1:0", []byte("x")); !errors.Is(err, idbstore.ErrDeviceNotFound) {
		t.Fatalf("write to a deleted device: %v", err)
	}
	checkDevice(t, other)
}

func TestDecryptionTxnLandsInOneCommit(t *testing.T) {
	c, p, d := open(t)
	_, err := d.Sessions.GetSession(ctx, "1000:0") // warm the device lookups
	must(t, err)
	must(t, c.Flush(ctx))
	p.reset()
	outsideSawIt := false
	err = d.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
		must(t, d.Sessions.PutSession(ctx, "1000:0", []byte("ratchet")))
		must(t, d.Identities.PutIdentity(ctx, "1000:0", [32]byte{5}))
		must(t, d.EventBuffer.PutBufferedEvent(ctx, [32]byte{1}, []byte("plain"), time.Unix(1, 0)))
		// Inside sees its own writes; outside does not.
		inside, err := d.Sessions.GetSession(ctx, "1000:0")
		must(t, err)
		if string(inside) != "ratchet" {
			t.Errorf("inside the txn: %q", inside)
		}
		outside, err := d.Sessions.GetSession(context.Background(), "1000:0")
		must(t, err)
		outsideSawIt = outside != nil
		return nil
	})
	must(t, err)
	if outsideSawIt {
		t.Fatal("a write inside the txn was visible outside before it committed")
	}
	must(t, c.Flush(ctx))
	p.mu.Lock()
	commits := p.commits
	p.mu.Unlock()
	if len(commits) != 1 || len(commits[0]) != 3 {
		t.Fatalf("want the txn's 3 writes in one commit, got %d commits: %v", len(commits), commits)
	}
}

func TestDecryptionTxnFailureLeavesNoTrace(t *testing.T) {
	c, p, d := open(t)
	boom := errors.New("bad mac")
	err := d.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
		must(t, d.Sessions.PutSession(ctx, "1000:0", []byte("ratchet")))
		must(t, d.EventBuffer.PutBufferedEvent(ctx, [32]byte{1}, []byte("plain"), time.Unix(1, 0)))
		must(t, d.LIDs.PutLIDMapping(ctx, types.NewJID("9", types.HiddenUserServer), types.NewJID("1", types.DefaultUserServer)))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("DoDecryptionTxn returned %v", err)
	}
	must(t, c.Flush(ctx))
	if _, _, commits := p.counts(); commits != 0 {
		t.Fatalf("a failed txn committed %d batches", commits)
	}
	has, err := d.Sessions.HasSession(ctx, "1000:0")
	must(t, err)
	ev, err := d.EventBuffer.GetBufferedEvent(ctx, [32]byte{1})
	must(t, err)
	if has || ev != nil {
		t.Fatalf("failed txn left a trace: session %v, event %v", has, ev)
	}
	c = reopen(t, c, p)
	d2, err := c.GetDevice(ctx, *d.ID)
	must(t, err)
	got, err := d2.LIDs.GetPNForLID(ctx, types.NewJID("9", types.HiddenUserServer))
	must(t, err)
	if !got.IsEmpty() {
		t.Fatalf("failed txn's LID mapping is stored: %v", got)
	}
}

func TestGroupCommitSharesCommits(t *testing.T) {
	c, p, d := open(t)
	_, err := d.Sessions.HasSession(ctx, "x:0")
	must(t, err)
	gate := make(chan struct{})
	p.mu.Lock()
	p.gate = gate
	p.mu.Unlock()
	// The first write's commit is held; the next 99 queue behind it.
	for i := 0; i < 100; i++ {
		must(t, d.Sessions.PutSession(ctx, fmt.Sprintf("%d:0", i), []byte{byte(i)}))
	}
	// Reads see queued writes at once.
	sess, err := d.Sessions.GetSession(ctx, "42:0")
	must(t, err)
	if len(sess) != 1 || sess[0] != 42 {
		t.Fatalf("queued write not visible: %v", sess)
	}
	flushed := make(chan error, 1)
	go func() { flushed <- c.Flush(ctx) }()
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned %v before the commit was released", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(gate)
	must(t, <-flushed)
	_, _, commits := p.counts()
	if commits < 1 || commits > 2 {
		t.Fatalf("100 writes behind a held commit took %d commits, want 1 or 2", commits)
	}
	t.Logf("100 writes, %d commits", commits)
}

func TestFlushToWaitsOnlyForWritesBeforeItsMark(t *testing.T) {
	c, p, d := open(t)
	_, err := d.Sessions.HasSession(ctx, "x:0")
	must(t, err)
	gate, entered := make(chan struct{}), make(chan struct{}, 4)
	p.mu.Lock()
	p.gate, p.entered = gate, entered
	p.mu.Unlock()
	must(t, d.Sessions.PutSession(ctx, "a:0", []byte{1}))
	mark := c.FlushMark()
	<-entered // a's commit has started (and is held)
	must(t, d.Sessions.PutSession(ctx, "b:0", []byte{2}))
	toMark, all := make(chan error, 1), make(chan error, 1)
	go func() { toMark <- c.FlushTo(ctx, mark) }()
	go func() { all <- c.Flush(ctx) }()
	select {
	case err := <-toMark:
		t.Fatalf("FlushTo returned %v before a's commit was released", err)
	case <-time.After(20 * time.Millisecond):
	}
	gate <- struct{}{} // a's commit completes; b's is next, and held
	must(t, <-toMark)
	<-entered
	select {
	case err := <-all:
		t.Fatalf("Flush returned %v while b's commit is held", err)
	case <-time.After(20 * time.Millisecond):
	}
	gate <- struct{}{}
	must(t, <-all)
}

func TestCommitFailureIsSticky(t *testing.T) {
	c, p, d := open(t)
	quota := errors.New("QuotaExceededError")
	p.mu.Lock()
	p.failWith = quota
	p.mu.Unlock()
	must(t, d.Sessions.PutSession(ctx, "1:0", []byte("a")))
	err := c.Flush(ctx)
	if !errors.Is(err, quota) || !strings.Contains(err.Error(), "session") {
		t.Fatalf("Flush after a failed commit: %v", err)
	}
	if err := d.Sessions.PutSession(ctx, "2:0", []byte("b")); !errors.Is(err, quota) {
		t.Fatalf("write after a failed commit: %v", err)
	}
	if err := c.Flush(ctx); !errors.Is(err, quota) {
		t.Fatalf("second Flush: %v", err)
	}
	// Reads still answer from memory, including the write that is not durable.
	sess, err := d.Sessions.GetSession(ctx, "1:0")
	if err != nil || string(sess) != "a" {
		t.Fatalf("read after failure: %q, %v", sess, err)
	}
	if err := c.Close(); !errors.Is(err, quota) {
		t.Fatalf("Close after failure: %v", err)
	}
	// Reopened, the backend shows the truth: nothing of the failed batch.
	p.mu.Lock()
	p.failWith = nil
	p.mu.Unlock()
	c2, err := idbstore.New(ctx, p, nil)
	must(t, err)
	defer c2.Close()
	d2, err := c2.GetDevice(ctx, *d.ID)
	must(t, err)
	has, err := d2.Sessions.HasSession(ctx, "1:0")
	if err != nil || has {
		t.Fatalf("failed write is in the backend: %v, %v", has, err)
	}
}

func TestDecodeFailureNamesTableAndKey(t *testing.T) {
	c, p, d := open(t)
	must(t, d.Sessions.PutSession(ctx, "1000:0", []byte("ok")))
	must(t, c.Flush(ctx))
	pairs, err := p.Backend.Scan(ctx, "session", "")
	must(t, err)
	if len(pairs) != 1 {
		t.Fatalf("sessions in backend: %v", pairs)
	}
	for _, bad := range [][]byte{{}, {99, 1, 2}, {1, 1, 50}} {
		must(t, p.Backend.Commit(ctx, []kv.Op{{Table: "session", Key: pairs[0].Key, Value: bad}}))
		c2, err := idbstore.New(ctx, p, nil)
		must(t, err)
		d2, err := c2.GetDevice(ctx, *d.ID)
		must(t, err)
		_, err = d2.Sessions.GetSession(ctx, "1000:0")
		if err == nil || !strings.Contains(err.Error(), "session") || !strings.Contains(err.Error(), "1000:0") {
			t.Fatalf("corrupt session %v: %v", bad, err)
		}
		_ = c2.Close()
	}
	// A corrupt device record fails GetAllDevices with a clear error, not a panic.
	must(t, p.Backend.Commit(ctx, []kv.Op{{Table: "device", Key: d.ID.String(), Value: []byte{1, 2, 3}}}))
	c3, err := idbstore.New(ctx, p, nil)
	must(t, err)
	defer c3.Close()
	if _, err := c3.GetAllDevices(ctx); err == nil || !strings.Contains(err.Error(), "device") {
		t.Fatalf("corrupt device: %v", err)
	}
}

func TestCallsAfterCloseFail(t *testing.T) {
	c, _, d := open(t)
	must(t, c.Close())
	checks := map[string]error{
		"Close":      c.Close(),
		"Flush":      c.Flush(ctx),
		"PutDevice":  c.PutDevice(ctx, d),
		"PutSession": d.Sessions.PutSession(ctx, "1:0", []byte("x")),
	}
	_, checks["GetSession"] = d.Sessions.GetSession(ctx, "1:0")
	_, checks["GetAllDevices"] = c.GetAllDevices(ctx)
	_, checks["GetOrGenPreKeys"] = d.PreKeys.GetOrGenPreKeys(ctx, 3)
	_, checks["GetLIDForPN"] = d.LIDs.GetLIDForPN(ctx, types.NewJID("1", types.DefaultUserServer))
	checks["DoDecryptionTxn"] = d.EventBuffer.DoDecryptionTxn(ctx, func(context.Context) error { return nil })
	for name, err := range checks {
		if !errors.Is(err, idbstore.ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

// After a reopen, loading the device reads its record only; PrefetchLater
// then loads its Signal records in the background with one scan per table,
// and GetManySessions reads memory only.
func TestGetManySessionsAfterPrefetchIsMemoryOnly(t *testing.T) {
	c, p, d := open(t)
	sessions := map[string][]byte{}
	var addrs []string
	for i := 0; i < 256; i++ {
		a := fmt.Sprintf("%d:0", 1000+i)
		addrs = append(addrs, a)
		if i%2 == 0 {
			sessions[a] = []byte{byte(i)}
		}
	}
	must(t, d.Sessions.PutManySessions(ctx, sessions))
	must(t, c.Flush(ctx))
	if _, _, commits := p.counts(); commits != 1 {
		t.Fatalf("PutManySessions of 128 took %d commits", commits)
	}
	c = reopen(t, c, p)
	p.reset()
	d, err := c.GetDevice(ctx, *d.ID)
	must(t, err)
	c.Prefetched()
	if gets, scans, _ := p.counts(); gets != 1 || scans != 0 {
		t.Fatalf("GetDevice: %d gets, %d scans, want 1 and 0 (no prefetch before the client asks)", gets, scans)
	}
	p.reset()
	c.PrefetchLater(*d.ID)
	c.Prefetched()
	if gets, scans, _ := p.counts(); gets != 0 || scans != 3 { // sessions, identities, sender keys
		t.Fatalf("PrefetchLater: %d gets, %d scans, want 0 and 3", gets, scans)
	}
	p.reset()
	got, err := d.Sessions.GetManySessions(ctx, addrs)
	must(t, err)
	if gets, scans, _ := p.counts(); gets != 0 || scans != 0 {
		t.Fatalf("GetManySessions of 256: %d gets, %d scans", gets, scans)
	}
	if len(got) != 256 || got["1000:0"][0] != 0 || got["1001:0"] != nil {
		t.Fatalf("GetManySessions result: %d entries", len(got))
	}
}

// A read does not wait for the background prefetch of the Signal records:
// it goes to the backend meanwhile and sees the stored value.
func TestReadsDoNotWaitForPrefetch(t *testing.T) {
	c, p, d := open(t)
	must(t, d.Sessions.PutSession(ctx, "7:0", []byte{7}))
	c = reopen(t, c, p)
	gate := make(chan struct{})
	p.mu.Lock()
	p.scanGate = gate
	p.mu.Unlock()
	loaded := make(chan error, 1)
	go func() {
		got, err := c.GetDevice(ctx, *d.ID)
		if err == nil {
			c.PrefetchLater(*got.ID)
			var sess []byte
			if sess, err = got.Sessions.GetSession(ctx, "7:0"); err == nil && (len(sess) != 1 || sess[0] != 7) {
				err = fmt.Errorf("session 7:0 read as %v", sess)
			}
		}
		loaded <- err
	}()
	select {
	case err := <-loaded:
		must(t, err)
	case <-time.After(5 * time.Second):
		close(gate) // so that the clean-up's Close can end
		t.Fatal("GetDevice, PrefetchLater or a read after them waited for the held prefetch scans")
	}
	p.mu.Lock()
	p.scanGate = nil
	p.mu.Unlock()
	close(gate)
	c.Prefetched()
}

func TestMassInsertsAreOneCommit(t *testing.T) {
	c, p, d := open(t)
	var contacts []store.ContactEntry
	var mappings []store.LIDMapping
	var secrets []store.MessageSecretInsert
	for i := 0; i < 1000; i++ {
		pn := types.NewJID(fmt.Sprint(100000+i), types.DefaultUserServer)
		lid := types.NewJID(fmt.Sprint(900000+i), types.HiddenUserServer)
		contacts = append(contacts, store.ContactEntry{JID: pn, FirstName: "F", FullName: "F L"})
		mappings = append(mappings, store.LIDMapping{LID: lid, PN: pn})
		secrets = append(secrets, store.MessageSecretInsert{Chat: pn, Sender: pn, ID: fmt.Sprint("M", i), Secret: []byte{1}})
	}
	for name, fn := range map[string]func() error{
		"PutAllContactNames": func() error { return d.Contacts.PutAllContactNames(ctx, contacts) },
		"PutManyLIDMappings": func() error { return d.LIDs.PutManyLIDMappings(ctx, mappings) },
		"PutMessageSecrets":  func() error { return d.MsgSecrets.PutMessageSecrets(ctx, secrets) },
	} {
		p.reset()
		must(t, fn())
		must(t, c.Flush(ctx))
		if gets, _, commits := p.counts(); commits != 1 || gets > 3 {
			t.Errorf("%s of 1000: %d commits, %d gets", name, commits, gets)
		}
	}
	all, err := d.Contacts.GetAllContacts(ctx)
	must(t, err)
	if len(all) != 1000 {
		t.Fatalf("GetAllContacts: %d", len(all))
	}
}

func TestFlushHonoursContext(t *testing.T) {
	c, p, d := open(t)
	gate := make(chan struct{})
	p.mu.Lock()
	p.gate = gate
	p.mu.Unlock()
	defer close(gate)
	must(t, d.Sessions.PutSession(ctx, "1:0", []byte("x")))
	cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := c.Flush(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush with a held commit and a deadline: %v", err)
	}
}

func TestPutDeviceUpdatesOnlyWhatSQLStoreUpdates(t *testing.T) {
	c, _, d := open(t)
	changed := cloneDevice(d)
	changed.RegistrationID++
	changed.PushName = "new name"
	changed.Platform = "android"
	changed.LIDMigrationTimestamp = 77
	must(t, c.PutDevice(ctx, changed))
	got, err := c.GetDevice(ctx, *d.ID)
	must(t, err)
	if got.RegistrationID != d.RegistrationID || got.PushName != "new name" || got.Platform != "android" || got.LIDMigrationTimestamp != 77 {
		t.Fatalf("after re-put: reg %d (want %d), push %q, platform %q, lidts %d", got.RegistrationID, d.RegistrationID, got.PushName, got.Platform, got.LIDMigrationTimestamp)
	}
}

// panicky fails its commits by panicking, as a broken backend might.
type panicky struct{ kv.Backend }

func (panicky) Commit(context.Context, []kv.Op) error { panic("boom") }

func TestBackendPanicBecomesStickyError(t *testing.T) {
	c, err := idbstore.New(ctx, panicky{memkv.New()}, nil)
	must(t, err)
	d := randomDevice(rand.New(rand.NewPCG(9, 9)), c, types.NewADJID("1", 0, 1))
	must(t, c.PutDevice(ctx, d))
	if err := c.Flush(ctx); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("Flush over a panicking backend: %v", err)
	}
	bad := c.NewDevice()
	jid := types.NewADJID("2", 0, 1)
	bad.ID = &jid
	bad.NoiseKey.Priv = nil
	if err := c.PutDevice(ctx, bad); err == nil {
		t.Fatal("PutDevice of a device without a noise private key succeeded")
	}
	_ = c.Close()
}

// Mutation MACs are one record per patch; lookups answer the newest version,
// see a transaction's own writes (and nothing of a failed one), survive a
// reopen, and a corrupt patch record names its table and key.
func TestMutationMACsArePatchRecords(t *testing.T) {
	c, p, d := open(t)
	mac := func(kind string, i int) []byte {
		b := make([]byte, 32)
		copy(b, fmt.Sprintf("%s%d", kind, i))
		return b
	}
	var v1, v2 []store.AppStateMutationMAC
	for i := 0; i < 1000; i++ {
		v1 = append(v1, store.AppStateMutationMAC{IndexMAC: mac("i", i), ValueMAC: mac("a", i)})
	}
	for i := 0; i < 10; i++ {
		v2 = append(v2, store.AppStateMutationMAC{IndexMAC: mac("i", i), ValueMAC: mac("b", i)})
	}
	must(t, d.AppState.PutAppStateVersion(ctx, "regular", 2, [128]byte{}))
	must(t, d.AppState.PutAppStateMutationMACs(ctx, "regular", 1, v1))
	must(t, d.AppState.PutAppStateMutationMACs(ctx, "regular", 2, v2))
	if err := d.AppState.PutAppStateMutationMACs(ctx, "regular", 2, v2[:1]); err == nil {
		t.Fatal("duplicate MAC in one version accepted")
	}
	must(t, c.Flush(ctx))
	if pairs, err := p.Backend.Scan(ctx, "app_state_mac_patch", ""); err != nil || len(pairs) != 2 {
		t.Fatalf("patch records: %d, %v", len(pairs), err)
	}
	check := func(d *store.Device, i int, want []byte) {
		t.Helper()
		got, err := d.AppState.GetAppStateMutationMAC(ctx, "regular", mac("i", i))
		must(t, err)
		if string(got) != string(want) {
			t.Fatalf("MAC %d: %q, want %q", i, got, want)
		}
	}
	check(d, 5, mac("b", 5))
	check(d, 500, mac("a", 500))
	must(t, d.AppState.DeleteAppStateMutationMACs(ctx, "regular", [][]byte{mac("i", 5), mac("i", 500)}))
	check(d, 5, nil)
	check(d, 500, nil)
	check(d, 6, mac("b", 6))

	errFail := fmt.Errorf("fail on purpose")
	for _, fail := range []bool{true, false} {
		err := d.EventBuffer.DoDecryptionTxn(ctx, func(ctx context.Context) error {
			must(t, d.AppState.PutAppStateMutationMACs(ctx, "regular", 3, []store.AppStateMutationMAC{{IndexMAC: mac("i", 7), ValueMAC: mac("c", 7)}}))
			got, err := d.AppState.GetAppStateMutationMAC(ctx, "regular", mac("i", 7))
			must(t, err)
			if string(got) != string(mac("c", 7)) {
				t.Fatalf("inside the transaction: %q", got)
			}
			if fail {
				return errFail
			}
			return nil
		})
		if fail {
			if err != errFail {
				t.Fatalf("failed transaction: %v", err)
			}
			check(d, 7, mac("b", 7))
		} else {
			must(t, err)
			check(d, 7, mac("c", 7))
		}
	}
	must(t, c.Flush(ctx))
	c = reopen(t, c, p)
	d2, err := c.GetDevice(ctx, *d.ID)
	must(t, err)
	check(d2, 7, mac("c", 7))
	check(d2, 6, mac("b", 6))
	check(d2, 5, nil)
	check(d2, 999, mac("a", 999))

	pairs, err := p.Backend.Scan(ctx, "app_state_mac_patch", "")
	must(t, err)
	must(t, p.Backend.Commit(ctx, []kv.Op{{Table: "app_state_mac_patch", Key: pairs[0].Key, Value: []byte{1, 5, 0}}}))
	c3, err := idbstore.New(ctx, p, nil)
	must(t, err)
	defer c3.Close()
	d3, err := c3.GetDevice(ctx, *d.ID)
	must(t, err)
	_, err = d3.AppState.GetAppStateMutationMAC(ctx, "regular", mac("i", 1))
	if err == nil || !strings.Contains(err.Error(), "app_state_mac_patch") || !strings.Contains(err.Error(), "regular") {
		t.Fatalf("corrupt patch record: %v", err)
	}
}

// Contacts live in at most 64 bucket records per device: a mass insert writes
// each bucket once, a single change rewrites one bucket, results survive a
// reopen, and a corrupt bucket names its table and key.
func TestContactsAreBucketRecords(t *testing.T) {
	c, p, d := open(t)
	var contacts []store.ContactEntry
	for i := 0; i < 3000; i++ {
		contacts = append(contacts, store.ContactEntry{JID: types.NewJID(fmt.Sprint(100000+i), types.DefaultUserServer), FirstName: fmt.Sprint("F", i), FullName: fmt.Sprint("F L", i)})
	}
	must(t, d.Contacts.PutAllContactNames(ctx, contacts))
	must(t, c.Flush(ctx))
	pairs, err := p.Backend.Scan(ctx, "contact_bucket", "")
	must(t, err)
	if len(pairs) == 0 || len(pairs) > 64 {
		t.Fatalf("%d bucket records for 3000 contacts", len(pairs))
	}
	p.reset()
	who := contacts[1234].JID
	changed, old, err := d.Contacts.PutPushName(ctx, who, "Push")
	must(t, err)
	if !changed || old != "" {
		t.Fatalf("PutPushName: %v %q", changed, old)
	}
	must(t, c.Flush(ctx))
	if _, _, commits := p.counts(); commits != 1 {
		t.Fatalf("PutPushName: %d commits", commits)
	}
	c = reopen(t, c, p)
	d2, err := c.GetDevice(ctx, *d.ID)
	must(t, err)
	info, err := d2.Contacts.GetContact(ctx, who)
	must(t, err)
	if !info.Found || info.PushName != "Push" || info.FirstName != "F1234" || info.FullName != "F L1234" {
		t.Fatalf("after reopen: %+v", info)
	}
	missing, err := d2.Contacts.GetContact(ctx, types.NewJID("999", types.DefaultUserServer))
	must(t, err)
	if missing.Found {
		t.Fatalf("unknown contact found: %+v", missing)
	}
	all, err := d2.Contacts.GetAllContacts(ctx)
	must(t, err)
	if len(all) != 3000 || all[who].PushName != "Push" {
		t.Fatalf("GetAllContacts: %d, %+v", len(all), all[who])
	}
	must(t, p.Backend.Commit(ctx, []kv.Op{{Table: "contact_bucket", Key: pairs[0].Key, Value: []byte{1, 200, 1}}}))
	c3, err := idbstore.New(ctx, p, nil)
	must(t, err)
	defer c3.Close()
	d3, err := c3.GetDevice(ctx, *d.ID)
	must(t, err)
	if _, err := d3.Contacts.GetAllContacts(ctx); err == nil || !strings.Contains(err.Error(), "contact_bucket") {
		t.Fatalf("corrupt bucket: %v", err)
	}
}

// Marking uploads is one write of the upload mark; keys generated again at
// IDs below the mark (after removals) are not uploaded, as in sqlstore.
func TestPreKeyUploadMark(t *testing.T) {
	c, p, d := open(t)
	ks, err := d.PreKeys.GetOrGenPreKeys(ctx, 10)
	must(t, err)
	must(t, c.Flush(ctx))
	p.reset()
	must(t, d.PreKeys.MarkPreKeysAsUploaded(ctx, ks[9].KeyID))
	must(t, c.Flush(ctx))
	if n, err := d.PreKeys.UploadedPreKeyCount(ctx); err != nil || n != 10 {
		t.Fatalf("uploaded after mark: %d, %v", n, err)
	}
	for _, k := range ks[5:] {
		must(t, d.PreKeys.RemovePreKey(ctx, k.KeyID))
	}
	again, err := d.PreKeys.GetOrGenPreKeys(ctx, 3)
	must(t, err)
	if len(again) != 3 || again[0].KeyID != ks[5].KeyID {
		t.Fatalf("regenerated keys start at %d, want %d", again[0].KeyID, ks[5].KeyID)
	}
	one, err := d.PreKeys.GenOnePreKey(ctx)
	must(t, err)
	must(t, c.Flush(ctx))
	c = reopen(t, c, p)
	d2, err := c.GetDevice(ctx, *d.ID)
	must(t, err)
	if n, err := d2.PreKeys.UploadedPreKeyCount(ctx); err != nil || n != 6 {
		t.Fatalf("uploaded after regeneration: %d, %v (want the 5 kept and the one GenOnePreKey made)", n, err)
	}
	next, err := d2.PreKeys.GetOrGenPreKeys(ctx, 3)
	must(t, err)
	if next[0].KeyID != again[0].KeyID || next[2].KeyID != again[2].KeyID || one.KeyID != again[2].KeyID+1 {
		t.Fatalf("unuploaded keys %d..%d, GenOnePreKey %d", next[0].KeyID, next[2].KeyID, one.KeyID)
	}
}
