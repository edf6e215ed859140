// Package errcode is the error with a code that reaches the page as a JS
// Error's `code`: one type for the client core and the JS bridge.
package errcode

import (
	"errors"
	"fmt"
)

// Error is an error with a code.
type Error struct {
	Code string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrorCode is the code; any error with this method keeps its code on the
// way to the page.
func (e *Error) ErrorCode() string { return e.Code }

// coded is an error that names its code.
type coded interface{ ErrorCode() string }

// Errorf builds a coded error; %w wraps as fmt.Errorf does.
func Errorf(code, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// WithCode gives err a code unless it already carries one.
func WithCode(code string, err error) error {
	if err == nil || HasCode(err) {
		return err
	}
	return &Error{Code: code, Err: err}
}

// HasCode reports whether err (or an error it wraps) carries a code.
func HasCode(err error) bool {
	return errors.As(err, new(coded))
}

// Of is err's code, "" when it has none.
func Of(err error) string {
	var c coded
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return ""
}
