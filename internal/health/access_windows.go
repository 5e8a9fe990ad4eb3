//go:build windows

package health

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// canWrite reports a read-only file (the attribute a copy from a CD or a synced folder
// leaves); the ACLs are not evaluated, since opening the file for writing would be the only
// sure test and the check never writes.
func canWrite(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() && fi.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("%s has the read-only attribute", path)
	}
	return nil
}

// accessRead opens path for reading with every sharing mode, so that the application is not
// kept from writing, renaming or deleting it meanwhile, and closes it at once.
func accessRead(path string) error {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	return windows.CloseHandle(h)
}
