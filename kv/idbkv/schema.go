//go:build js

package idbkv

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hack-pad/safejs"
)

// MetaStore is the object store holding the schema version ("schemaVersion",
// a number) and the table list ("tables", an array of names). It is reserved:
// no table may have this name.
const MetaStore = "_meta"

// ErrCorruptMeta is wrapped by Open when the meta store holds something
// other than what this package wrote there: the database is not usable as
// it is, and no schema step is run on it.
var ErrCorruptMeta = errors.New("idbkv: corrupt " + MetaStore + " record")

const (
	metaSchemaKey = "schemaVersion"
	metaTablesKey = "tables"
)

// upgradeTx is what a schema step may use: the database inside its
// versionchange transaction. Steps run synchronously inside the browser's
// upgradeneeded event; requests they issue complete before Open succeeds,
// and a failing request aborts the whole upgrade.
type upgradeTx struct {
	db safejs.Value
	tx safejs.Value
}

func (u *upgradeTx) hasStore(name string) bool {
	names, err := u.db.Get("objectStoreNames")
	if err != nil {
		return false
	}
	ok, err := names.Call("contains", name)
	if err != nil {
		return false
	}
	b, _ := ok.Bool()
	return b
}

func (u *upgradeTx) createStore(name string) error {
	if u.hasStore(name) {
		return nil
	}
	if _, err := u.db.Call("createObjectStore", name); err != nil {
		return fmt.Errorf("creating object store %q: %w", name, jsCallError(err))
	}
	return nil
}

func (u *upgradeTx) put(store string, key, value any) error {
	st, err := u.tx.Call("objectStore", store)
	if err != nil {
		return fmt.Errorf("object store %q: %w", store, jsCallError(err))
	}
	if _, err := st.Call("put", value, key); err != nil {
		return fmt.Errorf("put %q in %q: %w", key, store, jsCallError(err))
	}
	return nil
}

// upgrades are the numbered schema steps, like sqlstore's: upgrades[i]
// takes a database from schema version i to i+1. Append only, never edit a
// released step: users' browsers hold data at every earlier version. Tables
// named in Options.Tables are created after the steps, in the same upgrade.
var upgrades = []func(u *upgradeTx) error{
	// 1: the meta store.
	func(u *upgradeTx) error { return u.createStore(MetaStore) },
}

// plan is what an open at a new IndexedDB version must do, decided from the
// state seen at fromVersion.
type plan struct {
	fromVersion int // IndexedDB version the plan was made at
	fromSchema  int // schema version stored there
	tables      []string
}

var errRaced = errors.New("the database changed while opening; retrying")

// run applies the plan inside the upgradeneeded event.
func (p *plan) run(u *upgradeTx, oldVersion int) error {
	from := p.fromSchema
	switch {
	case oldVersion == 0:
		from = 0 // a new (or meanwhile deleted) database
	case oldVersion != p.fromVersion:
		return errRaced
	}
	for i := from; i < len(upgrades); i++ {
		if err := upgrades[i](u); err != nil {
			return fmt.Errorf("schema upgrade %d: %w", i+1, err)
		}
	}
	for _, t := range p.tables {
		if err := u.createStore(t); err != nil {
			return err
		}
	}
	if err := u.put(MetaStore, metaSchemaKey, len(upgrades)); err != nil {
		return err
	}
	names, err := storeNames(u.db)
	if err != nil {
		return err
	}
	list := make([]any, 0, len(names))
	for _, n := range names {
		if n != MetaStore {
			list = append(list, n)
		}
	}
	return u.put(MetaStore, metaTablesKey, list)
}

func storeNames(db safejs.Value) ([]string, error) {
	names, err := db.Get("objectStoreNames")
	if err != nil {
		return nil, err
	}
	n, err := names.Length()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		v, err := names.Call("item", i)
		if err != nil {
			return nil, err
		}
		s, err := v.String()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// openRequest opens name at version (0: the current one, creating the
// database if missing) and runs p in upgradeneeded.
func openRequest(ctx context.Context, g *jsGlobals, name string, version int, p *plan, blockedTimeout time.Duration) (safejs.Value, error) {
	var req safejs.Value
	var err error
	if version > 0 {
		req, err = g.factory.Call("open", name, version)
	} else {
		req, err = g.factory.Call("open", name)
	}
	if err != nil {
		return safejs.Undefined(), jsCallError(err)
	}
	upgrade := func(ev safejs.Value) error { return runUpgrade(req, ev, p) }
	late := func() {
		if db, err := req.Get("result"); err == nil {
			_, _ = db.Call("close")
		}
	}
	if err := awaitDBRequest(ctx, req, blockedTimeout, upgrade, late); err != nil {
		return safejs.Undefined(), err
	}
	return req.Get("result")
}

// awaitDBRequest waits for an open or deleteDatabase request. upgrade runs
// inside upgradeneeded. If the request stays blocked by connections that
// do not close for longer than blockedTimeout, or ctx ends first, it gives
// up; should the request succeed later, late runs (an open closes the
// connection nobody waits for).
func awaitDBRequest(ctx context.Context, req safejs.Value, blockedTimeout time.Duration, upgrade func(ev safejs.Value) error, late func()) error {
	handlers := []string{"onupgradeneeded", "onblocked", "onsuccess", "onerror"}
	var (
		abandoned  atomic.Bool
		upgradeErr error
		events     = make(chan string, 4)
		fn         safejs.Func
		err        error
	)
	release := func() {
		for _, h := range handlers {
			_ = req.Set(h, safejs.Null())
		}
		fn.Release()
	}
	fn, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		defer func() {
			if r := recover(); r != nil {
				upgradeErr = fmt.Errorf("panic in %s handler: %v", "IndexedDB", r)
			}
		}()
		if len(args) == 0 {
			return nil
		}
		ev := args[0]
		typ := propString(ev, "type")
		switch typ {
		case "upgradeneeded":
			if upgrade != nil {
				upgradeErr = upgrade(ev)
			}
		case "success", "error":
			if typ == "error" {
				_, _ = ev.Call("preventDefault")
			}
			if abandoned.Load() {
				if typ == "success" && late != nil {
					late()
				}
				release()
				return nil
			}
		}
		select {
		case events <- typ:
		default:
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, h := range handlers {
		if err := req.Set(h, fn); err != nil {
			fn.Release()
			return err
		}
	}
	// The clock runs until the request gets its turn: a request waits for
	// connections that do not close ("blocked"), and also, without any
	// event, behind other queued requests on the same database.
	timer := time.NewTimer(blockedTimeout)
	defer timer.Stop()
	timeout := timer.C
	for {
		select {
		case typ := <-events:
			switch typ {
			case "upgradeneeded":
				timeout = nil // running now: an upgrade takes what it takes
			case "success":
				release()
				return nil
			case "error":
				release()
				if upgradeErr != nil {
					return upgradeErr
				}
				reqErr, _ := req.Get("error")
				return domError(reqErr)
			}
		case <-timeout:
			abandoned.Store(true)
			return fmt.Errorf("%w: gave up after %v; the request stays queued and proceeds once the other connection closes", ErrBlocked, blockedTimeout)
		case <-ctx.Done():
			abandoned.Store(true)
			return ctx.Err()
		}
	}
}

// runUpgrade runs inside upgradeneeded; a failure aborts the versionchange
// transaction so the database stays as it was.
func runUpgrade(req, ev safejs.Value, p *plan) error {
	tx, err := req.Get("transaction")
	if err != nil {
		return err
	}
	db, err := req.Get("result")
	if err != nil {
		_, _ = tx.Call("abort")
		return err
	}
	oldV, err := ev.Get("oldVersion")
	if err == nil {
		var old int
		if old, err = oldV.Int(); err == nil {
			err = p.run(&upgradeTx{db: db, tx: tx}, old)
		}
	}
	if err != nil {
		_, _ = tx.Call("abort")
	}
	return err
}

// readSchema returns the stored schema version (0 without a meta store).
func readSchema(ctx context.Context, db safejs.Value) (int, error) {
	names, err := storeNames(db)
	if err != nil {
		return 0, err
	}
	if !slices.Contains(names, MetaStore) {
		return 0, nil
	}
	tx, err := db.Call("transaction", MetaStore, "readonly")
	if err != nil {
		return 0, jsCallError(err)
	}
	st, err := tx.Call("objectStore", MetaStore)
	if err != nil {
		return 0, jsCallError(err)
	}
	req, err := st.Call("get", metaSchemaKey)
	if err != nil {
		return 0, jsCallError(err)
	}
	w, err := watchTx(tx)
	if err != nil {
		return 0, err
	}
	if err := w.wait(ctx); err != nil {
		return 0, err
	}
	v, err := req.Get("result")
	if err != nil {
		return 0, err
	}
	if v.Type() != safejs.TypeNumber {
		return 0, fmt.Errorf("%w: %s/%s is a JS %s, not a number", ErrCorruptMeta, MetaStore, metaSchemaKey, v.Type())
	}
	f, err := v.Float()
	if err != nil {
		return 0, err
	}
	// A negative or fractional version would index the upgrade steps wrongly.
	if f != math.Trunc(f) || f < 0 || f > 1<<20 {
		return 0, fmt.Errorf("%w: %s/%s is %v, not a schema version", ErrCorruptMeta, MetaStore, metaSchemaKey, f)
	}
	return int(f), nil
}

// openDB opens name with every step applied and every table present,
// upgrading (one IndexedDB version up) when something is missing.
func openDB(ctx context.Context, g *jsGlobals, opts *Options) (safejs.Value, error) {
	newDB := &plan{tables: opts.Tables}
	db, err := openRequest(ctx, g, opts.Name, 0, newDB, opts.BlockedTimeout)
	for attempt := 0; ; attempt++ {
		if err != nil {
			return safejs.Undefined(), err
		}
		var up *plan
		up, err = needs(ctx, db, opts.Tables)
		if err != nil || up == nil {
			if err != nil {
				_, _ = db.Call("close")
			}
			return db, err
		}
		_, _ = db.Call("close")
		if attempt >= 5 {
			return safejs.Undefined(), fmt.Errorf("schema still incomplete after %d upgrades (another tab keeps changing it?)", attempt)
		}
		db, err = openRequest(ctx, g, opts.Name, up.fromVersion+1, up, opts.BlockedTimeout)
		if errors.Is(err, errRaced) || isDOMName(err, "VersionError") {
			// another connection upgraded first: start over from its state
			db, err = openRequest(ctx, g, opts.Name, 0, newDB, opts.BlockedTimeout)
		}
	}
}

// needs returns the upgrade db lacks, or nil when it is complete.
func needs(ctx context.Context, db safejs.Value, tables []string) (*plan, error) {
	schema, err := readSchema(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("reading the schema version: %w", err)
	}
	if schema > len(upgrades) {
		return nil, fmt.Errorf("schema version %d is newer than this build knows (%d): refusing to touch data a newer wasmeow wrote", schema, len(upgrades))
	}
	names, err := storeNames(db)
	if err != nil {
		return nil, err
	}
	missing := false
	for _, t := range tables {
		missing = missing || !slices.Contains(names, t)
	}
	if schema == len(upgrades) && !missing {
		return nil, nil
	}
	vv, err := db.Get("version")
	if err != nil {
		return nil, err
	}
	version, err := vv.Int()
	if err != nil {
		return nil, err
	}
	return &plan{fromVersion: version, fromSchema: schema, tables: tables}, nil
}
