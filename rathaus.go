// SPDX-License-Identifier: EUPL-1.2

// Package rathaus holds what every room of the house shares: the domain error
// type with its small set of codes. The domain lives in the subpackages named
// after what they are (tenant, catalog, form, submission, process, …); the
// technology packages (sqlstore, web, jobs, …) implement their interfaces.
package rathaus

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps them to status codes in one place
// (web.statusFor); the CLI prints the message and exits non-zero.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
	EINTERNAL     = "internal"
)

// Error is a domain error. Message is safe to show to a user; the wrapped
// error (if any) carries the detail for logs.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a new *Error with the given code and formatted safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns a new *Error that carries err as the detail for logs.
func Wrap(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of the first *Error in err's chain, or
// a generic text for anything else. Never show err.Error() to citizens.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "Interner Fehler."
}

// HTTPStatus returns the HTTP status code for an error code ("" is 200 OK).
// It is the one place where this mapping lives; every HTTP layer (web,
// identity/oidc, fitconnect) calls it. The numbers are spelled out so that
// the domain does not import net/http.
func HTTPStatus(code string) int {
	switch code {
	case "":
		return 200 // OK
	case EINVALID:
		return 400 // Bad Request
	case EUNAUTHORIZED:
		return 401 // Unauthorized
	case EFORBIDDEN:
		return 403 // Forbidden
	case ENOTFOUND:
		return 404 // Not Found
	case ECONFLICT:
		return 409 // Conflict
	case EUNAVAILABLE:
		return 503 // Service Unavailable
	}
	return 500 // Internal Server Error
}
