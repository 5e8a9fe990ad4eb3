//go:build !linux

package fleet

import "errors"

var errNoMount = errors.New("a small filesystem of its own for the data directory is only simulated on Linux")

func mountTmpfs(string, int64) error { return errNoMount }

func unmount(string) error { return nil }

func fillFilesystem(string, string, float64) error { return errNoMount }
