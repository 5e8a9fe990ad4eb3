//go:build !linux

package tailer

import "os"

// nextData finds no holes where the system does not tell them: everything is read.
func nextData(_ *os.File, _, _ int64) (int64, bool) { return 0, false }
