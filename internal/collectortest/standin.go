package collectortest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// StartStandInApp runs `sleep` under the name candy_cadence so that the default process
// patterns have an application to find, until the test ends.
func StartStandInApp(tb testing.TB) *exec.Cmd {
	tb.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		tb.Skip("no sleep binary")
	}
	bin := filepath.Join(tb.TempDir(), "candy_cadence")
	if err := os.Symlink(sleep, bin); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "infinity")
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}
