//go:build js

package idbkv

import (
	"errors"
	"fmt"
	"syscall/js"

	"github.com/hack-pad/safejs"

	"github.com/wasmeow/wasmeow/kv"
)

var (
	// ErrQuotaExceeded matches (errors.Is) a write the browser refused for
	// lack of storage space (DOMException QuotaExceededError).
	ErrQuotaExceeded = errors.New("idbkv: storage quota exceeded")
	// ErrBlocked is returned when an upgrade or deletion of a database waits
	// on a connection that does not close (usually another tab with an older
	// wasmeow that ignores versionchange).
	ErrBlocked = errors.New("idbkv: blocked by another open connection to the database")
	// ErrVersionChange is returned by calls on a backend whose connection was
	// closed because another connection upgrades or deletes the database. It
	// matches kv.ErrClosed too: reopen to continue.
	ErrVersionChange = fmt.Errorf("%w: another connection upgrades or deletes the database; reopen it", kv.ErrClosed)
	// ErrConnectionLost is returned after the browser closed the connection by
	// itself (storage cleared by the user, disk failure). It matches kv.ErrClosed.
	ErrConnectionLost = fmt.Errorf("%w: the browser closed the IndexedDB connection", kv.ErrClosed)
	// ErrUnknownTable is returned by Commit for a table that is not in the
	// schema: object stores can only be created by Open's upgrades.
	ErrUnknownTable = errors.New("idbkv: table is not in the schema (add it to Options.Tables)")
	// ErrUnavailable means the JS context has no IndexedDB (old browser,
	// some private modes, a worker without it).
	ErrUnavailable = errors.New("idbkv: IndexedDB is not available in this context")
)

// DOMError is a failure as IndexedDB reported it: the DOMException's name
// (QuotaExceededError, VersionError, AbortError, ...) and message.
type DOMError struct {
	Name    string
	Message string
}

func (e *DOMError) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Name + ": " + e.Message
}

// Is lets errors.Is(err, ErrQuotaExceeded) see through the browser's error.
func (e *DOMError) Is(target error) bool {
	return target == ErrQuotaExceeded && e.Name == "QuotaExceededError"
}

// domError turns a JS error value (a DOMException or any Error) into a
// DOMError; it never fails, falling back to a generic description.
func domError(v safejs.Value) *DOMError {
	if v.IsNull() || v.IsUndefined() {
		return &DOMError{Name: "UnknownError", Message: "no error object"}
	}
	name := propString(v, "name")
	msg := propString(v, "message")
	if name == "" {
		name = "Error"
	}
	return &DOMError{Name: name, Message: msg}
}

// jsCallError extracts the thrown JS value from a safejs call error, so a
// synchronous throw (DataError, InvalidStateError...) reads like an event error.
func jsCallError(err error) error {
	var jerr js.Error
	if errors.As(err, &jerr) {
		return domError(safejs.Safe(jerr.Value))
	}
	return err
}

func propString(v safejs.Value, name string) string {
	p, err := v.Get(name)
	if err != nil || p.Type() != safejs.TypeString {
		return ""
	}
	s, _ := p.String()
	return s
}

// isDOMName reports whether err is a DOMError with the given name.
func isDOMName(err error, name string) bool {
	var d *DOMError
	return errors.As(err, &d) && d.Name == name
}
