//go:build js

// Command wasm is wasmeow's browser program: the client core (package core)
// bound to JS, with its auth state in IndexedDB (or memory, or the page's
// own store), behind the API that web/wasmeow.js exposes. The ES module
// starts it with argv[1] naming a global function, which main calls once
// with the module object.
package main

import (
	"context"
	"fmt"
	"os"
	"syscall/js"

	"go.mau.fi/whatsmeow/store"

	"github.com/coder/websocket"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/jsbridge"
	"github.com/wasmeow/wasmeow/kv/idbkv"
)

// version is reported to the page as module.version.
const version = "0.1.0"

func main() {
	websocket.SetWriteBarrier(core.WriteBarrier)
	if ua := jsbridge.Get(js.Global().Get("navigator"), "userAgent"); ua.Type() == js.TypeString {
		core.SetUserAgent(ua.String())
	}
	mod := js.Global().Get("Object").New()
	mod.Set("version", version)
	mod.Set("configure", jsbridge.SyncFunc("configure", func(args []js.Value) (any, error) {
		return nil, configureModule(arg(args, 0))
	}))
	mod.Set("useFastCalls", jsbridge.SyncFunc("useFastCalls", func(args []js.Value) (any, error) {
		return nil, useFastCalls(arg(args, 0))
	}))
	mod.Set("getWAVersion", jsbridge.SyncFunc("getWAVersion", func([]js.Value) (any, error) {
		return store.GetWAVersion().String(), nil
	}))
	bg := context.Background()
	mod.Set("createClient", jsbridge.Func("createClient", func(args []js.Value) (any, error) {
		return createClient(bg, arg(args, 0))
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
	mod.Set("importBaileysSession", jsbridge.Func("importBaileysSession", func(args []js.Value) (any, error) {
		const sig = "importBaileysSession(clientId, state, options?)"
		if len(args) < 2 || args[0].Type() != js.TypeString || args[1].Type() != js.TypeString {
			return nil, jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: clientId must be a string (and state reach Go as JSON)", sig)
		}
		db, err := dbNameArg(args, 2, sig)
		if err != nil {
			return nil, err
		}
		return importBaileysSession(bg, db, args[0].String(), args[1].String())
	}))
	if len(os.Args) < 2 || js.Global().Get(os.Args[1]).Type() != js.TypeFunction {
		fmt.Println("wasmeow: start me through wasmeow.js (argv[1] must name the global ready callback)")
		return
	}
	js.Global().Get(os.Args[1]).Invoke(mod)
	select {} // serve the page forever; returning would end the program under it
}

// arg is args[i], undefined when absent.
func arg(args []js.Value, i int) js.Value {
	if len(args) > i {
		return args[i]
	}
	return js.Undefined()
}

// dbNameArg reads the optional {dbName} argument i of a module function
// (sig names the call); anything but an object of known keys is refused.
func dbNameArg(args []js.Value, i int, sig string) (string, error) {
	if len(args) <= i || jsbridge.IsNullish(args[i]) {
		return core.DefaultDBName, nil
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
		return core.DefaultDBName, nil
	}
	if db.Type() != js.TypeString || core.ValidDBName(db.String()) != nil {
		return "", jsbridge.Errorf(jsbridge.CodeInvalidOption, "%s: option dbName must be 1 to 100 characters without ':'", sig)
	}
	return db.String(), nil
}

// useFastCalls installs wasmeow.js's fastCalls helper (see there), which
// wasmeow.js hands over before anything is stored or sent.
func useFastCalls(h js.Value) error {
	if h.Type() != js.TypeObject {
		return jsbridge.Errorf(jsbridge.CodeInvalidOption, "useFastCalls: the helper must be an object")
	}
	if err := idbkv.UseFastCalls(h); err != nil {
		return err
	}
	return websocket.UseFastCalls(h)
}
