//go:build unix

package fleet

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the child in a process group of its own, so that Ctrl-C in the
// terminal reaches the simulator alone, which then stops its children in order (the
// application closes before its exporter stops).
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
