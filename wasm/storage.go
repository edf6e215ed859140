//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"go.mau.fi/whatsmeow/store"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/idbkv"
	"github.com/wasmeow/wasmeow/kv/jskv"
	"github.com/wasmeow/wasmeow/kv/memkv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

const (
	codeRestoreFailed = "restore_failed"
	// codeStoreCorrupt: a stored record could not be decoded; the message
	// names the table and the record (the contact's address for Signal
	// records).
	codeStoreCorrupt = "store_corrupt"
)

// corruptError is the store_corrupt error of a record that failed to decode.
func corruptError(o *options, ce *idbstore.CorruptError) error {
	what := "the call that read it failed"
	switch ce.Table {
	case "session", "identity":
		what = fmt.Sprintf("treated as missing: the next message from %s gets a retry receipt (asking it to resend) and a new session replaces the record", ce.Address())
	case "sender_key":
		what = "treated as missing: the sender is asked to resend"
	}
	return jsbridge.Errorf(codeStoreCorrupt, "session %q: table %s, record %s: cannot be decoded (%v); %s", o.clientID, ce.Table, ce.Record(), ce.Err, what)
}

// openError describes a failure to open a session's IndexedDB database.
func openError(o *options, err error) error {
	name := dbNameFor(o.dbName, o.clientID)
	if errors.Is(err, idbkv.ErrCorruptMeta) {
		return jsbridge.Errorf(codeStoreCorrupt, "session %q: table %s of IndexedDB database %q is corrupt (%w); deleteSession(%q) and pair again, or importSession a backup", o.clientID, idbkv.MetaStore, name, err, o.clientID)
	}
	return fmt.Errorf("opening IndexedDB database %q: %w", name, err)
}

// session is one clientId's open storage: the kv backend for its strategy,
// the idbstore container on it and the device it holds.
type session struct {
	opts      *options
	backend   kv.Backend // what the container writes to (notifying, for remote)
	raw       kv.Backend // the backend itself
	keystore  *jskv.Backend
	container *idbstore.Container
	device    *store.Device
	release   func() // the tab lock
	restored  bool   // remote: the state came from the user's store just now
	onCommit  func() // remote: set by the sync loop
	onFailure func(error)
	closeOnce sync.Once
}

// dbNameFor is the IndexedDB database of a local or remote session.
func dbNameFor(dbName, clientID string) string { return dbName + ":" + clientID }

func (o *options) lockName() string { return "wasmeow:" + dbNameFor(o.dbName, o.clientID) }

// openSession opens (or creates) the storage of o's session. For remote,
// a browser without a local copy is restored from the user's store first.
// onStoreFailure is told when the write barrier cannot commit the session's
// pending writes (the frame that needed them is not sent).
//
// onCorrupt is told (on a goroutine of its own, once per record) of every
// stored record that fails to decode, as a store_corrupt error naming the
// table and the record.
func openSession(ctx context.Context, o *options, log waLog.Logger, onStoreFailure, onCorrupt func(error)) (s *session, err error) {
	if onStoreFailure == nil {
		onStoreFailure = func(error) {}
	}
	s = &session{opts: o, release: func() {}, onFailure: onStoreFailure}
	defer func() {
		if err != nil {
			s.close(ctx)
		}
	}()
	switch o.strategy {
	case strategyNone:
		s.raw = memkv.New()
	case strategyCustom:
		ks, err := jskv.New(o.keys, o.creds, []string{idbstore.DeviceTable})
		if err != nil {
			return s, err
		}
		ks.Timeout = o.storeTimeout
		s.keystore, s.raw = ks, ks
	case strategyLocal, strategyRemote:
		release, err := tryTabLock(ctx, o.lockName())
		if err != nil {
			return s, err
		}
		s.release = release
		b, err := idbkv.Open(ctx, idbkv.Options{Name: dbNameFor(o.dbName, o.clientID), Tables: idbstore.BackendTables})
		if err != nil {
			// Not s.raw = b: a nil *Backend in the interface made close()
			// call Close on it, a nil-pointer panic.
			return s, openError(o, err)
		}
		s.raw = b
	}
	s.backend = s.raw
	if o.strategy == strategyRemote {
		if s.restored, err = restoreIfMissing(ctx, o, s.raw); err != nil {
			return s, err
		}
		s.backend = &notifyingBackend{Backend: s.raw, onCommit: func() {
			if f := s.onCommit; f != nil {
				f()
			}
		}}
	}
	if s.container, err = idbstore.New(ctx, s.backend, log); err != nil {
		return s, fmt.Errorf("opening the %s store of %q: %w", o.strategy, o.clientID, err)
	}
	if onCorrupt != nil {
		s.container.SetCorruptionHandler(func(ce *idbstore.CorruptError) {
			// Met inside whatsmeow's store calls (a decryption, a send):
			// listeners run elsewhere, and may call back into the client.
			go func() {
				defer func() { _ = recover() }()
				onCorrupt(corruptError(o, ce))
			}()
		})
	}
	if s.device, err = s.container.GetFirstDevice(ctx); err != nil {
		var ce *idbstore.CorruptError
		if errors.As(err, &ce) {
			return s, jsbridge.Errorf(codeStoreCorrupt, "loading the device of %q: %w; deleteSession(%q) and pair again, or importSession a backup", o.clientID, corruptError(o, ce), o.clientID)
		}
		return s, fmt.Errorf("loading the device of %q: %w", o.clientID, err)
	}
	if s.device == nil {
		s.device = s.container.NewDevice()
	}
	registerSession(s)
	return s, nil
}

// restoreIfMissing fills b from the user's store when b holds no device and
// the store has a snapshot of the session.
func restoreIfMissing(ctx context.Context, o *options, b kv.Backend) (bool, error) {
	have, err := idbstore.HasDevice(ctx, b)
	if err != nil {
		return false, fmt.Errorf("checking for a local copy of %q: %w", o.clientID, err)
	}
	if have {
		return false, nil
	}
	arg := map[string]any{"session": o.clientID}
	exists, err := jsbridge.CallStore(ctx, o.storeTimeout, o.remoteStore, "auth.store.sessionExists()", "sessionExists", arg)
	if err != nil {
		return false, jsbridge.Errorf(codeRestoreFailed, "remote restore of %q: store.sessionExists: %w", o.clientID, err)
	}
	if !exists.Truthy() {
		return false, nil
	}
	data, err := jsbridge.CallStore(ctx, o.storeTimeout, o.remoteStore, "auth.store.extract()", "extract", arg)
	if err != nil {
		return false, jsbridge.Errorf(codeRestoreFailed, "remote restore of %q: store.extract: %w", o.clientID, err)
	}
	blob, err := jsbridge.BytesFromJS(data)
	if err != nil {
		return false, jsbridge.Errorf(codeRestoreFailed, "remote restore of %q: store.extract must resolve to the Uint8Array that save was given: %w", o.clientID, err)
	}
	snap, err := decodeSnapshot(blob)
	if err != nil {
		return false, jsbridge.Errorf(codeRestoreFailed, "remote restore of %q: %w", o.clientID, err)
	}
	if err := snap.Restore(ctx, b); err != nil {
		return false, jsbridge.Errorf(codeRestoreFailed, "remote restore of %q: %w", o.clientID, err)
	}
	return true, nil
}

// capture reads every record of the session into a snapshot and encodes it
// (docs/SNAPSHOT.md). Callers flush first: the group commit may still hold
// writes the snapshot must include.
func (s *session) capture(ctx context.Context) (*snapshot.Snapshot, []byte, error) {
	snap, err := snapshot.Capture(ctx, s.raw, s.opts.clientID, idbstore.DumpTables)
	if err != nil {
		return nil, nil, err
	}
	blob, err := snap.Encode()
	if err != nil {
		return nil, nil, err
	}
	return snap, blob, nil
}

// close flushes and closes the session's storage and releases its lock;
// it keeps the data.
func (s *session) close(ctx context.Context) error {
	var errs []error
	s.closeOnce.Do(func() {
		if s.container != nil {
			unregisterSession(s)
			if err := s.container.Flush(ctx); err != nil {
				errs = append(errs, err)
			}
			if err := s.container.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if s.raw != nil {
			if err := s.raw.Close(); err != nil && !errors.Is(err, kv.ErrClosed) {
				errs = append(errs, err)
			}
		}
		s.release()
	})
	return errors.Join(errs...)
}

// wipe deletes every trace of the session in this browser (or the user's
// custom store), then closes it.
func (s *session) wipe(ctx context.Context) error {
	var errs []error
	if s.container != nil && s.device != nil && s.device.ID != nil {
		// whatsmeow's own Store.Delete (on logout) clears ID; then this is done.
		if err := s.container.DeleteDevice(ctx, s.device); err != nil {
			errs = append(errs, fmt.Errorf("deleting the device: %w", err))
		}
	}
	if s.keystore != nil {
		// Let queued writes (whatsmeow's own device delete) land first, or
		// they would reach the user's store after it was cleared.
		if s.container != nil {
			if err := s.container.Flush(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if err := s.keystore.Clear(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.close(ctx); err != nil {
		errs = append(errs, err)
	}
	if s.opts.strategy == strategyLocal || s.opts.strategy == strategyRemote {
		if err := idbkv.Delete(ctx, dbNameFor(s.opts.dbName, s.opts.clientID)); err != nil {
			errs = append(errs, fmt.Errorf("deleting IndexedDB database %q: %w", dbNameFor(s.opts.dbName, s.opts.clientID), err))
		}
	}
	return errors.Join(errs...)
}

// notifyingBackend reports every successful commit: the remote strategy's
// signal that the session changed.
type notifyingBackend struct {
	kv.Backend
	onCommit func()
}

func (n *notifyingBackend) Commit(ctx context.Context, ops []kv.Op) error {
	err := n.Backend.Commit(ctx, ops)
	if err == nil && len(ops) > 0 {
		n.onCommit()
	}
	return err
}

// flushForWrite is the write barrier of the session's socket: no frame (an
// ack, a receipt, a reply) leaves before the state it depends on is
// durable, which is what makes idbstore's group commit honest. A failure is
// reported to the session's client, and the frame is not sent.
func (s *session) flushForWrite(ctx context.Context) error {
	err := s.container.Flush(ctx)
	if err == nil || errors.Is(err, idbstore.ErrClosed) {
		return nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		// The socket is closing (its context ended) while the commit is still
		// under way: the commit goes on and the frame is not sent, which is
		// right. That is a lost connection, not a storage failure, and the
		// error says so (a send it interrupts rejects with it).
		return fmt.Errorf("the connection closed while the frame waited for its state to be stored: %w", ctx.Err())
	}
	s.onFailure(err)
	return err
}

// socketOwnerKey tags the context a client connects with, which whatsmeow
// passes on to every write of that connection (reconnects included): the
// barrier then waits for that session only, and one session that cannot
// store does not stall the others.
type socketOwnerKey struct{}

func withSocketOwner(ctx context.Context, s func() *session) context.Context {
	return context.WithValue(ctx, socketOwnerKey{}, s)
}

// writeBarrier runs before every websocket write.
func writeBarrier(ctx context.Context) error {
	if owner, ok := ctx.Value(socketOwnerKey{}).(func() *session); ok {
		if s := owner(); s != nil {
			return s.flushForWrite(ctx)
		}
		return nil
	}
	return flushAll(ctx)
}

// Every open session, for a write whose socket has no owner (none is
// expected): it waits for all of them.
var (
	sessionsMu sync.Mutex
	sessions   = map[*session]struct{}{}
)

func registerSession(s *session) {
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	sessions[s] = struct{}{}
}

func unregisterSession(s *session) {
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	delete(sessions, s)
}

func flushAll(ctx context.Context) error {
	sessionsMu.Lock()
	all := slices.Collect(maps.Keys(sessions))
	sessionsMu.Unlock()
	var errs []error
	for _, s := range all {
		errs = append(errs, s.flushForWrite(ctx))
	}
	return errors.Join(errs...)
}

// decodeSnapshot decodes a session snapshot and checks it is whole: it
// holds a device, and every record decodes with idbstore's codecs. Nothing
// is written before this passed, so a bad snapshot leaves no half-restored
// (and listed) session behind. A snapshot of an earlier idbstore layout is
// restored as it is and upgraded when the session is opened.
func decodeSnapshot(blob []byte) (*snapshot.Snapshot, error) {
	snap, err := snapshot.Decode(blob, idbstore.DumpTables)
	if err != nil {
		return nil, err
	}
	if !idbstore.DumpHasDevice(snap.Tables) {
		return nil, errors.New("the snapshot holds no device (it was taken before pairing)")
	}
	if err := snap.Validate(idbstore.ValidateRecord); err != nil {
		return nil, fmt.Errorf("the snapshot holds a corrupt record: %w", err)
	}
	idbstore.PrepareRestore(snap.Tables)
	return snap, nil
}
