//go:build !windows

package sqlitero

import (
	"io/fs"
	"syscall"
)

// fileIDOf returns the device and inode of an already stat'ed file. Stat opens no descriptor,
// so it cannot disturb the POSIX locks SQLite holds on the file.
func fileIDOf(_ string, fi fs.FileInfo) (FileID, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileID{}, errNoFileID
	}
	return FileID{Volume: uint64(st.Dev), Index: uint64(st.Ino)}, nil //nolint:unconvert // Dev is 32-bit on some platforms
}
