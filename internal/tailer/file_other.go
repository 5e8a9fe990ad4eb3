//go:build !windows

package tailer

import (
	"errors"
	"os"
	"syscall"
)

const defaultKeepOpen = true

// globMeta are the characters that make a path a pattern for filepath.Match, escape included.
const globMeta = `*?[\`

// fileID is a file's identity: it survives renames and tells a new file at an old name apart.
type fileID struct{ dev, ino uint64 }

var errNotRegular = errors.New("not a regular file")

func idOf(fi os.FileInfo) (fileID, error) {
	if !fi.Mode().IsRegular() {
		return fileID{}, errNotRegular
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, errors.New("no device and inode in file info")
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, nil //nolint:unconvert // Dev's type varies by platform
}

// identify returns the identity of the file at path without opening it.
func identify(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	return idOf(fi)
}

// handleID returns the identity of an open file.
func handleID(f *os.File) (fileID, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileID{}, err
	}
	return idOf(fi)
}

// openShared opens a log file for reading. On Unix an open file never stops its writer from
// renaming or deleting it.
func openShared(path string) (*os.File, error) { return os.Open(path) }
