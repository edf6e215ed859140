//go:build js

// Command wasm is wasmeow's browser program: whatsmeow with its auth state
// in IndexedDB (or memory, or the page's own store), behind the API that
// web/wasmeow.js exposes. The ES module starts it with argv[1] naming a
// global function, which main calls once with the module object.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall/js"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"

	"github.com/coder/websocket"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/kv/idbkv"
)

// version is reported to the page as module.version.
const version = "0.1.0"

func main() {
	websocket.SetWriteBarrier(writeBarrier)
	mod := js.Global().Get("Object").New()
	mod.Set("version", version)
	mod.Set("configure", jsbridge.SyncFunc("configure", func(args []js.Value) (any, error) {
		var opt js.Value
		if len(args) > 0 {
			opt = args[0]
		}
		return nil, configureModule(opt)
	}))
	mod.Set("getWAVersion", jsbridge.SyncFunc("getWAVersion", func([]js.Value) (any, error) {
		return store.GetWAVersion().String(), nil
	}))
	bg := context.Background()
	mod.Set("createClient", jsbridge.Func("createClient", func(args []js.Value) (any, error) {
		var opt js.Value
		if len(args) > 0 {
			opt = args[0]
		}
		return createClient(bg, opt)
	}))
	mod.Set("listSessions", jsbridge.Func("listSessions", func(args []js.Value) (any, error) {
		db, err := dbNameArg(args, 0, "listSessions(options?)")
		if err != nil {
			return nil, err
		}
		return listSessions(bg, db)
	}))
	mod.Set("deleteSession", jsbridge.Func("deleteSession", func(args []js.Value) (any, error) {
		if len(args) == 0 || args[0].Type() != js.TypeString {
			return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "deleteSession(clientId, options?): clientId must be a string")
		}
		db, err := dbNameArg(args, 1, "deleteSession(clientId, options?)")
		if err != nil {
			return nil, err
		}
		return nil, deleteSession(bg, db, args[0].String())
	}))
	mod.Set("importSession", jsbridge.Func("importSession", func(args []js.Value) (any, error) {
		const sig = "importSession(clientId, data, options?)"
		if len(args) < 2 || args[0].Type() != js.TypeString {
			return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: clientId must be a string", sig)
		}
		data, err := jsbridge.BytesFromJS(args[1])
		if err != nil {
			return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: data must be the Uint8Array exportSession gave: %w", sig, err)
		}
		db, err := dbNameArg(args, 2, sig)
		if err != nil {
			return nil, err
		}
		return nil, importSession(bg, db, args[0].String(), data)
	}))
	if len(os.Args) < 2 || js.Global().Get(os.Args[1]).Type() != js.TypeFunction {
		fmt.Println("wasmeow: start me through wasmeow.js (argv[1] must name the global ready callback)")
		return
	}
	js.Global().Get(os.Args[1]).Invoke(mod)
	select {} // serve the page forever; returning would end the program under it
}

// dbNameArg reads the optional {dbName} argument i of a module function
// (sig names the call); anything but an object of known keys is refused.
func dbNameArg(args []js.Value, i int, sig string) (string, error) {
	if len(args) <= i || jsbridge.IsNullish(args[i]) {
		return defaultDBName, nil
	}
	if !isPlainObject(args[i]) {
		return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: options must be an object like {dbName}, got %s", sig, jsTypeName(args[i]))
	}
	keys := js.Global().Get("Object").Call("keys", args[i])
	for k := 0; k < keys.Length(); k++ {
		if name := keys.Index(k).String(); name != "dbName" {
			return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: unknown option %s (known: dbName)", sig, name)
		}
	}
	db := jsbridge.Get(args[i], "dbName")
	if jsbridge.IsNullish(db) {
		return defaultDBName, nil
	}
	if db.Type() != js.TypeString || db.String() == "" || strings.Contains(db.String(), ":") || len(db.String()) > 100 {
		return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: option dbName must be 1 to 100 characters without ':'", sig)
	}
	return db.String(), nil
}

// Live clients, keyed by address; createClient refuses a second client of an
// open local or remote session (one page must not open a session twice).
var (
	clientsMu sync.Mutex
	clients   = map[string]*client{}
	// What the process-wide whatsmeow and websocket settings were set to, and
	// how many live clients rely on them.
	globalSocketURL string
	globalRootKey   []byte
	globalUsers     int
)

func createClient(ctx context.Context, v js.Value) (any, error) {
	o, err := parseOptions(v)
	if err != nil {
		return nil, err
	}
	clientsMu.Lock()
	if o.strategy == strategyLocal || o.strategy == strategyRemote {
		for _, other := range clients {
			if (other.opts.strategy == strategyLocal || other.opts.strategy == strategyRemote) &&
				dbNameFor(other.opts.dbName, other.opts.clientID) == dbNameFor(o.dbName, o.clientID) {
				clientsMu.Unlock()
				return nil, jsbridge.Errorf(codeSessionInUse, "createClient: session %q (database %q) is already open in this page; destroy() that client first", o.clientID, dbNameFor(o.dbName, o.clientID))
			}
		}
	}
	// The socket URL and the trusted root key are process-wide in whatsmeow
	// and the websocket shim; clients of one page must agree on them.
	if globalUsers > 0 && (o.socketURL != globalSocketURL || !bytes.Equal(o.trustRootKey, globalRootKey)) {
		clientsMu.Unlock()
		return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "createClient: options socketURL and trustRootKey must be the same for every live client of a page (another client uses socketURL %q)", globalSocketURL)
	}
	globalSocketURL, globalRootKey = o.socketURL, o.trustRootKey
	globalUsers++
	clientsMu.Unlock()
	c, err := newClient(ctx, o)
	if err != nil {
		clientsMu.Lock()
		globalUsers--
		clientsMu.Unlock()
		return nil, err
	}
	clientsMu.Lock()
	clients[fmt.Sprintf("%p", c)] = c
	clientsMu.Unlock()
	return c.handle(), nil
}

func unregisterClient(c *client) {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if _, ok := clients[fmt.Sprintf("%p", c)]; ok {
		delete(clients, fmt.Sprintf("%p", c))
		globalUsers--
	}
}

// applyGlobals sets what whatsmeow keeps in package variables just before a
// client connects.
func applyGlobals(o *options) error {
	if o.socketURL != "" {
		u := o.socketURL
		websocket.SetURLRewrite(func(string) string { return u })
	} else {
		websocket.SetURLRewrite(nil)
	}
	if o.trustRootKey != nil {
		whatsmeow.WACertPubKey = [32]byte(o.trustRootKey)
	}
	store.SetOSInfo(o.deviceName, [3]uint32{0, 1, 0})
	store.DeviceProps.PlatformType = pagePlatform.props.Enum() // as the QR code and PairPhone say (platform.go)
	return nil
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
	if !clientIDPattern.MatchString(clientID) {
		return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: %q is not a valid clientId", call, clientID)
	}
	name := dbNameFor(dbName, clientID)
	clientsMu.Lock()
	for _, c := range clients {
		if dbNameFor(c.opts.dbName, c.opts.clientID) == name && (c.opts.strategy == strategyLocal || c.opts.strategy == strategyRemote) {
			clientsMu.Unlock()
			return nil, jsbridge.Errorf(codeSessionInUse, "%s: session %q is open in this page; logout() or destroy() its client first", call, clientID)
		}
	}
	clientsMu.Unlock()
	return tryTabLock(ctx, (&options{dbName: dbName, clientID: clientID}).lockName())
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
	if !clientIDPattern.MatchString(clientID) {
		return jsbridge.Errorf(jsbridge.CodeInvalidOption, "importSession: %q is not a valid clientId", clientID)
	}
	snap, err := decodeSnapshot(data)
	if err != nil {
		return jsbridge.Errorf(codeRestoreFailed, "importSession %q: %w", clientID, err)
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
		err = jsbridge.Errorf(codeSessionExists, "importSession: session %q already holds a device; deleteSession it first", clientID)
	} else if err == nil {
		err = snap.Restore(ctx, b)
	}
	if cerr := b.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil && !slices.Contains(existed, name) {
		_ = idbkv.Delete(ctx, name)
	}
	if err != nil && !errors.As(err, new(*jsbridge.CodedError)) {
		err = jsbridge.Errorf(codeRestoreFailed, "importSession %q: %w", clientID, err)
	}
	return err
}
