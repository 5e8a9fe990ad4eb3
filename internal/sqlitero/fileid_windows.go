//go:build windows

package sqlitero

import (
	"fmt"
	"io/fs"

	"golang.org/x/sys/windows"
)

// accessError has nothing to add on Windows: SQLite's own error stands.
func accessError(string) error { return nil }

// fileIDOf returns the volume serial number and file index of path. The handle asks for no
// data access and shares read, write and delete, so the application can still write, rename
// or delete the file while it is open; Windows locks belong to handles, so closing it cannot
// release a lock SQLite holds.
func fileIDOf(path string, _ fs.FileInfo) (FileID, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return FileID{}, err
	}
	h, err := windows.CreateFile(p, windows.FILE_READ_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return FileID{}, fmt.Errorf("open %s for its file index: %w", path, err)
	}
	defer windows.CloseHandle(h)
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &info); err != nil {
		return FileID{}, fmt.Errorf("file index of %s: %w", path, err)
	}
	return FileID{
		Volume: uint64(info.VolumeSerialNumber),
		Index:  uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow),
	}, nil
}
