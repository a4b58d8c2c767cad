package storage

import (
	"errors"
	"fmt"
)

// ErrorCode classifies storage failures; the API layer maps each to a
// Kubernetes Status reason.
type ErrorCode int

// Error codes. The comment gives the HTTP status the API layer uses.
const (
	CodeKeyNotFound      ErrorCode = iota + 1 // 404 NotFound
	CodeKeyExists                             // 409 AlreadyExists
	CodeConflict                              // 409 Conflict: resourceVersion or uid precondition
	CodeExpired                               // 410 Expired: revision compacted
	CodeTooLargeRevision                      // 504 Timeout: revision not reached yet
	CodeInvalidRequest                        // 400 BadRequest: malformed continue or resourceVersion
	CodeInvalidObject                         // 500 InternalError: stored bytes that do not decode
	CodeUnavailable                           // 503: backend closed or failing
)

// Error is the one error type storage returns.
type Error struct {
	Code     ErrorCode
	Key      string
	Revision int64
	Msg      string
	// Continue, on an expired continue token, resumes the list from the
	// same key at the newest revision: an inconsistent but complete walk.
	Continue string
}

func (e *Error) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	switch e.Code {
	case CodeKeyNotFound:
		return fmt.Sprintf("key not found: %s", e.Key)
	case CodeKeyExists:
		return fmt.Sprintf("key exists: %s", e.Key)
	case CodeConflict:
		return fmt.Sprintf("revision conflict on %s", e.Key)
	case CodeExpired:
		return fmt.Sprintf("revision %d has been compacted", e.Revision)
	case CodeTooLargeRevision:
		return fmt.Sprintf("too large resource version: %d", e.Revision)
	default:
		return fmt.Sprintf("storage error %d on %s", e.Code, e.Key)
	}
}

// Is makes errors.Is match any *Error with the same code, so the sentinel
// values below can be used as targets.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrKeyNotFound      = &Error{Code: CodeKeyNotFound}
	ErrKeyExists        = &Error{Code: CodeKeyExists}
	ErrConflict         = &Error{Code: CodeConflict}
	ErrExpired          = &Error{Code: CodeExpired}
	ErrTooLargeRevision = &Error{Code: CodeTooLargeRevision}
	ErrInvalidRequest   = &Error{Code: CodeInvalidRequest}
	ErrInvalidObject    = &Error{Code: CodeInvalidObject}
	ErrUnavailable      = &Error{Code: CodeUnavailable}
)

// NewError returns an *Error for key at revision rev.
func NewError(code ErrorCode, key string, rev int64) *Error {
	return &Error{Code: code, Key: key, Revision: rev}
}

// Errorf returns an *Error with a formatted message.
func Errorf(code ErrorCode, key string, format string, args ...any) *Error {
	return &Error{Code: code, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// IsNotFound reports whether err means the key does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrKeyNotFound) }

// IsExists reports whether err means the key already exists.
func IsExists(err error) bool { return errors.Is(err, ErrKeyExists) }

// IsConflict reports whether err is a failed precondition.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsExpired reports whether err means the revision asked for was compacted.
func IsExpired(err error) bool { return errors.Is(err, ErrExpired) }

// IsTooLargeRevision reports whether err means the revision asked for is
// ahead of the store.
func IsTooLargeRevision(err error) bool { return errors.Is(err, ErrTooLargeRevision) }

// IsInvalidRequest reports whether err is a malformed request.
func IsInvalidRequest(err error) bool { return errors.Is(err, ErrInvalidRequest) }
