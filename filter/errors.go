package filter

import "errors"

// ErrInvalidOption is the sentinel that every invalid filter's error wraps.
// It is the same value as realtime.ErrInvalidOption (messages
// re-exports it), so errors.Is(err, realtime.ErrInvalidOption) holds for
// the error of Filter.Validate and of a PostgresChanges built with an
// invalid filter.
var ErrInvalidOption = errors.New("realtime: invalid option")

// Error is the reason a Filter is invalid.
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "realtime: invalid filter: " + e.Reason }

// Unwrap returns ErrInvalidOption.
func (e *Error) Unwrap() error { return ErrInvalidOption }
