//go:build !windows

package health

import "golang.org/x/sys/unix"

// canWrite asks the kernel whether this user may write path, without opening it for writing.
func canWrite(path string) error { return unix.Access(path, unix.W_OK) }

// accessRead asks the kernel whether this user may read path, without opening it.
func accessRead(path string) error { return unix.Access(path, unix.R_OK) }
