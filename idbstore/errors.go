package idbstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

var (
	// ErrClosed is returned (wrapped) by every call on a closed container.
	ErrClosed = errors.New("idbstore: container is closed")
	// ErrDeviceIDMustBeSet is returned by PutDevice and DeleteDevice for a
	// device whose JID is not known yet, like sqlstore's error of that name.
	ErrDeviceIDMustBeSet = errors.New("idbstore: device JID must be known before accessing the store")
	// ErrDeviceNotFound is returned by writes to a device's tables when that
	// device is not stored (never saved, or deleted): sqlstore's foreign keys
	// on our_jid refuse those writes too.
	ErrDeviceNotFound = errors.New("idbstore: device not found")
	// ErrConstraint is wrapped by writes that sqlstore's schema refuses
	// (duplicate keys, bad lengths, missing parent rows).
	ErrConstraint = errors.New("idbstore: constraint failed")
)

// ErrCorrupt is wrapped by every failure to decode a stored record.
var ErrCorrupt = errCorrupt

// CorruptError is a stored record that cannot be decoded: garbage written
// under the page, a truncated value, a format this build does not know.
type CorruptError struct {
	Table string // the kv table (IndexedDB object store)
	Key   string // the record's key, as stored
	Err   error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("idbstore: decode %s record %s: %v", e.Table, e.Record(), e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Record names the record readably: its key components (our device, then
// the contact's address or whatever the table keys by), joined with " / ".
func (e *CorruptError) Record() string {
	parts, err := splitKey(e.Key)
	if err != nil {
		return fmt.Sprintf("%q", e.Key)
	}
	for i, p := range parts {
		parts[i] = strconv.Quote(p)
	}
	return strings.Join(parts, " / ")
}

// Address is the last component of the key: for session and identity
// records the contact's Signal address (user.agent:device).
func (e *CorruptError) Address() string {
	parts, err := splitKey(e.Key)
	if err != nil || len(parts) == 0 {
		return e.Key
	}
	return parts[len(parts)-1]
}

// SetCorruptionHandler makes the container call fn (once per record) for
// every record that fails to decode, whatever the call that met it. Reads of
// session, identity and sender key records then treat such a record as
// absent, which is what makes whatsmeow ask the contact to resend (a retry
// receipt) and build a fresh session that overwrites it; other calls return
// the *CorruptError. Without a handler those reads fail as before.
func (c *Container) SetCorruptionHandler(fn func(*CorruptError)) {
	c.corruptMu.Lock()
	defer c.corruptMu.Unlock()
	c.onCorrupt = fn
}

// reported hands a *CorruptError in *err to the handler, once per record.
func (c *Container) reported(err *error) {
	if *err == nil {
		return
	}
	var ce *CorruptError
	if !errors.As(*err, &ce) {
		return
	}
	c.corruptMu.Lock()
	fn := c.onCorrupt
	k := ce.Table + "\x00" + ce.Key
	_, seen := c.corruptSeen[k]
	if fn != nil && !seen {
		if c.corruptSeen == nil {
			c.corruptSeen = map[string]struct{}{}
		}
		c.corruptSeen[k] = struct{}{}
	}
	c.corruptMu.Unlock()
	if fn != nil && !seen {
		fn(ce)
	}
}

// absentIfCorrupt is for the Signal reads that recover by treating a
// corrupt record as missing: with a handler set, a *CorruptError is reported
// and swallowed (ok true: the caller goes on as if nothing was stored).
func (c *Container) absentIfCorrupt(err error) (ok bool) {
	var ce *CorruptError
	if !errors.As(err, &ce) {
		return false
	}
	c.corruptMu.Lock()
	has := c.onCorrupt != nil
	c.corruptMu.Unlock()
	if has {
		c.reported(&err)
	}
	return has
}
