package core

import "github.com/wasmeow/wasmeow/errcode"

// Error codes of the client: the one list of what a rejection, a thrown
// error or an error event carries in `code` (besides the few the JS bridge
// itself raises, in jsbridge). web/test/schema.test.js checks it against
// wasmeow.d.ts's ErrorCode.
const (
	CodeInvalidOption = "invalid_option"
	CodeDestroyed     = "destroyed"
	CodePanic         = "panic"
	CodeNotConnected  = "not_connected"
	CodeNotLoggedIn   = "not_logged_in"
	CodeAlreadyPaired = "already_paired"
	CodeInvalidPhone  = "invalid_phone"
	CodeInvalidJID    = "invalid_jid"
	CodePairing       = "pairing_failed"
	CodeConnect       = "connect_failed"
	CodeSend          = "send_failed"
	CodeLogout        = "logout_failed"
	CodeSessionInUse  = "session_in_use"
	CodeSessionLocked = "session_locked"
	CodeStoreFailed   = "store_failed"
	CodeSessionExists = "session_exists"
	CodeRestoreFailed = "restore_failed"
	CodeRemoteSave    = "remote_save_failed"
	CodeWipeFailed    = "wipe_failed"
	CodeTooLarge      = "message_too_large"
	// CodeSyncFailed: a history-sync blob or an app-state collection could
	// not be downloaded or applied (the message names what and why).
	CodeSyncFailed = "sync_failed"
	// CodeMedia: a media download or upload failed.
	CodeMedia = "media_failed"
	// CodeStoreCorrupt: a stored record could not be decoded; the message
	// names the table and the record (the contact's address for Signal
	// records).
	CodeStoreCorrupt = "store_corrupt"
)

// Error is an error with a code (errcode's, which the JS bridge turns into
// a JS Error whose `code` is Code).
type Error = errcode.Error

// Errorf builds a coded error; %w wraps as fmt.Errorf does.
func Errorf(code, format string, args ...any) error { return errcode.Errorf(code, format, args...) }

// WithCode gives err a code unless it already carries one.
func WithCode(code string, err error) error { return errcode.WithCode(code, err) }

// HasCode reports whether err (or an error it wraps) carries a code.
func HasCode(err error) bool { return errcode.HasCode(err) }

// CodeOf is err's code, "" when it has none.
func CodeOf(err error) string { return errcode.Of(err) }
