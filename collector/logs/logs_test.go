package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
	"github.com/prometheus/common/promslog"
)

func appJSON(level, message string, extra ...string) string {
	s := fmt.Sprintf(`{"timestamp": "2025-03-14T09:26:53.589793", "level": %q, "logger": "src.core", "function": "f", "line": 1, "message": %q, "module": "m", "thread": 1, "process": 2`, level, message)
	for _, e := range extra {
		s += ", " + e
	}
	return s + "}\n"
}

// goldenLogs writes one file of each format the application and the manual produce.
func goldenLogs(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"Log - 031425-09-26-53 INFO.txt": appJSON("INFO", "Search completed in 0.123s: 42 results") +
			appJSON("INFO", "Search completed in 3.2s: 7 results") +
			appJSON("INFO", "Window geometry initialized in 0.412s") +
			appJSON("INFO", "Successfully parsed /m/gear.stl", `"operation": "parse_success"`, `"file_size": 1024`, `"duration_ms": 250`) +
			appJSON("INFO", "Loaded /m/gear.stl from cache", `"operation": "cache_hit"`, `"duration": 0.004`) +
			appJSON("INFO", "Thumbnail rendered", `"operation": "thumbnail_render"`, `"duration": 1.2`) +
			appJSON("Level 5", "custom level"),
		"Log - 031425-09-26-54 DEBUG.txt": appJSON("DEBUG", "Cache hit (memory): /m/a.stl") +
			appJSON("DEBUG", "Cache hit (disk): /m/b.stl") +
			appJSON("DEBUG", "Cache miss: /m/c.stl") +
			"not json at all\n",
		"Log - 031425-09-26-55 ERROR.txt": appJSON("ERROR", "Failed", `"exception": {"type": "CorruptedFileError", "message": "x", "traceback": []}`) +
			appJSON("ERROR", "Error in load: locked", `"custom_error_type": "OperationalError"`) +
			appJSON("ERROR", "no type") +
			appJSON("ERROR", "Plugin failed", `"exception_type": "acme.PluginCrash"`) +
			appJSON("ERROR", "Plugin failed again", `"exception_type": "acme.OtherCrash"`),
		"Log - 031425-09-26-56 CRITICAL.txt": appJSON("CRITICAL", "Unhandled", `"exception_type": "MemoryError"`),
		"Log - 031425-09-26-57 WARNING.txt":  appJSON("WARNING", "PERFORMANCE ALERT: memory 1600 MB"),
		"error_monitor.log": "2025-03-14 09:26:53,589 - ERROR - Error: DatabaseError - database disk image is malformed\n" +
			"2025-03-14 09:26:53,590 - ERROR - Context: {\"file\": \"a.stl\"}\n",
		"errors.log": "2025-03-14 09:26:53,589 - candy_cadence.db - ERROR - query failed\n" +
			"Traceback (most recent call last):\n" +
			"  File \"src/core/database.py\", line 88, in execute\n" +
			"sqlite3.IntegrityError: UNIQUE constraint failed\n" +
			"[2025-03-14 09:26:54] WARNING | perf | slow render\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newTestLogsCollector builds a collector whose tailer the test drives with Poll, on a fake
// clock that each Poll call of the test moves on past the poll interval.
func newTestLogsCollector(t *testing.T, dir string, maxUnknown int) *Collector {
	t.Helper()
	clock := time.Date(2025, 3, 14, 9, 26, 53, 0, time.Local)
	c, err := newCollector(Config{
		now:                  func() time.Time { clock = clock.Add(time.Second); return clock },
		Globs:                logGlobs([]string{dir}),
		FromStart:            true,
		PollInterval:         time.Second,
		MaxUnknownErrorTypes: maxUnknown,
		keepOpen:             ptr(true),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.tailer.Close)
	return c
}

func TestLogsGolden(t *testing.T) {
	dir := t.TempDir()
	goldenLogs(t, dir)
	c := newTestLogsCollector(t, dir, 1)
	c.tailer.Poll() // reads everything; the text record waits for its traceback to end
	c.tailer.Poll() // nothing new: the pending record is complete
	collectortest.AssertGolden(t, c, "logs")
}

func TestLogsErrorTypesBounded(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 500 {
		b.WriteString(appJSON("ERROR", "x", fmt.Sprintf(`"exception_type": "Unlisted%dError"`, i)))
	}
	b.WriteString(appJSON("ERROR", "x", `"exception_type": "ValueError"`))
	if err := os.WriteFile(filepath.Join(dir, "errors.log"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newTestLogsCollector(t, dir, 10)
	c.tailer.Poll()
	series := testutil.CollectAndCount(c.counters.errorsVec)
	if want := len(knownErrorTypes) + 2 + 10; series != want {
		t.Errorf("%d error type series, want %d", series, want)
	}
	if got := testutil.ToFloat64(c.counters.other); got != 490 {
		t.Errorf("other = %v, want 490", got)
	}
	if got := testutil.ToFloat64(c.counters.errorTypes["ValueError"]); got != 1 {
		t.Errorf("ValueError = %v, want 1", got)
	}
}

func TestLogGlobsEscapeDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd [dir] *?")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Log - 031425-09-26-53 INFO.txt"), []byte(appJSON("INFO", "x")), 0o644); err != nil {
		t.Fatal(err)
	}
	globs := logGlobs([]string{dir})
	m, err := filepath.Glob(globs[0])
	if err != nil || len(m) != 1 {
		t.Errorf("glob %q matched %q (err %v), want the one file", globs[0], m, err)
	}
}

func TestLogsCollectorRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Globs: []string{"[x"}, PollInterval: time.Second},
		{Globs: []string{"*.log"}, PollInterval: -time.Second},
	} {
		if _, err := newCollector(cfg, nil); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

// TestLogsCollectorRuns checks the started collector: lines appended after start-up are
// counted by its own goroutine, and Close stops it.
func TestLogsCollectorRuns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "errors.log")
	if err := os.WriteFile(path, []byte(appJSON("ERROR", "before start-up")), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Globs: logGlobs([]string{dir}), PollInterval: 10 * time.Millisecond, keepOpen: ptr(true), MaxUnknownErrorTypes: 5}, appdirs.Env{}, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for c.tailer.Stats().Files.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(appJSON("ERROR", "after", `"exception_type": "KeyError"`))
	f.Close()
	errs := c.counters.errorTypes["KeyError"]
	for testutil.ToFloat64(errs) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := testutil.ToFloat64(errs); got != 1 {
		t.Errorf("KeyError = %v, want 1", got)
	}
	if got := testutil.ToFloat64(c.counters.unknown); got != 0 {
		t.Errorf("unknown = %v, want 0: the record before start-up must not be read", got)
	}
}

func TestLogGlobsCoverDiscoveredDirectories(t *testing.T) {
	env := appdirs.Env{GOOS: "linux", HomeDir: "/home/ana", WorkDir: "/opt/candy"}
	globs := logGlobs(appdirs.LogDirs(appdirs.Layouts(env)))
	for _, want := range []string{
		"/home/ana/.local/share/DigitalWorkshop/cache/logs/Log - *.txt",
		"/home/ana/.local/share/3D-MM Development Team/3D-MM/logs/Log - *.txt",
		"/home/ana/.local/share/DigitalWorkshop/cache/logs/errors.log",
		"/opt/candy/logs/error_monitor.log",
	} {
		if !slices.Contains(globs, filepath.FromSlash(want)) {
			t.Errorf("default patterns lack %q: %q", want, globs)
		}
	}
}

func ptr[T any](v T) *T { return &v }
