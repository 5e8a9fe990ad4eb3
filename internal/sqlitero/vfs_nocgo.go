//go:build !cgo

package sqlitero

import "errors"

const vfsName = "candy-cadence-ro"

var errNoCgo = errors.New("built without cgo: SQLite is not available")

func registerOnce() error { return errNoCgo }

func readHeaderBytes(string, []byte) error { return errNoCgo }

// IsBusy reports whether err is SQLite's "database is locked"; without cgo nothing is.
func IsBusy(error) bool { return false }

// IsCorrupt reports whether err says the database is damaged.
func IsCorrupt(err error) bool { return errors.Is(err, ErrNotADatabase) }

// IsTransient reports whether err passes by itself; without cgo nothing does.
func IsTransient(error) bool { return false }

// ErrorCode is SQLite's extended result code of err; without cgo there is none.
func ErrorCode(error) int { return 0 }
