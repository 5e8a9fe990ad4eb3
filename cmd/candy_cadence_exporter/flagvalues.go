package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// The collectors' Config types read a zero value as "the default" and, where a feature can be
// turned off, a negative one as "off". A flag always carries a value (its default is the
// Config's default), so the helpers below translate: a 0 typed on the command line is an
// explicit zero, not a request for the default.

// explicitDuration passes a flag's 0 on as invalid (-1ns), so that the collector's validation
// rejects it under the flag's name instead of reading it as "the default".
func explicitDuration(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// explicitInt is explicitDuration for a count.
func explicitInt(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// zeroMeansOff turns a flag's 0 into the Config's "off" (negative) and rejects a negative flag.
func zeroMeansOff(f *kingpin.FlagClause, d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("--%s must be 0 (off) or positive, got %s", f.Model().Name, d)
	case d == 0:
		return -1, nil
	}
	return d, nil
}

// zeroMeansNone is zeroMeansOff for a count.
func zeroMeansNone(f *kingpin.FlagClause, n int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("--%s must not be negative, got %d", f.Model().Name, n)
	case n == 0:
		return -1, nil
	}
	return n, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
