//go:build js

package jsbridge

import (
	"errors"
	"fmt"
	"syscall/js"

	"github.com/wasmeow/wasmeow/errcode"
)

// Error codes carried by the JS Error's `code` property.
const (
	CodeInvalidOption = "invalid_option"
	CodeDestroyed     = "destroyed"
	CodePanic         = "panic"
	CodeJS            = "js_error"
	CodeInternal      = "internal"
	CodeCanceled      = "canceled"
	// CodeStoreFailed: a user's store (custom keys/creds, a remote store)
	// threw, rejected, returned a value of the wrong shape or timed out.
	CodeStoreFailed = "store_failed"
	// CodeStoreValueRefused: a record the custom store would not give back
	// as it is (its Baileys form does not survive JSON), refused before the
	// store was called.
	CodeStoreValueRefused = "store_value_refused"
)

// CodedError is a Go error that reaches JS as an Error with a `code`.
type CodedError = errcode.Error

// Errorf builds a CodedError; %w wraps as fmt.Errorf does.
func Errorf(code, format string, args ...any) error { return errcode.Errorf(code, format, args...) }

// WithCode gives err a code unless it already carries one.
func WithCode(code string, err error) error { return errcode.WithCode(code, err) }

// coded is an error that names its code (errcode's, or any other).
type coded interface{ ErrorCode() string }

// JSError is an exception or rejection that came from JS.
type JSError struct {
	Name    string
	Message string
	Code    string
}

func (e *JSError) Error() string {
	if e.Name != "" && e.Name != "Error" {
		return e.Name + ": " + e.Message
	}
	return e.Message
}

// ErrorFromJS turns a thrown or rejected JS value into a Go error.
func ErrorFromJS(v js.Value) (err error) {
	defer func() {
		// v.Type() panics on a BigInt (syscall/js has no type for it), and a
		// page may reject or throw with one.
		if recover() != nil {
			err = &JSError{Message: safeString(v)}
		}
	}()
	if v.Type() == js.TypeObject {
		e := &JSError{Message: stringProp(v, "message"), Name: stringProp(v, "name"), Code: stringProp(v, "code")}
		if e.Message == "" && e.Name == "" {
			e.Message = safeString(v)
		}
		return e
	}
	return &JSError{Message: safeString(v)}
}

// ErrorToJS makes a JS Error carrying err's message and code ("internal"
// when err has none; a JS error keeps its own).
func ErrorToJS(err error) js.Value {
	code := CodeInternal
	var ce coded
	var je *JSError
	switch {
	case errors.As(err, &ce):
		code = ce.ErrorCode()
	case errors.As(err, &je):
		code = CodeJS
		if je.Code != "" {
			code = je.Code
		}
	}
	e := js.Global().Get("Error").New(err.Error())
	e.Set("code", code)
	return e
}

// stringProp reads a string property, "" when it is anything else or its
// getter throws: an error object a user's code rejected with may be hostile
// (a throwing message getter, a Proxy), and a throw inside a js.FuncOf
// callback would end the Go program.
func stringProp(v js.Value, name string) (s string) {
	defer func() {
		if recover() != nil {
			s = ""
		}
	}()
	p := Get(v, name)
	if p.Type() == js.TypeString {
		return p.String()
	}
	return ""
}

// safeString is String() for any JS value, never panicking.
func safeString(v js.Value) (s string) {
	defer func() {
		if recover() != nil {
			s = "<unprintable JS value>"
		}
	}()
	// String(v) without asking v.Type() first, which panics on a BigInt.
	return js.Global().Get("String").Invoke(v).String()
}

// PanicError turns a recovered panic into an error with code "panic".
func PanicError(where string, r any) error {
	if je, ok := r.(js.Error); ok {
		return &CodedError{Code: CodeJS, Err: fmt.Errorf("%s: %w", where, ErrorFromJS(je.Value))}
	}
	if r == "bad type flag" {
		// js.Value.Type() of a value Go's syscall/js has no type for: a
		// BigInt the page passed somewhere (an option, an argument).
		return &CodedError{Code: CodeInvalidOption, Err: fmt.Errorf("%s: a BigInt was given where wasmeow takes none", where)}
	}
	return &CodedError{Code: CodePanic, Err: fmt.Errorf("%s: internal error (recovered panic): %v", where, r)}
}
