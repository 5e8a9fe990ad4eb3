// Package servertest runs the real servers that end-to-end tests talk to (Prometheus,
// Alertmanager, the exporter itself) on free loopback ports, for the length of one test.
package servertest

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/freeport"
)

// readyTimeout bounds how long a server may take to answer /-/ready.
const readyTimeout = 30 * time.Second

// FreeAddress returns a loopback address with a port nothing listens on right now and that no
// earlier call in this test binary returned.
func FreeAddress(t testing.TB) string {
	t.Helper()
	addr, err := freeport.Address()
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	return addr
}

// Binary returns the program named by $env, or the first of names found on PATH, and skips the
// test when there is none (make test sets the variables; Debian's packages put them on PATH).
func Binary(t testing.TB, env string, names ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skipf("no %s binary: set $%s (make test does) or install Debian's package", names[0], env)
	return ""
}

// Start runs binary with args until the test ends and waits until http://addr/-/ready answers
// 200. The server's output is logged when the test fails.
func Start(t testing.TB, binary, addr string, args ...string) {
	t.Helper()
	var logs strings.Builder
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(binary), logs.String())
		}
	})
	for deadline := time.Now().Add(readyTimeout); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s after %v", filepath.Base(binary), addr, readyTimeout)
		}
	}
}

// StartAlertmanager runs a single Alertmanager (no cluster gossip) with config and returns
// its address.
func StartAlertmanager(t testing.TB, binary, config string) string {
	t.Helper()
	addr := FreeAddress(t)
	Start(t, binary, addr,
		"--config.file="+config,
		"--storage.path="+filepath.Join(t.TempDir(), "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=")
	return addr
}
