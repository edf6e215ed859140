//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall/js"
	"time"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/idbkv"
	"github.com/wasmeow/wasmeow/kv/jskv"
)

// The browser's storages of the core: IndexedDB behind a Web Lock (local,
// remote), the page's own key store (custom); strategy none is the core's
// memory.

// dbNameFor is the IndexedDB database of a local or remote session.
func dbNameFor(dbName, clientID string) string { return dbName + ":" + clientID }

func lockName(dbName, clientID string) string { return "wasmeow:" + dbNameFor(dbName, clientID) }

// storageFor is the storage of o's strategy.
func storageFor(o *clientOptions) core.Storage {
	switch o.Strategy {
	case core.StrategyCustom:
		return &customStorage{o: o}
	case core.StrategyLocal, core.StrategyRemote:
		return &idbStorage{dbName: o.DBName, clientID: o.ClientID, release: func() {}}
	}
	return core.MemoryStorage{}
}

// idbStorage is a session's IndexedDB database, held with the tab lock.
type idbStorage struct {
	dbName, clientID string
	release          func()
}

func (s *idbStorage) Open(ctx context.Context) (kv.Backend, error) {
	release, err := tryTabLock(ctx, lockName(s.dbName, s.clientID))
	if err != nil {
		return nil, err
	}
	s.release = release
	b, err := idbkv.Open(ctx, idbkv.Options{Name: dbNameFor(s.dbName, s.clientID), Tables: idbstore.BackendTables})
	if err != nil {
		// Not a nil *Backend in the interface: the core would call Close on it.
		return nil, s.openError(err)
	}
	return b, nil
}

// openError describes a failure to open the database.
func (s *idbStorage) openError(err error) error {
	name := dbNameFor(s.dbName, s.clientID)
	if errors.Is(err, idbkv.ErrCorruptMeta) {
		return jsbridge.Errorf(core.CodeStoreCorrupt, "session %q: table %s of IndexedDB database %q is corrupt (%w); deleteSession(%q) and pair again, or importSession a backup", s.clientID, idbkv.MetaStore, name, err, s.clientID)
	}
	return fmt.Errorf("opening IndexedDB database %q: %w", name, err)
}

func (s *idbStorage) Clear(context.Context) error { return nil }

func (s *idbStorage) Remove(ctx context.Context) error {
	name := dbNameFor(s.dbName, s.clientID)
	if err := idbkv.Delete(ctx, name); err != nil {
		return fmt.Errorf("deleting IndexedDB database %q: %w", name, err)
	}
	return nil
}

func (s *idbStorage) Release() { s.release() }

// customStorage is the page's own keys and creds stores (kv/jskv): in
// Baileys' shapes (jskv.Baileys), or, for a store wasmeow's first custom
// layout wrote (its creds are {device: ...}), in that layout (jskv.Backend),
// which such stores keep.
type customStorage struct {
	o  *clientOptions
	ks jskv.Store
}

func (s *customStorage) Open(ctx context.Context) (kv.Backend, error) {
	loaded := js.Undefined()
	if jsbridge.IsNullish(s.o.state) {
		if err := jskv.CheckCredsStore(s.o.creds); err != nil {
			return nil, err
		}
		v, err := jsbridge.CallStore(ctx, s.o.StoreTimeout, s.o.creds, "auth.creds.load()", "load")
		if err != nil {
			return nil, err
		}
		legacy, err := jskv.IsLegacyCreds(v)
		if err != nil {
			return nil, err
		}
		if legacy {
			ks, err := jskv.New(s.o.keys, s.o.creds, []string{idbstore.DeviceTable})
			if err != nil {
				return nil, err
			}
			ks.Timeout = s.o.StoreTimeout
			s.ks = ks
			return ks, nil
		}
		loaded = v
	}
	ks, err := jskv.OpenBaileys(s.o.keys, s.o.creds, s.o.state, s.o.saveCreds, loaded)
	if err != nil {
		return nil, err
	}
	ks.Timeout = s.o.StoreTimeout
	s.ks = ks
	return ks, nil
}

func (s *customStorage) Clear(ctx context.Context) error {
	if s.ks == nil {
		return nil
	}
	return s.ks.Clear(ctx)
}

func (s *customStorage) Remove(context.Context) error { return nil }
func (s *customStorage) Release()                     {}

// jsRemoteStore is the page's auth.store, each call bounded by storeTimeout.
type jsRemoteStore struct {
	obj     js.Value
	timeout time.Duration
}

func (r jsRemoteStore) call(ctx context.Context, method string, args map[string]any) (js.Value, error) {
	return jsbridge.CallStore(ctx, r.timeout, r.obj, "auth.store."+method+"()", method, args)
}

func (r jsRemoteStore) SessionExists(ctx context.Context, session string) (bool, error) {
	v, err := r.call(ctx, "sessionExists", map[string]any{"session": session})
	return err == nil && v.Truthy(), err
}

func (r jsRemoteStore) Extract(ctx context.Context, session string) ([]byte, error) {
	v, err := r.call(ctx, "extract", map[string]any{"session": session})
	if err != nil {
		return nil, err
	}
	b, err := jsbridge.BytesFromJS(v)
	if err != nil {
		return nil, fmt.Errorf("it must resolve to the Uint8Array that save was given: %w", err)
	}
	return b, nil
}

func (r jsRemoteStore) Save(ctx context.Context, session string, data []byte) error {
	_, err := r.call(ctx, "save", map[string]any{"session": session, "data": jsbridge.BytesToJS(data)})
	return err
}

func (r jsRemoteStore) Delete(ctx context.Context, session string) error {
	_, err := r.call(ctx, "delete", map[string]any{"session": session})
	return err
}

// listSessions names the clientIds with a local database under dbName.
func listSessions(ctx context.Context, dbName string) ([]string, error) {
	names, err := idbkv.List(ctx, dbName+":")
	if err != nil {
		return nil, fmt.Errorf("listSessions of %q: %w", dbName, err)
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.TrimPrefix(n, dbName+":"))
	}
	return out, nil
}

// lockUnusedSession takes the tab lock of a local session that no client
// of this page or another tab has open, for call (its name) to change it.
func lockUnusedSession(ctx context.Context, call, dbName, clientID string) (release func(), err error) {
	if !core.ClientIDPattern.MatchString(clientID) {
		return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: %q is not a valid clientId", call, clientID)
	}
	if openHere(dbName, clientID) {
		return nil, jsbridge.Errorf(core.CodeSessionInUse, "%s: session %q is open in this page; logout() or destroy() its client first", call, clientID)
	}
	return tryTabLock(ctx, lockName(dbName, clientID))
}

// deleteSession deletes a session's local database; not one that a client
// of this page or another tab has open.
func deleteSession(ctx context.Context, dbName, clientID string) error {
	release, err := lockUnusedSession(ctx, "deleteSession", dbName, clientID)
	if err != nil {
		return err
	}
	defer release()
	if err := idbkv.Delete(ctx, dbNameFor(dbName, clientID)); err != nil {
		return fmt.Errorf("deleteSession %q: %w", clientID, err)
	}
	return nil
}

// importSession makes a snapshot (exportSession's, or a remote store's) the
// local session clientId, which must not hold a device yet. All or nothing:
// the records land in one commit, and a database this call created is
// deleted again when that fails.
func importSession(ctx context.Context, dbName, clientID string, data []byte) error {
	if !core.ClientIDPattern.MatchString(clientID) {
		return jsbridge.Errorf(jsbridge.CodeInvalidOption, "importSession: %q is not a valid clientId", clientID)
	}
	snap, err := core.DecodeSnapshot(data)
	if err != nil {
		return jsbridge.Errorf(core.CodeRestoreFailed, "importSession %q: %w", clientID, err)
	}
	release, err := lockUnusedSession(ctx, "importSession", dbName, clientID)
	if err != nil {
		return err
	}
	defer release()
	name := dbNameFor(dbName, clientID)
	existed, err := idbkv.List(ctx, name)
	if err != nil {
		return fmt.Errorf("importSession %q: %w", clientID, err)
	}
	b, err := idbkv.Open(ctx, idbkv.Options{Name: name, Tables: idbstore.BackendTables})
	if err != nil {
		return fmt.Errorf("importSession %q: opening IndexedDB database %q: %w", clientID, name, err)
	}
	have, err := idbstore.HasDevice(ctx, b)
	if err == nil && have {
		err = jsbridge.Errorf(core.CodeSessionExists, "importSession: session %q already holds a device; deleteSession it first", clientID)
	} else if err == nil {
		err = snap.Restore(ctx, b)
	}
	if cerr := b.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil && !slices.Contains(existed, name) {
		_ = idbkv.Delete(ctx, name)
	}
	if err != nil && !core.HasCode(err) {
		err = jsbridge.Errorf(core.CodeRestoreFailed, "importSession %q: %w", clientID, err)
	}
	return err
}
