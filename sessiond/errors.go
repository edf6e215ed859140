package sessiond

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error codes of the HTTP API (the "code" of every error body).
const (
	CodeUnauthorized     = "unauthorized"       // 401: no or unknown bearer token
	CodeInvalidRequest   = "invalid_request"    // 400: malformed body, name or argument
	CodeTooLarge         = "too_large"          // 413: a body, value or batch over its limit
	CodeNotFound         = "not_found"          // 404: no such snapshot or creds, or route
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeSessionLocked    = "session_locked"     // 409: another holder has a live lease
	CodeLeaseLost        = "lease_lost"         // 409: the write's fence is not the session's current one
	CodeLeaseRequired    = "lease_required"     // 409: a write to a session nobody ever leased
	CodePlaintextRefused = "plaintext_refused"  // 422: an e2e tenant was sent a value not sealed by the page
	CodeUnavailable      = "unavailable"        // 503: the database cannot be reached
	CodeInternal         = "internal"           // 500
)

// APIError is an error the API answers with: its status, code and message,
// plus the lease fields when a lease is in the way.
type APIError struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Holder    string `json:"holder,omitempty"`
	Fence     int64  `json:"fence,omitempty"`
	ExpiresAt int64  `json:"expiresAt,omitempty"` // ms since the epoch
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErr(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *APIError {
	return apiErr(http.StatusBadRequest, CodeInvalidRequest, format, args...)
}

func tooLarge(format string, args ...any) *APIError {
	return apiErr(http.StatusRequestEntityTooLarge, CodeTooLarge, format, args...)
}

// writeError answers err as a JSON error body.
func writeError(w http.ResponseWriter, err error) {
	e := asAPIError(err)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

// asAPIError is err as the API answers it; an error without an API code is
// a database or internal failure.
func asAPIError(err error) *APIError {
	var e *APIError
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &pg) && !strings.HasPrefix(pg.Code, "08") && !strings.HasPrefix(pg.Code, "57") && !strings.HasPrefix(pg.Code, "53"):
		// The database answered with an error: retrying will not help.
		e = apiErr(http.StatusInternalServerError, CodeInternal, "the session database refused the operation: %v", err)
	default:
		// No answer, a connection lost, a server shutting down or out of
		// resources: the client retries.
		e = apiErr(http.StatusServiceUnavailable, CodeUnavailable, "the session database failed: %v", err)
	}
	return e
}
