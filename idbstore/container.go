package idbstore

import (
	"context"
	"errors"
	"fmt"
	mathRand "math/rand/v2"
	"sort"
	"sync"

	"github.com/google/uuid"
	"go.mau.fi/util/random"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/kv"
)

// Container holds the whatsmeow devices of one kv.Backend, like sqlstore's
// Container holds those of one SQL database.
type Container struct {
	e    *engine
	log  waLog.Logger
	lids *lidMap

	corruptMu   sync.Mutex
	onCorrupt   func(*CorruptError)
	corruptSeen map[string]struct{} // table NUL key of records reported

	deviceHook  func(*store.Device)
	prefetching sync.WaitGroup
}

// SetDeviceHook makes hook run on every device the container loads or
// stores from now on, once its stores are in place, so that it can put
// wrappers around them (Device.EventBuffer, Device.Sessions). Set it before
// the first device is loaded: whatsmeow reads those fields without a lock
// while it decrypts, so a wrapper put in place later (after pairing) races
// those reads; here it is in place when PutDevice gives the device its stores.
func (c *Container) SetDeviceHook(hook func(*store.Device)) {
	c.deviceHook = hook
}

var _ store.DeviceContainer = (*Container)(nil)

// New opens a container on b. It owns b: Close closes it. The logger may be
// nil. It reads the layout version and brings an older layout up to date
// (see upgrades; ErrNewerLayout for a newer one); everything else is read
// when a method needs it.
func New(ctx context.Context, b kv.Backend, log waLog.Logger) (*Container, error) {
	if b == nil {
		return nil, fmt.Errorf("idbstore: New: nil backend")
	}
	if log == nil {
		log = waLog.Noop
	}
	stamp, err := upgrade(ctx, b, log)
	if err != nil {
		return nil, err
	}
	c := &Container{e: newEngine(b), log: log}
	c.e.stamp = stamp
	c.lids = newLIDMap(c)
	return c, nil
}

// Flush returns once every write accepted so far is durable in the backend,
// or the sticky error of a failed commit. The JS layer makes it the websocket
// write barrier, so no frame leaves before the state it depends on is stored.
func (c *Container) Flush(ctx context.Context) error {
	return c.FlushTo(ctx, c.FlushMark())
}

// FlushMark names the writes accepted so far, for FlushTo.
func (c *Container) FlushMark() uint64 { return c.e.mark() }

// FlushTo returns once the writes accepted before FlushMark returned mark
// are durable, without waiting for writes accepted since (which a later
// group commit may still hold), or the sticky error of a failed commit.
func (c *Container) FlushTo(ctx context.Context, mark uint64) error {
	c.e.mu.Lock()
	closed := c.e.closed
	c.e.mu.Unlock()
	if closed {
		return fmt.Errorf("idbstore: flush: %w", ErrClosed)
	}
	return c.e.flushTo(ctx, mark)
}

// Close flushes pending writes, then closes the backend. Later calls fail
// with ErrClosed.
func (c *Container) Close() error {
	c.prefetching.Wait()
	return c.e.close()
}

// NewDevice creates a device with fresh keys, like sqlstore's. Nothing is
// stored until PutDevice (which pairing does).
func (c *Container) NewDevice() *store.Device {
	device := &store.Device{
		Log:       c.log,
		Container: c,

		NoiseKey:       keys.NewKeyPair(),
		IdentityKey:    keys.NewKeyPair(),
		RegistrationID: mathRand.Uint32(),
		AdvSecretKey:   random.Bytes(32),
	}
	device.SignedPreKey = device.IdentityKey.CreateSignedPreKey(1)
	return device
}

// deviceRecord is the stored form of the store.Device fields sqlstore keeps.
type deviceRecord struct {
	seq              uint64 // insertion order, like sqlite's rowid
	jid              string
	lid              string
	registrationID   uint32
	noisePriv        []byte
	identityPriv     []byte
	signedPreKeyPriv []byte
	signedPreKeyID   uint32
	signedPreKeySig  []byte
	advKey           []byte
	accountDetails   []byte
	accountSig       []byte
	accountSigKey    []byte
	deviceSig        []byte
	platform         string
	businessName     string
	pushName         string
	facebookUUID     uuid.UUID
	lidMigrationTS   int64
}

func (r *deviceRecord) encode() []byte {
	return newEncoder(512).
		uvarint(r.seq).str(r.jid).str(r.lid).uvarint(uint64(r.registrationID)).
		fixed(r.noisePriv).fixed(r.identityPriv).fixed(r.signedPreKeyPriv).
		uvarint(uint64(r.signedPreKeyID)).fixed(r.signedPreKeySig).
		bytes(r.advKey).bytes(r.accountDetails).fixed(r.accountSig).fixed(r.accountSigKey).fixed(r.deviceSig).
		str(r.platform).str(r.businessName).str(r.pushName).
		fixed(r.facebookUUID[:]).varint(r.lidMigrationTS).
		done()
}

func decodeDeviceRecord(k string, v []byte) (*deviceRecord, error) {
	d := newDecoder(v)
	r := &deviceRecord{}
	r.seq = d.uvarint()
	r.jid = d.str()
	r.lid = d.str()
	regID := d.uvarint()
	r.noisePriv = d.fixed(32)
	r.identityPriv = d.fixed(32)
	r.signedPreKeyPriv = d.fixed(32)
	spkID := d.uvarint()
	r.signedPreKeySig = d.fixed(64)
	r.advKey = d.bytes()
	r.accountDetails = d.bytes()
	r.accountSig = d.fixed(64)
	r.accountSigKey = d.fixed(32)
	r.deviceSig = d.fixed(64)
	r.platform = d.str()
	r.businessName = d.str()
	r.pushName = d.str()
	copy(r.facebookUUID[:], d.fixed(16))
	r.lidMigrationTS = d.varint()
	if err := d.finish(tDevice, k); err != nil {
		return nil, err
	}
	if regID > 0xFFFFFFFF || spkID >= 1<<24 {
		return nil, decodeError(tDevice, k, fmt.Errorf("%w: registration or signed prekey ID out of range", errCorrupt))
	}
	r.registrationID, r.signedPreKeyID = uint32(regID), uint32(spkID)
	return r, nil
}

// recordFromDevice checks what sqlstore's schema checks (NOT NULL and length
// CHECKs) and builds the record.
func recordFromDevice(d *store.Device) (*deviceRecord, error) {
	switch {
	case d.NoiseKey == nil || d.IdentityKey == nil || d.SignedPreKey == nil || d.SignedPreKey.Signature == nil,
		d.NoiseKey.Priv == nil || d.IdentityKey.Priv == nil || d.SignedPreKey.Priv == nil:
		return nil, fmt.Errorf("%w: device %s lacks its noise, identity or signed prekey", ErrConstraint, d.ID)
	case d.Account == nil:
		return nil, fmt.Errorf("%w: device %s has no account identity", ErrConstraint, d.ID)
	case d.AdvSecretKey == nil || d.Account.Details == nil:
		return nil, fmt.Errorf("%w: device %s lacks its adv key or account details", ErrConstraint, d.ID)
	case len(d.Account.AccountSignature) != 64 || len(d.Account.AccountSignatureKey) != 32 || len(d.Account.DeviceSignature) != 64:
		return nil, fmt.Errorf("%w: device %s account signature lengths %d/%d/%d, want 64/32/64", ErrConstraint, d.ID,
			len(d.Account.AccountSignature), len(d.Account.AccountSignatureKey), len(d.Account.DeviceSignature))
	case d.SignedPreKey.KeyID >= 1<<24:
		return nil, fmt.Errorf("%w: device %s signed prekey ID %d out of range", ErrConstraint, d.ID, d.SignedPreKey.KeyID)
	}
	return &deviceRecord{
		jid:              d.ID.String(),
		lid:              jidText(d.LID),
		registrationID:   d.RegistrationID,
		noisePriv:        d.NoiseKey.Priv[:],
		identityPriv:     d.IdentityKey.Priv[:],
		signedPreKeyPriv: d.SignedPreKey.Priv[:],
		signedPreKeyID:   d.SignedPreKey.KeyID,
		signedPreKeySig:  d.SignedPreKey.Signature[:],
		advKey:           d.AdvSecretKey,
		accountDetails:   d.Account.Details,
		accountSig:       d.Account.AccountSignature,
		accountSigKey:    d.Account.AccountSignatureKey,
		deviceSig:        d.Account.DeviceSignature,
		platform:         d.Platform,
		businessName:     d.BusinessName,
		pushName:         d.PushName,
		facebookUUID:     d.FacebookUUID,
		lidMigrationTS:   d.LIDMigrationTimestamp,
	}, nil
}

// jidText is what sqlstore stores for a JID column: nothing for an empty JID.
func jidText(j types.JID) string {
	if j.IsEmpty() {
		return ""
	}
	return j.String()
}

func (c *Container) deviceFromRecord(r *deviceRecord) (*store.Device, error) {
	device, err := r.device()
	if err != nil {
		return nil, err
	}
	device.Log = c.log
	c.initializeDevice(device)
	return device, nil
}

// device is the record's store.Device, its stores not set.
func (r *deviceRecord) device() (*store.Device, error) {
	id, err := types.ParseJID(r.jid)
	if err != nil {
		return nil, fmt.Errorf("idbstore: device %q: parse JID: %w", r.jid, err)
	}
	var lid types.JID
	if r.lid != "" {
		if lid, err = types.ParseJID(r.lid); err != nil {
			return nil, fmt.Errorf("idbstore: device %q: parse LID %q: %w", r.jid, r.lid, err)
		}
	}
	noise, err := keyPair(r.noisePriv)
	if err != nil {
		return nil, err
	}
	identity, err := keyPair(r.identityPriv)
	if err != nil {
		return nil, err
	}
	signedPreKey, err := keyPair(r.signedPreKeyPriv)
	if err != nil {
		return nil, err
	}
	device := &store.Device{
		NoiseKey:       noise,
		IdentityKey:    identity,
		RegistrationID: r.registrationID,
		AdvSecretKey:   r.advKey,
		ID:             &id,
		LID:            lid,
		Account: &waAdv.ADVSignedDeviceIdentity{
			Details:             r.accountDetails,
			AccountSignature:    r.accountSig,
			AccountSignatureKey: r.accountSigKey,
			DeviceSignature:     r.deviceSig,
		},
		Platform:              r.platform,
		BusinessName:          r.businessName,
		PushName:              r.pushName,
		LIDMigrationTimestamp: r.lidMigrationTS,
		FacebookUUID:          r.facebookUUID,
	}
	sig := [64]byte(r.signedPreKeySig)
	device.SignedPreKey = &keys.PreKey{
		KeyPair:   *signedPreKey,
		KeyID:     r.signedPreKeyID,
		Signature: &sig,
	}
	return device, nil
}

// keyPair derives the public key with whatsmeow's keys package (the X25519
// ladder, about half a millisecond a key in wasm), not with the edwards25519
// base-point tables newPreKeys uses: those are built on first use, about 40
// ms in wasm, which a page loading its device (three keys) would pay before
// it connects, while only generating prekeys (hundreds at a time) needs them.
func keyPair(privBytes []byte) (*keys.KeyPair, error) {
	if len(privBytes) != 32 {
		return nil, fmt.Errorf("idbstore: private key of %d bytes, want 32", len(privBytes))
	}
	return keys.NewKeyPairFromPrivateKey([32]byte(privBytes)), nil
}

// GetAllDevices returns every stored device, oldest insertion first (the
// order sqlstore's table scan gives).
func (c *Container) GetAllDevices(ctx context.Context) (_ []*store.Device, err error) {
	defer c.reported(&err)
	pairs, err := c.e.scan(ctx, c.e.txnFrom(ctx), tDevice, "", true)
	if err != nil {
		return nil, err
	}
	records := make([]*deviceRecord, 0, len(pairs))
	for _, p := range pairs {
		r, err := decodeDeviceRecord(p.Key, p.Value)
		if err != nil {
			return nil, err
		}
		records = append(records, r)
	}
	sort.SliceStable(records, func(i, j int) bool { return records[i].seq < records[j].seq })
	devices := make([]*store.Device, 0, len(records))
	for _, r := range records {
		d, err := c.deviceFromRecord(r)
		if err != nil {
			return devices, err
		}
		devices = append(devices, d)
	}
	return devices, nil
}

// prefetchTables are the per-contact Signal tables every incoming message
// reads: loading a device's records of them with one Scan per table turns
// the first read of each contact from an IndexedDB round trip (about a
// millisecond) into a memory read.
var prefetchTables = []string{tSession, tIdentity, tSenderKey}

// PrefetchLater loads the Signal records (sessions, identities, sender
// keys) of device our into the cache in the background. Loading a device
// does not do it: for a big account that is megabytes decoded on the page's
// only thread, which would compete with logging in (2,000 sessions are about
// 2.4 MB, over a hundred milliseconds in a page). The client starts it once
// it is logged in and ready. A read before the records are in reads its keys
// from the backend, as any miss does. A failure is logged: the reads then go
// to the backend key by key, and report what they meet. Close waits for it.
func (c *Container) PrefetchLater(our types.JID) {
	if our.IsEmpty() {
		return
	}
	c.prefetching.Add(1)
	go func() {
		defer c.prefetching.Done()
		if err := c.prefetch(context.Background(), our.String()); err != nil && !errors.Is(err, ErrClosed) {
			c.log.Warnf("%v", err)
		}
	}()
}

// Prefetched waits until the background loads started so far are done
// (benchmarks and tests; reads never need to).
func (c *Container) Prefetched() { c.prefetching.Wait() }

// prefetch loads the Signal records of device our into the cache; later
// misses under it need no backend read.
func (c *Container) prefetch(ctx context.Context, our string) error {
	for _, t := range prefetchTables {
		if err := c.e.ensureLoaded(ctx, t, prefix(our)); err != nil {
			return fmt.Errorf("idbstore: device %q: prefetch %s: %w", our, t, err)
		}
	}
	return nil
}

// GetFirstDevice returns the first stored device, or a NewDevice if there is
// none (not saved until paired). Use it when a container holds one session.
func (c *Container) GetFirstDevice(ctx context.Context) (_ *store.Device, err error) {
	defer c.reported(&err)
	devices, err := c.GetAllDevices(ctx)
	if err != nil {
		return nil, err
	}
	if len(devices) == 0 {
		return c.NewDevice(), nil
	}
	return devices[0], nil
}

// GetDevice returns the device stored under jid (usually an AD-JID), or nil,
// nil if there is none.
func (c *Container) GetDevice(ctx context.Context, jid types.JID) (_ *store.Device, err error) {
	defer c.reported(&err)
	if jid.IsEmpty() {
		return nil, nil
	}
	k := key(jid.String())
	v, err := c.e.get1(ctx, c.e.txnFrom(ctx), tDevice, k)
	if err != nil || v == nil {
		return nil, err
	}
	r, err := decodeDeviceRecord(k, v)
	if err != nil {
		return nil, err
	}
	return c.deviceFromRecord(r)
}

// PutDevice stores device (insert, or update of the fields sqlstore updates on
// conflict: LID, platform, business name, push name and LID migration
// timestamp) and wires its stores to this container.
func (c *Container) PutDevice(ctx context.Context, device *store.Device) (err error) {
	defer c.reported(&err)
	if device == nil {
		return fmt.Errorf("idbstore: PutDevice: nil device")
	}
	if device.ID == nil {
		return ErrDeviceIDMustBeSet
	}
	err = c.putDevice(ctx, device)
	if !device.Initialized {
		c.initializeDevice(device)
	}
	return err
}

func (c *Container) putDevice(ctx context.Context, device *store.Device) error {
	rec, err := recordFromDevice(device)
	if err != nil {
		return err
	}
	return c.e.doTxn(ctx, func(ctx context.Context) error {
		tx := c.e.txnFrom(ctx)
		k := key(rec.jid)
		old, err := c.e.get1(ctx, tx, tDevice, k)
		if err != nil {
			return err
		}
		if old != nil {
			prev, err := decodeDeviceRecord(k, old)
			if err != nil {
				return err
			}
			prev.lid, prev.platform, prev.businessName, prev.pushName, prev.lidMigrationTS =
				rec.lid, rec.platform, rec.businessName, rec.pushName, rec.lidMigrationTS
			rec = prev
		} else {
			// sqlite gives a new row max(rowid)+1.
			all, err := c.e.scan(ctx, tx, tDevice, "", true)
			if err != nil {
				return err
			}
			for _, p := range all {
				r, err := decodeDeviceRecord(p.Key, p.Value)
				if err != nil {
					return err
				}
				rec.seq = max(rec.seq, r.seq)
			}
			rec.seq++
		}
		return c.e.write(ctx, kv.Op{Table: tDevice, Key: k, Value: rec.encode()})
	})
}

func (c *Container) initializeDevice(device *store.Device) {
	s := newStore(c, *device.ID)
	device.Identities = s
	device.Sessions = s
	device.PreKeys = s
	device.SenderKeys = s
	device.AppStateKeys = s
	device.AppState = s
	device.Contacts = s
	device.ChatSettings = s
	device.MsgSecrets = s
	device.PrivacyTokens = s
	device.EventBuffer = s
	device.LIDs = c.lids
	device.Container = c
	device.Initialized = true
	if c.deviceHook != nil {
		c.deviceHook(device)
	}
}

// DeleteDevice deletes the device record and every record of its tables
// (what sqlstore's ON DELETE CASCADE removes), in one atomic write.
func (c *Container) DeleteDevice(ctx context.Context, device *store.Device) (err error) {
	defer c.reported(&err)
	if device == nil {
		return fmt.Errorf("idbstore: DeleteDevice: nil device")
	}
	if device.ID == nil {
		return ErrDeviceIDMustBeSet
	}
	our := device.ID.String()
	return c.e.doTxn(ctx, func(ctx context.Context) error {
		tx := c.e.txnFrom(ctx)
		ops := []kv.Op{{Table: tDevice, Key: key(our), Delete: true}}
		for _, t := range deviceTables {
			pairs, err := c.e.scan(ctx, tx, t, prefix(our), true)
			if err != nil {
				return err
			}
			for _, p := range pairs {
				ops = append(ops, kv.Op{Table: t, Key: p.Key, Delete: true})
			}
		}
		return c.e.write(ctx, ops...)
	})
}

// requireDevice is the foreign-key check of device-scoped writes.
func (c *Container) requireDevice(ctx context.Context, our string) error {
	v, err := c.e.get1(ctx, c.e.txnFrom(ctx), tDevice, key(our))
	if err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("%w: %s", ErrDeviceNotFound, our)
	}
	return nil
}
