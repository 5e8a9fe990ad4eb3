//go:build windows

package tailer

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// globMeta are the characters that make a path a pattern for filepath.Match: on Windows
// the backslash separates and escapes nothing.
const globMeta = "*?["

// Handles are not kept between reads on Windows: a file the application deletes while a
// handle is open stays "delete pending" and its name cannot be reused until the handle closes.
const defaultKeepOpen = false

// fileID is a file's identity: the volume serial number and the file index.
type fileID struct {
	vol uint32
	idx uint64
}

// openShared opens a log file for reading with FILE_SHARE_DELETE (and read and write), so
// that while it is open the application can still write, rename and delete it. os.Open does
// not pass FILE_SHARE_DELETE.
func openShared(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// handleID returns the identity of an open file.
func handleID(f *os.File) (fileID, error) {
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return fileID{}, fmt.Errorf("file information of %s: %w", f.Name(), err)
	}
	if info.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0 {
		return fileID{}, errors.New("not a regular file")
	}
	return fileID{vol: info.VolumeSerialNumber, idx: uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow)}, nil
}

// identify opens the file briefly, with every sharing flag, to read its identity.
func identify(path string) (fileID, error) {
	f, err := openShared(path)
	if err != nil {
		return fileID{}, err
	}
	defer f.Close()
	return handleID(f)
}
