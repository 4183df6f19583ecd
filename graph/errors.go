package graph

import (
	"errors"
	"fmt"
)

// Kinds of failure a caller acts on, beside [ErrNotFound]. The domain
// services (graph/book) return errors that wrap one of them, and the local
// API (node/api) gives each its wire code: they are its sentinels, so
// that no error needs translating on the way out.
var (
	// ErrInvalid: a request or a value does not validate.
	ErrInvalid = errors.New("invalid input")
	// ErrExists: the thing to create exists already.
	ErrExists = errors.New("already exists")
	// ErrAmbiguous: a reference matches more than one thing.
	ErrAmbiguous = errors.New("ambiguous reference")
	// ErrNotEmpty: a thing to remove still holds something (force it).
	ErrNotEmpty = errors.New("not empty")
	// ErrTooLarge: a request is over a limit.
	ErrTooLarge = errors.New("request too large")
)

// DamagedError lists the records of a listing that do not read: the
// store is damaged there. A listing that returns it returns the records
// that read too. It is [ErrDamaged].
type DamagedError struct {
	Kind string   // the kind listed
	Keys []string // the keys of the records that do not read
	Err  error    // why the first does not
}

// ErrDamaged: a stored record does not read (see [DamagedError]).
var ErrDamaged = errors.New("damaged store")

func (e *DamagedError) Error() string {
	return fmt.Sprintf("%d %s records do not read (%q: %v): the store is damaged; `kith check` says where, `kith repair` rebuilds it from the log", len(e.Keys), e.Kind, e.Keys[0], e.Err)
}

// Is makes a DamagedError [ErrDamaged].
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// Invalidf returns an error wrapping [ErrInvalid] with a message.
func Invalidf(format string, args ...any) error {
	return wrapf(ErrInvalid, format, args...)
}

// NotFoundf returns an error wrapping [ErrNotFound] with a message.
func NotFoundf(format string, args ...any) error {
	return wrapf(ErrNotFound, format, args...)
}

func wrapf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}

// kindError is a sentinel of its own that is also of a kind for
// errors.Is ([ErrInvalidField] is [ErrInvalid]).
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }
