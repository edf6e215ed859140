package idbstore

import "errors"

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
