package health

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/collector/logs"
	"github.com/candy-cadence/candy_cadence_exporter/collector/sqlite"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// A test binary started with appsimEnv set runs appsim's command line instead of the tests,
// so that a test can hold the library's lock from another process, as the application does.
const appsimEnv = "CANDY_CADENCE_HEALTH_APPSIM_ARGS"

func TestMain(m *testing.M) {
	if v, ok := os.LookupEnv(appsimEnv); ok {
		os.Exit(appsim.Main(strings.Split(v, "\x1f"), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// workstation is a fixture desktop: the newer layout under a private XDG data directory.
type workstation struct {
	env     appdirs.Env
	base    string // .../DigitalWorkshop
	library string
	cache   string
	logDir  string
}

func newWorkstation(t *testing.T, models int) workstation {
	t.Helper()
	if err := appsim.CheckFTS5(); err != nil {
		t.Skip("SQLite without FTS5 (build with -tags sqlite_fts5, as make test does):", err)
	}
	share := t.TempDir()
	w := workstation{
		env:  appdirs.Env{GOOS: "linux", HomeDir: share, XDGDataHome: share, WorkDir: t.TempDir()},
		base: filepath.Join(share, "DigitalWorkshop"),
	}
	w.library = filepath.Join(w.base, "cache", "data", "3dmm.db")
	w.cache = filepath.Join(w.base, "cache", "cache.db")
	w.logDir = filepath.Join(w.base, "cache", "logs")
	for _, d := range []string{filepath.Dir(w.library), w.logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if models >= 0 {
		if err := appsim.CreateLibrary(w.library, appsim.LibraryOptions{Models: models}); err != nil {
			t.Fatal(err)
		}
		if err := appsim.CreateCache(w.cache, appsim.CacheOptions{Entries: 10}); err != nil {
			t.Fatal(err)
		}
		w.backup(t, time.Now().Add(-time.Hour))
		w.writeLog(t, "Log - 030426-08-00-00 INFO.txt", logRecord(30*time.Minute, "INFO", "Application started"))
	}
	return w
}

// backup writes a backup file named for at beside the library.
func (w workstation) backup(t *testing.T, at time.Time) {
	t.Helper()
	name := filepath.Join(filepath.Dir(w.library), "candy_cadence_backup_"+at.Format("20060102_150405")+".db.gz")
	if err := os.WriteFile(name, []byte("backup"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// logRecord is one line of the application's JSON log, stamped ago before now.
func logRecord(ago time.Duration, level, message string, extra ...string) string {
	fields := []string{
		fmt.Sprintf(`"timestamp": %q`, time.Now().Add(-ago).Format("2006-01-02T15:04:05.000000")),
		fmt.Sprintf(`"level": %q`, level), `"logger": "candy_cadence"`, `"function": "run"`, `"line": 12`,
		fmt.Sprintf(`"message": %q`, message), `"module": "main"`, `"thread": 1`, `"process": 42`,
	}
	return "{" + strings.Join(append(fields, extra...), ", ") + "}\n"
}

// writeLog writes lines into a log file of the application's naming.
func (w workstation) writeLog(t *testing.T, name string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(w.logDir, name), []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checker runs the real sqlite collector (and a quiet stand-in for the rest) over the
// workstation, with the exporter's discovery.
func (w workstation) checker(t *testing.T, cfg sqlite.Config) *Checker {
	t.Helper()
	logger := collectortest.Logger(&collectortest.LogBuffer{})
	sq, err := sqlite.New(cfg, w.env, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sq.Close)
	th, err := DefaultThresholds()
	if err != nil {
		t.Fatal(err)
	}
	return NewChecker(Config{
		Runner:           collector.NewRunner([]collector.Named{{Name: "sqlite", Collector: sq}}, logger),
		Paths:            Discover(w.env, PathFlags{}, logs.DiscoveredGlobs(w.env)),
		Thresholds:       th,
		Version:          "test",
		WaitForIntegrity: true,
		CPUSample:        10 * time.Millisecond,
	})
}

func TestDatabaseCheckOnWorkstations(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		w := newWorkstation(t, 200)
		r := runCheck(t, w.checker(t, sqlite.Config{}))
		wantStatus(t, checkOf(t, r, CheckDatabase), StatusHealthy, "quick_check ok")
		wantStatus(t, checkOf(t, r, CheckConfiguration), StatusHealthy, w.library+" (discovered)")
	})
	t.Run("fragmented", func(t *testing.T) {
		w := newWorkstation(t, 2000)
		deleteModels(t, w.library, "id > 100")
		r := runCheck(t, w.checker(t, sqlite.Config{}))
		wantStatus(t, checkOf(t, r, CheckDatabase), StatusWarning, "VACUUM it while the application is closed")
	})
	t.Run("no backup", func(t *testing.T) {
		w := newWorkstation(t, 10)
		matches, _ := filepath.Glob(filepath.Join(filepath.Dir(w.library), "candy_cadence_backup_*"))
		for _, m := range matches {
			_ = os.Remove(m)
		}
		r := runCheck(t, w.checker(t, sqlite.Config{}))
		wantStatus(t, checkOf(t, r, CheckDatabase), StatusWarning, "no backup of the library was found")
	})
	t.Run("not a database", func(t *testing.T) {
		w := newWorkstation(t, -1)
		if err := os.WriteFile(w.library, []byte(strings.Repeat("not sqlite ", 1000)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runCheck(t, w.checker(t, sqlite.Config{}))
		wantStatus(t, checkOf(t, r, CheckDatabase), StatusCritical, "")
	})
	t.Run("missing", func(t *testing.T) {
		w := newWorkstation(t, -1)
		r := runCheck(t, w.checker(t, sqlite.Config{}))
		wantStatus(t, checkOf(t, r, CheckDatabase), StatusCritical, "not found")
		wantStatus(t, checkOf(t, r, CheckConfiguration), StatusCritical, "library not found (looked in "+w.library)
	})
}

// deleteModels deletes rows as the application does when a user removes models, leaving the
// freed pages on the free list, and checkpoints so that the database file shows them.
func deleteModels(t *testing.T, path, where string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"DELETE FROM model_metadata WHERE model_id IN (SELECT id FROM models WHERE " + where + ")",
		"DELETE FROM models WHERE " + where, "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// The check finishes within its deadline while the application holds the library's lock,
// and says what it could not check rather than failing as a whole.
func TestCheckFinishesWithLockedLibrary(t *testing.T) {
	w := newWorkstation(t, 200)
	// A busy timeout beyond the deadline, as a user might configure, must not hold the check.
	// Built before the lock is taken so that the lock holder, cleaned up last-in first-out,
	// is killed before the collector is closed.
	c := w.checker(t, sqlite.Config{BusyTimeout: 30 * time.Second})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command(exe, "-test.run=^$")
	holder.Env = append(os.Environ(), appsimEnv+"="+strings.Join([]string{"lock", "-db", w.library, "-hold", "60s"}, "\x1f"))
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("appsim lock said %q", line)
	}

	const timeout = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	begin := time.Now()
	r := c.Run(ctx)
	took := time.Since(begin)
	// The margin covers a loaded machine; the lock is held for 60 s.
	if took > timeout+2*time.Second {
		t.Errorf("the check took %v with the library locked, deadline %v", took, timeout)
	}
	db := checkOf(t, r, CheckDatabase)
	if db.Status == StatusHealthy {
		t.Errorf("a locked library is reported healthy: %+v", db)
	}
	for _, name := range []string{CheckConfiguration, CheckPermissions, CheckLogs} {
		if c := checkOf(t, r, name); c.Status == StatusCritical {
			t.Errorf("%s is critical because of the lock: %+v", name, c)
		}
	}
}

func TestLogsAndPerformanceChecks(t *testing.T) {
	errorLine := func(ago time.Duration) string {
		return logRecord(ago, "ERROR", "Error in load_model: bad file", `"exception": {"type": "ValueError", "message": "bad", "traceback": []}`)
	}
	search := func(ago time.Duration, seconds float64) string {
		return logRecord(ago, "INFO", fmt.Sprintf("Search completed in %gs: 3 results", seconds))
	}
	repeat := func(n int, f func(i int) string) []string {
		var out []string
		for i := range n {
			out = append(out, f(i))
		}
		return out
	}
	cases := []struct {
		name        string
		lines       []string
		logs, perf  Status
		mentionLogs string
		mentionPerf string
	}{
		{"quiet", append(repeat(20, func(i int) string { return search(time.Duration(i)*time.Minute, 0.3) }), errorLine(2*time.Minute)),
			StatusHealthy, StatusHealthy, "1 error and 0 critical", "20 operation(s) in the last hour: mean 300 ms"},
		{"errors of two hours ago do not count", repeat(80, func(int) string { return errorLine(2 * time.Hour) }),
			StatusHealthy, StatusHealthy, "0 error and 0 critical", "no timed operations"},
		{"many errors, slow mean", append(repeat(60, func(int) string { return errorLine(10 * time.Minute) }),
			repeat(20, func(i int) string { return search(time.Minute, 3) })...),
			StatusWarning, StatusHealthy, "60 errors in the last hour (threshold 50)", "the mean is over the 2 s objective"},
		{"uncaught exception, slow 95th percentile", append([]string{logRecord(5*time.Minute, "CRITICAL", "Uncaught exception", `"exception_type": "KeyError"`)},
			append(repeat(17, func(i int) string { return search(time.Minute, 0.5) }), repeat(3, func(i int) string { return search(time.Minute, 6) })...)...),
			StatusWarning, StatusWarning, "1 CRITICAL record(s) in the last hour", "the 95th percentile is 6 s, over the 5 s objective"},
		{"critical error type, latency budget burning", append([]string{logRecord(5*time.Minute, "ERROR", "Error in save: disk I/O error", `"exception": {"type": "OperationalError", "message": "disk I/O error", "traceback": []}`)},
			repeat(20, func(i int) string { return search(time.Minute, 7) })...),
			StatusCritical, StatusCritical, "1 error(s) of a critical type", "100% of operations took over 5 s"},
		{"too few operations to judge", repeat(3, func(int) string { return search(time.Minute, 9) }),
			StatusHealthy, StatusHealthy, "", "too few to judge"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorkstation(t, 10)
			w.writeLog(t, "Log - 030426-09-00-00 INFO.txt", tc.lines...)
			r := runCheck(t, w.checker(t, sqlite.Config{}))
			wantStatus(t, checkOf(t, r, CheckLogs), tc.logs, tc.mentionLogs)
			wantStatus(t, checkOf(t, r, CheckPerformance), tc.perf, tc.mentionPerf)
		})
	}
}

// The log scan reads at most its budget, newest first, and says the count is partial.
func TestLogScanIsBounded(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for b.Len() < 1<<20 {
		b.WriteString(logRecord(time.Minute, "ERROR", "Error in f: x"))
	}
	path := filepath.Join(dir, "Log - 1.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	h := scanLogs(context.Background(), []string{path}, time.Now(), 64<<10, Thresholds{})
	if h.readBytes > 64<<10 || !h.partial {
		t.Errorf("read %d bytes (budget %d), partial %v", h.readBytes, 64<<10, h.partial)
	}
	if h.errors == 0 {
		t.Error("no errors counted from the newest 64 KiB")
	}
}

func TestPermissionsCheck(t *testing.T) {
	w := newWorkstation(t, 10)
	r := runCheck(t, w.checker(t, sqlite.Config{}))
	wantStatus(t, checkOf(t, r, CheckPermissions), StatusHealthy, "data directory writable")

	if os.Geteuid() == 0 {
		t.Skip("running as root: permission bits do not bind, so unreadable and read-only cannot be made")
	}
	dataDir := filepath.Dir(w.library)
	if err := os.Chmod(dataDir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dataDir, 0o755) })
	r = runCheck(t, w.checker(t, sqlite.Config{}))
	wantStatus(t, checkOf(t, r, CheckPermissions), StatusCritical, "is not writable")

	if err := os.Chmod(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(w.logDir, 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(w.logDir, 0o755) })
	r = runCheck(t, w.checker(t, sqlite.Config{}))
	wantStatus(t, checkOf(t, r, CheckPermissions), StatusWarning, "cannot be read by this user")
}

// The check never writes: the library and its directory are byte for byte the same after it.
func TestCheckDoesNotWrite(t *testing.T) {
	w := newWorkstation(t, 200)
	before := snapshotDir(t, filepath.Dir(w.library))
	runCheck(t, w.checker(t, sqlite.Config{}))
	after := snapshotDir(t, filepath.Dir(w.library))
	if before != after {
		t.Errorf("the data directory changed:\nbefore %s\nafter  %s", before, after)
	}
}

func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%d:%x ", e.Name(), len(data), data[:min(len(data), 0)])
		b.WriteString(fmt.Sprintf("%x ", sumBytes(data)))
	}
	return b.String()
}

func sumBytes(b []byte) uint64 {
	var h uint64 = 1469598103934665603
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
