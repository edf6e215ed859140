package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.mau.fi/whatsmeow/store"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/wasm/snapshot"
)

// CorruptError is the store_corrupt error of a record that failed to decode.
func CorruptError(clientID string, ce *idbstore.CorruptError) error {
	what := "the call that read it failed"
	switch ce.Table {
	case "session", "identity":
		what = fmt.Sprintf("treated as missing: the next message from %s gets a retry receipt (asking it to resend) and a new session replaces the record", ce.Address())
	case "sender_key":
		what = "treated as missing: the sender is asked to resend"
	}
	return Errorf(CodeStoreCorrupt, "session %q: table %s, record %s: cannot be decoded (%v); %s", clientID, ce.Table, ce.Record(), ce.Err, what)
}

// session is one clientId's open storage: the kv backend, the idbstore
// container on it and the device it holds.
type session struct {
	clientID  string
	storage   Storage
	backend   kv.Backend // what the container writes to (notifying, for remote)
	raw       kv.Backend // the backend itself
	container *idbstore.Container
	device    *store.Device
	restored  bool                   // remote: the state came from the user's store just now
	onCommit  atomic.Pointer[func()] // remote: set by the sync loop, called on the committer's goroutine
	onFailure func(error)
	pages     *pageQueue // the page's events, in order behind their commits
	closeOnce sync.Once
	prefetch  sync.Once
}

// prefetchSignal starts, once per session, the background load of the
// device's Signal records (idbstore's PrefetchLater). It runs once the client
// is ready rather than when the device loads, so that logging in does not
// compete with it for the page's only thread.
func (s *session) prefetchSignal() {
	s.prefetch.Do(func() {
		if s.device != nil && s.device.ID != nil {
			s.container.PrefetchLater(*s.device.ID)
		}
	})
}

// openSession opens (or creates) the storage of a session. With a remote
// store, a storage without a device is restored from it first.
// onStoreFailure is told when the write barrier cannot commit the session's
// pending writes (the frame that needed them is not sent). onCorrupt is
// told (on a goroutine of its own, once per record) of every stored record
// that fails to decode, as a store_corrupt error naming the table and the
// record.
func openSession(ctx context.Context, clientID string, st Storage, remote *remoteStore, log waLog.Logger, onStoreFailure, onCorrupt func(error)) (s *session, err error) {
	if onStoreFailure == nil {
		onStoreFailure = func(error) {}
	}
	s = &session{clientID: clientID, storage: st, onFailure: onStoreFailure}
	defer func() {
		if err != nil {
			s.close(ctx)
		}
	}()
	if s.raw, err = st.Open(ctx); err != nil {
		return s, err
	}
	s.backend = s.raw
	if remote != nil {
		if s.restored, err = remote.restoreIfMissing(ctx, s.raw); err != nil {
			return s, err
		}
		s.backend = &notifyingBackend{Backend: s.raw, onCommit: func() {
			if f := s.onCommit.Load(); f != nil {
				(*f)()
			}
		}}
	}
	if s.container, err = idbstore.New(ctx, s.backend, log); err != nil {
		return s, fmt.Errorf("opening the store of %q: %w", clientID, err)
	}
	s.pages = newPageQueue(s.container, s.onFailure)
	s.container.SetDeviceHook(wrapDeviceStores(s.pages))
	if onCorrupt != nil {
		s.container.SetCorruptionHandler(func(ce *idbstore.CorruptError) {
			// Met inside whatsmeow's store calls (a decryption, a send):
			// listeners run elsewhere, and may call back into the client.
			go func() {
				defer func() { _ = recover() }()
				onCorrupt(CorruptError(clientID, ce))
			}()
		})
	}
	if s.device, err = s.container.GetFirstDevice(ctx); err != nil {
		var ce *idbstore.CorruptError
		if errors.As(err, &ce) {
			return s, Errorf(CodeStoreCorrupt, "loading the device of %q: %w; deleteSession(%q) and pair again, or importSession a backup", clientID, CorruptError(clientID, ce), clientID)
		}
		return s, fmt.Errorf("loading the device of %q: %w", clientID, err)
	}
	if s.device == nil {
		s.device = s.container.NewDevice()
	}
	registerSession(s)
	return s, nil
}

// capture reads every record of the session into a snapshot and encodes it
// (docs/SNAPSHOT.md). Callers flush first: the group commit may still hold
// writes the snapshot must include.
func (s *session) capture(ctx context.Context) (*snapshot.Snapshot, []byte, error) {
	snap, err := snapshot.Capture(ctx, s.raw, s.clientID, idbstore.DumpTables)
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
		flushed := false
		if s.container != nil {
			unregisterSession(s)
			if err := s.container.Flush(ctx); err != nil {
				errs = append(errs, err)
			} else {
				flushed = true
			}
		}
		if s.pages != nil {
			// A message whose commit was under way when the session closed
			// is stored now: give it to the page before the listeners go
			// (else the next session would show it as redelivered). Only
			// what cannot be stored (a failed or stuck store) is dropped.
			if flushed {
				_ = s.pages.drain(ctx)
			}
			s.pages.stop()
		}
		if s.container != nil {
			if err := s.container.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if s.raw != nil {
			if err := s.raw.Close(); err != nil && !errors.Is(err, kv.ErrClosed) {
				errs = append(errs, err)
			}
		}
		s.storage.Release()
	})
	return errors.Join(errs...)
}

// wipe deletes every trace of the session in its storage, then closes it.
// The devices are read from the storage rather than taken from the client:
// whatsmeow deletes its device itself on a server logout (clearing its ID)
// while the LoggedOut event is being handled, without a lock.
func (s *session) wipe(ctx context.Context) error {
	var errs []error
	if s.container != nil {
		devices, err := s.container.GetAllDevices(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("listing the devices to delete: %w", err))
		}
		for _, d := range devices {
			if err := s.container.DeleteDevice(ctx, d); err != nil {
				errs = append(errs, fmt.Errorf("deleting the device: %w", err))
			}
		}
		// Let queued writes land first, or they would reach a user's store
		// after it was cleared.
		if err := s.container.Flush(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.storage.Clear(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.close(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.storage.Remove(ctx); err != nil {
		errs = append(errs, err)
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

// DecodeSnapshot decodes a session snapshot and checks it is whole
// (snapshot.DecodeSession: the same path as the native converter's). Nothing
// is written before this passed, so a bad snapshot leaves no half-restored
// (and listed) session behind.
func DecodeSnapshot(blob []byte) (*snapshot.Snapshot, error) {
	return snapshot.DecodeSession(blob)
}
