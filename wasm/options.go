//go:build js

package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"syscall/js"
	"time"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/jsbridge"
)

// clientOptions are createClient's options: the core's, and the page's
// store objects the binding wraps.
type clientOptions struct {
	core.Options
	remoteStore js.Value // remote: {sessionExists, save, extract, delete}
	keys, creds js.Value // custom
	// custom in Baileys' own flow: its AuthenticationState {creds, keys}
	// and the saveCreds that writes state.creds.
	state, saveCreds js.Value
}

func optErr(format string, args ...any) error {
	return jsbridge.Errorf(jsbridge.CodeInvalidOption, "createClient: "+format, args...)
}

// checkKeys fails on any property of obj not in allowed, so a misspelt
// option is named instead of silently ignored.
func checkKeys(obj js.Value, where string, allowed ...string) error {
	keys := js.Global().Get("Object").Call("keys", obj)
	for i := 0; i < keys.Length(); i++ {
		k := keys.Index(i).String()
		if !slices.Contains(allowed, k) {
			return optErr("unknown option %s%s (known: %s)", where, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func optString(obj js.Value, name, path, def string) (string, error) {
	v := jsbridge.Get(obj, name)
	if jsbridge.IsNullish(v) {
		return def, nil
	}
	if v.Type() != js.TypeString {
		return "", optErr("option %s must be a string, got %s", path, v.Type())
	}
	return v.String(), nil
}

// isPlainObject is true for an object that is not an array: what every
// options argument must be ([] and functions are rejected, not read as {}).
func isPlainObject(v js.Value) bool {
	return v.Type() == js.TypeObject && !js.Global().Get("Array").Call("isArray", v).Bool()
}

// jsTypeName names v's type for an error message, arrays apart.
func jsTypeName(v js.Value) string {
	if v.Type() == js.TypeObject && js.Global().Get("Array").Call("isArray", v).Bool() {
		return "array"
	}
	return v.Type().String()
}

// optNumber reads an optional number option within [lo, hi]; NaN, the
// infinities and non-numbers are refused (NaN slips through < and >
// comparisons, and a NaN interval once reached time.NewTicker, whose panic
// ended the whole Go program). whole also refuses fractions. -0 reads as 0.
func optNumber(obj js.Value, name, path string, lo, hi float64, whole bool, what string) (float64, bool, error) {
	v := jsbridge.Get(obj, name)
	if jsbridge.IsNullish(v) {
		return 0, false, nil
	}
	if v.Type() != js.TypeNumber {
		return 0, false, optErr("option %s must be %s, got %s", path, what, jsTypeName(v))
	}
	f := v.Float()
	if math.IsNaN(f) || math.IsInf(f, 0) || f < lo || f > hi || (whole && f != math.Trunc(f)) {
		return 0, false, optErr("option %s must be %s, got %v", path, what, f)
	}
	return f + 0, true, nil // + 0 turns -0 into 0
}

// optDuration is optNumber for a number of milliseconds.
func optDuration(obj js.Value, name, path string, lo, hi time.Duration) (time.Duration, bool, error) {
	ms, ok, err := optNumber(obj, name, path, float64(lo/time.Millisecond), float64(hi/time.Millisecond), false, core.MillisRange(lo, hi))
	return time.Duration(ms * float64(time.Millisecond)), ok, err
}

// pageWide are the options of loadWasmeow that createClient once took.
var pageWide = []string{"socketURL", "trustRootKey", "mediaProxyURL"}

// parseOptions decodes createClient's argument; the values are checked by
// core.Options.Validate (newClient), the JS shapes here.
func parseOptions(v js.Value) (*clientOptions, error) {
	o := &clientOptions{Options: core.DefaultOptions()}
	if jsbridge.IsNullish(v) {
		return o, nil
	}
	if !isPlainObject(v) {
		return nil, optErr("options must be an object, got %s", jsTypeName(v))
	}
	for _, name := range pageWide {
		if !jsbridge.IsNullish(jsbridge.Get(v, name)) {
			return nil, optErr("option %s is page-wide: pass it to loadWasmeow({%s}), once for every client of the page", name, name)
		}
	}
	if err := checkKeys(v, "", append([]string{"auth", "deviceName", "logLevel", "qrMaxRetries", "qrTimeoutMs"}, pageWide...)...); err != nil {
		return nil, err
	}
	var err error
	if o.DeviceName, err = optString(v, "deviceName", "deviceName", core.DefaultDeviceName); err != nil {
		return nil, err
	}
	if o.LogLevel, err = optString(v, "logLevel", "logLevel", core.DefaultLogLevel); err != nil {
		return nil, err
	}
	n, _, err := optNumber(v, "qrMaxRetries", "qrMaxRetries", 0, core.MaxQRMaxRetries, true, fmt.Sprintf("a whole number from 0 (every code the server gives) to %d", core.MaxQRMaxRetries))
	if err != nil {
		return nil, err
	}
	o.QRMaxRetries = int(n)
	if o.QRTimeout, _, err = optDuration(v, "qrTimeoutMs", "qrTimeoutMs", core.MinQRTimeout, core.MaxQRTimeout); err != nil {
		return nil, err
	}
	auth := jsbridge.Get(v, "auth")
	if jsbridge.IsNullish(auth) {
		return o, nil
	}
	if !isPlainObject(auth) {
		return nil, optErr("option auth must be an object, got %s", jsTypeName(auth))
	}
	return o, parseAuth(o, auth)
}

// parseAuth decodes the auth option into o.
func parseAuth(o *clientOptions, auth js.Value) error {
	if err := checkKeys(auth, "auth.", "strategy", "clientId", "dbName", "store", "backupSyncIntervalMs", "storeTimeoutMs", "keys", "creds", "state", "saveCreds"); err != nil {
		return err
	}
	var err error
	if o.Strategy, err = optString(auth, "strategy", "auth.strategy", core.StrategyLocal); err != nil {
		return err
	}
	if err := core.ValidateStrategy(o.Strategy); err != nil {
		return err
	}
	if o.ClientID, err = optString(auth, "clientId", "auth.clientId", core.DefaultClientID); err != nil {
		return err
	}
	if o.DBName, err = optString(auth, "dbName", "auth.dbName", core.DefaultDBName); err != nil {
		return err
	}
	stateFlow := o.Strategy == core.StrategyCustom && !jsbridge.IsNullish(jsbridge.Get(auth, "state"))
	need := func(name string, want bool) error {
		present := !jsbridge.IsNullish(jsbridge.Get(auth, name))
		if present && !want {
			return optErr("option auth.%s does not apply to strategy %q", name, o.Strategy)
		}
		if !present && want {
			return optErr("option auth.%s is required by strategy %q", name, o.Strategy)
		}
		return nil
	}
	for _, c := range []struct {
		name string
		want bool
	}{
		{"store", o.Strategy == core.StrategyRemote},
		// custom: keys and creds, or Baileys' state and saveCreds.
		{"keys", o.Strategy == core.StrategyCustom && !stateFlow},
		{"creds", o.Strategy == core.StrategyCustom && !stateFlow},
		{"state", stateFlow},
		{"saveCreds", stateFlow},
	} {
		if err := need(c.name, c.want); err != nil {
			return err
		}
	}
	if !jsbridge.IsNullish(jsbridge.Get(auth, "backupSyncIntervalMs")) && o.Strategy != core.StrategyRemote {
		return optErr("option auth.backupSyncIntervalMs does not apply to strategy %q", o.Strategy)
	}
	if d, ok, err := optDuration(auth, "backupSyncIntervalMs", "auth.backupSyncIntervalMs", core.MinBackupInterval, core.MaxBackupInterval); err != nil {
		return err
	} else if ok {
		o.BackupInterval = d
	}
	if !jsbridge.IsNullish(jsbridge.Get(auth, "storeTimeoutMs")) && o.Strategy != core.StrategyRemote && o.Strategy != core.StrategyCustom {
		return optErr("option auth.storeTimeoutMs does not apply to strategy %q (only to remote and custom)", o.Strategy)
	}
	if d, ok, err := optDuration(auth, "storeTimeoutMs", "auth.storeTimeoutMs", core.MinStoreTimeout, core.MaxStoreTimeout); err != nil {
		return err
	} else if ok {
		o.StoreTimeout = d
	}
	if o.Strategy == core.StrategyRemote {
		o.remoteStore = jsbridge.Get(auth, "store")
		for _, m := range []string{"sessionExists", "save", "extract", "delete"} {
			if !isPlainObject(o.remoteStore) || !jsbridge.IsFunction(jsbridge.Get(o.remoteStore, m)) {
				return optErr("option auth.store must have a %s method", m)
			}
		}
	}
	if o.Strategy == core.StrategyCustom {
		o.keys, o.creds = jsbridge.Get(auth, "keys"), jsbridge.Get(auth, "creds")
		if stateFlow {
			o.state, o.saveCreds = jsbridge.Get(auth, "state"), jsbridge.Get(auth, "saveCreds")
			if !isPlainObject(o.state) {
				return optErr("option auth.state must be Baileys' AuthenticationState {creds, keys}")
			}
			if !jsbridge.IsFunction(o.saveCreds) {
				return optErr("option auth.saveCreds must be a function")
			}
			if !jsbridge.IsNullish(o.creds) {
				return optErr("option auth.creds does not apply with auth.state (its creds are state.creds)")
			}
			if jsbridge.IsNullish(o.keys) {
				o.keys = jsbridge.Get(o.state, "keys")
			}
		}
	}
	return nil
}
