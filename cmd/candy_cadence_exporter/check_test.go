package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
)

// runCheckBinary runs `candy_cadence_exporter check` with a private home, so that only the
// fixture's files are discovered, and returns its exit code and output.
func runCheckBinary(t *testing.T, home string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"check", "--app.working-dir=" + home}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "share"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

func TestCheckCommandExitCodes(t *testing.T) {
	empty := t.TempDir()
	t.Run("the check cannot run: 3", func(t *testing.T) {
		for _, args := range [][]string{{"--no-such-flag"}, {"--format=yaml"}, {"--check.timeout=0s"}, {"--collector.process.name-regex=("}} {
			code, _, stderr := runCheckBinary(t, empty, args...)
			if code != 3 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("check %v: exit %d, stderr %q; want 3 and one line", args, code, stderr)
			}
		}
	})
	t.Run("no library: critical, 2", func(t *testing.T) {
		code, stdout, _ := runCheckBinary(t, empty, "--no-collector.host", "--no-collector.process")
		if code != 2 || !strings.Contains(stdout, "Overall: CRITICAL") || !strings.Contains(stdout, "library not found") {
			t.Errorf("exit %d, want 2:\n%s", code, stdout)
		}
	})
	t.Run("library present, collectors off: warning, 1", func(t *testing.T) {
		if err := appsim.CheckFTS5(); err != nil {
			t.Skip("SQLite without FTS5 (make test builds with it):", err)
		}
		home := t.TempDir()
		lib := filepath.Join(home, "share", "DigitalWorkshop", "cache", "data", "3dmm.db")
		if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := appsim.CreateLibrary(lib, appsim.LibraryOptions{Models: 50}); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCheckBinary(t, home, "--format=json", "--no-collector.host", "--no-collector.process")
		var report struct {
			Status string `json:"status"`
			Checks []struct {
				Name, Status string
			} `json:"checks"`
		}
		if err := json.Unmarshal([]byte(stdout), &report); err != nil {
			t.Fatalf("not JSON: %v\n%s\n%s", err, stdout, stderr)
		}
		if code != 1 || report.Status != "warning" {
			t.Errorf("exit %d status %s, want 1 and warning:\n%s", code, report.Status, stdout)
		}
		for _, c := range report.Checks {
			if c.Name == "database" && c.Status == "critical" {
				t.Errorf("a fresh library is critical:\n%s", stdout)
			}
		}
	})
}

// /health serves the JSON report, made at most once per --web.health-interval.
func TestBinaryServesCachedHealthReport(t *testing.T) {
	addr, _ := startExporter(t, "--web.health-interval=1h", "--check.timeout=5s")
	var times []string
	for range 3 {
		code, body := get(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/health")
		var report struct {
			Status string `json:"status"`
			Time   string `json:"time"`
			Checks []any  `json:"checks"`
		}
		if err := json.Unmarshal([]byte(body), &report); err != nil || len(report.Checks) != 7 {
			t.Fatalf("/health: %d %v %q", code, err, body)
		}
		if (report.Status == "critical") != (code == http.StatusServiceUnavailable) {
			t.Errorf("/health status %s answered %d", report.Status, code)
		}
		times = append(times, report.Time)
		time.Sleep(1100 * time.Millisecond) // past the report's one-second time resolution
	}
	if times[0] != times[1] || times[1] != times[2] {
		t.Errorf("/health made a new report within the interval: %v", times)
	}
}
