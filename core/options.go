package core

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Strategies of auth state, named as the JS API names them.
const (
	StrategyNone   = "none"
	StrategyLocal  = "local"
	StrategyRemote = "remote"
	StrategyCustom = "custom"
)

// Defaults and bounds of the options.
const (
	DefaultDBName         = "wasmeow"
	DefaultClientID       = "default"
	DefaultDeviceName     = "wasmeow"
	DefaultLogLevel       = "warn"
	DefaultBackupInterval = 60 * time.Second
	MinBackupInterval     = time.Second
	MaxBackupInterval     = 24 * time.Hour
	// Every call into a user's store (custom keys/creds, remote store) gives
	// up after StoreTimeout: a store that never settles must not wedge the
	// client (destroy() included). 30 s covers a slow network store.
	DefaultStoreTimeout = 30 * time.Second
	MinStoreTimeout     = 100 * time.Millisecond
	MaxStoreTimeout     = 10 * time.Minute
	// A code shown for less than this cannot be scanned by a person; the
	// server forgets refs after a few minutes, so longer is pointless.
	MinQRTimeout    = 200 * time.Millisecond
	MaxQRTimeout    = 5 * time.Minute
	MaxQRMaxRetries = 100
)

// ClientIDPattern is what a clientId may be.
var ClientIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// LogLevels are the logLevel option's values, most verbose first.
var LogLevels = []string{"debug", "info", "warn", "error", "none"}

// Options are a client's options (createClient's, decoded).
type Options struct {
	Strategy       string
	ClientID       string
	DBName         string // local and remote: the IndexedDB database prefix
	BackupInterval time.Duration
	StoreTimeout   time.Duration // bound of every call into a user's store (remote, custom)
	DeviceName     string
	LogLevel       string
	QRMaxRetries   int           // codes shown after the first; 0: all the server gave
	QRTimeout      time.Duration // lifetime of every code; 0: whatsmeow's 60 s first, 20 s next
}

// DefaultOptions are the options of createClient() with none given.
func DefaultOptions() Options {
	return Options{Strategy: StrategyLocal, ClientID: DefaultClientID, DBName: DefaultDBName,
		BackupInterval: DefaultBackupInterval, DeviceName: DefaultDeviceName, LogLevel: DefaultLogLevel,
		StoreTimeout: DefaultStoreTimeout}
}

func optErr(format string, args ...any) error {
	return Errorf(CodeInvalidOption, "createClient: "+format, args...)
}

// Validate checks every value (an invalid_option error names the first
// bad one, as the page wrote it).
func (o *Options) Validate() error {
	if err := ValidateStrategy(o.Strategy); err != nil {
		return err
	}
	if !ClientIDPattern.MatchString(o.ClientID) {
		return optErr("option auth.clientId must be 1 to 64 letters, digits, _ or -; got %q", o.ClientID)
	}
	if err := ValidDBName(o.DBName); err != nil {
		return optErr("option auth.dbName must be 1 to 100 characters without ':'; got %q", o.DBName)
	}
	if o.DeviceName == "" || len(o.DeviceName) > 64 {
		return optErr("option deviceName must be 1 to 64 characters")
	}
	if !slices.Contains(LogLevels, o.LogLevel) {
		return optErr("option logLevel must be one of none, error, warn, info, debug; got %q", o.LogLevel)
	}
	if o.QRMaxRetries < 0 || o.QRMaxRetries > MaxQRMaxRetries {
		return optErr("option qrMaxRetries must be a whole number from 0 (every code the server gives) to %d, got %d", MaxQRMaxRetries, o.QRMaxRetries)
	}
	if err := inRange("qrTimeoutMs", o.QRTimeout, MinQRTimeout, MaxQRTimeout, true); err != nil {
		return err
	}
	if err := inRange("auth.backupSyncIntervalMs", o.BackupInterval, MinBackupInterval, MaxBackupInterval, false); err != nil {
		return err
	}
	return inRange("auth.storeTimeoutMs", o.StoreTimeout, MinStoreTimeout, MaxStoreTimeout, false)
}

// ValidateStrategy checks a strategy name (what else applies depends on it,
// so a decoder checks it first).
func ValidateStrategy(s string) error {
	if !slices.Contains([]string{StrategyNone, StrategyLocal, StrategyRemote, StrategyCustom}, s) {
		return optErr("option auth.strategy must be one of none, local, remote, custom; got %q", s)
	}
	return nil
}

// inRange checks a duration option (zeroOK: 0 means the default).
func inRange(name string, d, lo, hi time.Duration, zeroOK bool) error {
	if (d == 0 && zeroOK) || (d >= lo && d <= hi) {
		return nil
	}
	return optErr("option %s must be %s, got %v", name, MillisRange(lo, hi), float64(d)/float64(time.Millisecond))
}

// MillisRange describes a range of milliseconds for an error message.
func MillisRange(lo, hi time.Duration) string {
	return fmt.Sprintf("a number of milliseconds from %d to %d", lo/time.Millisecond, hi/time.Millisecond)
}

// ValidDBName checks a dbName (of createClient, listSessions, ...).
func ValidDBName(db string) error {
	if db == "" || strings.Contains(db, ":") || len(db) > 100 {
		return fmt.Errorf("%q is not 1 to 100 characters without ':'", db)
	}
	return nil
}
