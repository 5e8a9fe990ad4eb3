//go:build !windows

package sqlitero

import (
	"io/fs"
	"syscall"
)

// accessError says why path cannot be read, if permissions are why. access(2) opens nothing.
func accessError(path string) error {
	const readOK = 4
	if err := syscall.Access(path, readOK); err != nil {
		return &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return nil
}

// fileIDOf returns the device and inode of an already stat'ed file. Stat opens no descriptor,
// so it cannot disturb the POSIX locks SQLite holds on the file.
func fileIDOf(_ string, fi fs.FileInfo) (FileID, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileID{}, errNoFileID
	}
	return FileID{Volume: uint64(st.Dev), Index: uint64(st.Ino)}, nil //nolint:unconvert // Dev is 32-bit on some platforms
}
