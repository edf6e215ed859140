//go:build js

package main

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"syscall/js"
	"time"

	"github.com/wasmeow/wasmeow/jsbridge"
)

// Strategies of auth state, named as the JS API names them.
const (
	strategyNone   = "none"
	strategyLocal  = "local"
	strategyRemote = "remote"
	strategyCustom = "custom"
)

const (
	defaultDBName         = "wasmeow"
	defaultClientID       = "default"
	defaultDeviceName     = "wasmeow"
	defaultBackupInterval = 60 * time.Second
	minBackupInterval     = time.Second
	maxBackupInterval     = 24 * time.Hour
	// Every call into a user's store (custom keys/creds, remote store) gives
	// up after storeTimeout: a store that never settles must not wedge the
	// client (destroy() included). 30 s covers a slow network store.
	defaultStoreTimeout = 30 * time.Second
	minStoreTimeout     = 100 * time.Millisecond
	maxStoreTimeout     = 10 * time.Minute
	// A code shown for less than this cannot be scanned by a person; the
	// server forgets refs after a few minutes, so longer is pointless.
	minQRTimeout = 200 * time.Millisecond
	maxQRTimeout = 5 * time.Minute
)

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// options are createClient's options, validated.
type options struct {
	strategy       string
	clientID       string
	dbName         string
	remoteStore    js.Value // remote: {sessionExists, save, extract, delete}
	backupInterval time.Duration
	keys, creds    js.Value // custom
	socketURL      string
	trustRootKey   []byte
	deviceName     string
	logLevel       string
	qrMaxRetries   int           // codes shown after the first; 0: all the server gave
	qrTimeout      time.Duration // lifetime of every code; 0: whatsmeow's 60 s first, 20 s next
	storeTimeout   time.Duration // bound of every call into a user's store (remote, custom)
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

// optDuration is optNumber for a whole number of milliseconds.
func optDuration(obj js.Value, name, path string, lo, hi time.Duration) (time.Duration, bool, error) {
	ms, ok, err := optNumber(obj, name, path, float64(lo/time.Millisecond), float64(hi/time.Millisecond), false,
		fmt.Sprintf("a number of milliseconds from %d to %d", lo/time.Millisecond, hi/time.Millisecond))
	return time.Duration(ms * float64(time.Millisecond)), ok, err
}

func parseOptions(v js.Value) (*options, error) {
	o := &options{strategy: strategyLocal, clientID: defaultClientID, dbName: defaultDBName,
		backupInterval: defaultBackupInterval, deviceName: defaultDeviceName, logLevel: "warn",
		storeTimeout: defaultStoreTimeout}
	if jsbridge.IsNullish(v) {
		return o, nil
	}
	if !isPlainObject(v) {
		return nil, optErr("options must be an object, got %s", jsTypeName(v))
	}
	if err := checkKeys(v, "", "auth", "socketURL", "trustRootKey", "deviceName", "logLevel", "qrMaxRetries", "qrTimeoutMs"); err != nil {
		return nil, err
	}
	var err error
	if o.socketURL, err = optString(v, "socketURL", "socketURL", ""); err != nil {
		return nil, err
	}
	if o.socketURL != "" {
		u, perr := url.Parse(o.socketURL)
		if perr != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return nil, optErr("option socketURL must be a ws:// or wss:// URL, got %q", o.socketURL)
		}
	}
	if rk := jsbridge.Get(v, "trustRootKey"); !jsbridge.IsNullish(rk) {
		var key []byte
		if rk.Type() == js.TypeString {
			key, err = base64.StdEncoding.DecodeString(rk.String())
			if err != nil {
				key, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(rk.String(), "="))
			}
		} else {
			key, err = jsbridge.BytesFromJS(rk)
		}
		if err != nil || len(key) != 32 {
			return nil, optErr("option trustRootKey must be a 32-byte key (base64 string or Uint8Array)")
		}
		o.trustRootKey = key
	}
	if o.deviceName, err = optString(v, "deviceName", "deviceName", defaultDeviceName); err != nil {
		return nil, err
	}
	if o.deviceName == "" || len(o.deviceName) > 64 {
		return nil, optErr("option deviceName must be 1 to 64 characters")
	}
	if o.logLevel, err = optString(v, "logLevel", "logLevel", "warn"); err != nil {
		return nil, err
	}
	if !slices.Contains([]string{"none", "error", "warn", "info", "debug"}, o.logLevel) {
		return nil, optErr("option logLevel must be one of none, error, warn, info, debug; got %q", o.logLevel)
	}
	n, _, err := optNumber(v, "qrMaxRetries", "qrMaxRetries", 0, 100, true, "a whole number from 0 (every code the server gives) to 100")
	if err != nil {
		return nil, err
	}
	o.qrMaxRetries = int(n)
	if o.qrTimeout, _, err = optDuration(v, "qrTimeoutMs", "qrTimeoutMs", minQRTimeout, maxQRTimeout); err != nil {
		return nil, err
	}
	auth := jsbridge.Get(v, "auth")
	if jsbridge.IsNullish(auth) {
		return o, nil
	}
	if !isPlainObject(auth) {
		return nil, optErr("option auth must be an object, got %s", jsTypeName(auth))
	}
	if err := checkKeys(auth, "auth.", "strategy", "clientId", "dbName", "store", "backupSyncIntervalMs", "storeTimeoutMs", "keys", "creds"); err != nil {
		return nil, err
	}
	if o.strategy, err = optString(auth, "strategy", "auth.strategy", strategyLocal); err != nil {
		return nil, err
	}
	if !slices.Contains([]string{strategyNone, strategyLocal, strategyRemote, strategyCustom}, o.strategy) {
		return nil, optErr("option auth.strategy must be one of none, local, remote, custom; got %q", o.strategy)
	}
	if o.clientID, err = optString(auth, "clientId", "auth.clientId", defaultClientID); err != nil {
		return nil, err
	}
	if !clientIDPattern.MatchString(o.clientID) {
		return nil, optErr("option auth.clientId must be 1 to 64 letters, digits, _ or -; got %q", o.clientID)
	}
	if o.dbName, err = optString(auth, "dbName", "auth.dbName", defaultDBName); err != nil {
		return nil, err
	}
	if o.dbName == "" || strings.Contains(o.dbName, ":") || len(o.dbName) > 100 {
		return nil, optErr("option auth.dbName must be 1 to 100 characters without ':'; got %q", o.dbName)
	}
	need := func(name string, want bool) error {
		present := !jsbridge.IsNullish(jsbridge.Get(auth, name))
		if present && !want {
			return optErr("option auth.%s does not apply to strategy %q", name, o.strategy)
		}
		if !present && want {
			return optErr("option auth.%s is required by strategy %q", name, o.strategy)
		}
		return nil
	}
	for _, c := range []struct {
		name string
		want bool
	}{
		{"store", o.strategy == strategyRemote},
		{"keys", o.strategy == strategyCustom},
		{"creds", o.strategy == strategyCustom},
	} {
		if err := need(c.name, c.want); err != nil {
			return nil, err
		}
	}
	if !jsbridge.IsNullish(jsbridge.Get(auth, "backupSyncIntervalMs")) && o.strategy != strategyRemote {
		return nil, optErr("option auth.backupSyncIntervalMs does not apply to strategy %q", o.strategy)
	}
	if d, ok, err := optDuration(auth, "backupSyncIntervalMs", "auth.backupSyncIntervalMs", minBackupInterval, maxBackupInterval); err != nil {
		return nil, err
	} else if ok {
		o.backupInterval = d
	}
	if !jsbridge.IsNullish(jsbridge.Get(auth, "storeTimeoutMs")) && o.strategy != strategyRemote && o.strategy != strategyCustom {
		return nil, optErr("option auth.storeTimeoutMs does not apply to strategy %q (only to remote and custom)", o.strategy)
	}
	if d, ok, err := optDuration(auth, "storeTimeoutMs", "auth.storeTimeoutMs", minStoreTimeout, maxStoreTimeout); err != nil {
		return nil, err
	} else if ok {
		o.storeTimeout = d
	}
	if o.strategy == strategyRemote {
		o.remoteStore = jsbridge.Get(auth, "store")
		for _, m := range []string{"sessionExists", "save", "extract", "delete"} {
			if !isPlainObject(o.remoteStore) || !jsbridge.IsFunction(jsbridge.Get(o.remoteStore, m)) {
				return nil, optErr("option auth.store must have a %s method", m)
			}
		}
	}
	if o.strategy == strategyCustom {
		o.keys, o.creds = jsbridge.Get(auth, "keys"), jsbridge.Get(auth, "creds")
	}
	return o, nil
}
