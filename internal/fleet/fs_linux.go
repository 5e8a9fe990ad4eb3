package fleet

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs of size bytes on dir (root or CAP_SYS_ADMIN only).
func mountTmpfs(dir string, size int64) error {
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		return fmt.Errorf("mount a %d MiB tmpfs on %s: %w", size>>20, dir, err)
	}
	return nil
}

// unmount detaches the filesystem on dir even while files in it are open.
func unmount(dir string) error { return unix.Unmount(dir, unix.MNT_DETACH) }

// fillFilesystem writes filler until only leave (a share of the size) is available to
// unprivileged users.
func fillFilesystem(dir, filler string, leave float64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return err
	}
	size := int64(st.Blocks) * st.Bsize
	avail := int64(st.Bavail) * st.Bsize
	n := avail - int64(leave*float64(size))
	if n <= 0 {
		return nil
	}
	f, err := os.Create(filler)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := f.Write(buf[:k]); err != nil {
			return fmt.Errorf("fill %s: %w", dir, err)
		}
		n -= k
	}
	return f.Sync()
}
