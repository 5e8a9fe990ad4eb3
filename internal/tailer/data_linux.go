package tailer

import (
	"os"

	"golang.org/x/sys/unix"
)

// nextData returns where the next data at or after off begins in a sparse file (SEEK_DATA),
// or size when only a hole is left.
func nextData(h *os.File, off, size int64) (int64, bool) {
	next, err := unix.Seek(int(h.Fd()), off, unix.SEEK_DATA)
	if err == unix.ENXIO {
		return size, true
	}
	if err != nil {
		return 0, false
	}
	return next, true
}
