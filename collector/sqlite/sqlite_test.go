package sqlite

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// TestMain lets a test binary run as the appsim command in a child process, so that tests get
// a writer (or a lock holder) in another process without building anything.
func TestMain(m *testing.M) {
	if args, ok := appsimChildArgs(); ok {
		os.Exit(appsim.Main(args, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const appsimEnv = "CANDY_CADENCE_APPSIM_ARGS"

func appsimChildArgs() ([]string, bool) {
	v, ok := os.LookupEnv(appsimEnv)
	if !ok {
		return nil, false
	}
	return strings.Split(v, "\x1f"), true
}

// testLibrary is a directory laid out as the application's newer build leaves it.
type testLibrary struct {
	dir, library, cache string
}

func newTestLibrary(t testing.TB, dir string, opts appsim.LibraryOptions) testLibrary {
	t.Helper()
	requireFTS5(t)
	l := testLibrary{
		dir:     dir,
		library: filepath.Join(dir, "data", "3dmm.db"),
		cache:   filepath.Join(dir, "cache.db"),
	}
	if err := appsim.CreateLibrary(l.library, opts); err != nil {
		t.Fatal(err)
	}
	if err := appsim.CreateCache(l.cache, appsim.CacheOptions{Entries: 30, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	return l
}

func testSQLiteConfig(l testLibrary) Config {
	return Config{LibraryPath: l.library, CachePath: l.cache}
}

func newTestSQLiteCollector(t testing.TB, cfg Config, logs io.Writer) *Collector {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	c, err := New(cfg, appdirs.Env{}, collectortest.Logger(logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// scrapeResult is one Update's samples; the path label is left out of the keys, as the
// temporary directory differs on every run.
type scrapeResult = collectortest.Result

// scrapeSQLite runs one Update under a deadline, like the runner does.
func scrapeSQLite(t testing.TB, c *Collector, timeout time.Duration) scrapeResult {
	t.Helper()
	return collectortest.Scrape(t, c, timeout, "path")
}

// waitForScrape scrapes until cond holds or the time runs out.
func waitForScrape(t testing.TB, c *Collector, within time.Duration, cond func(scrapeResult) bool) scrapeResult {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := scrapeSQLite(t, c, 5*time.Second)
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s; last scrape: %v", within, r.Values)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stableGatherer makes a gather reproducible: measured durations become 0.001 (after the test
// has checked that they are positive) and the temporary directory in paths becomes /data.
type stableGatherer struct {
	g   prometheus.Gatherer
	dir string
}

func (s stableGatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := s.g.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if strings.HasSuffix(mf.GetName(), "_duration_seconds") {
				m.GetGauge().Value = ptr(0.001)
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "path" {
					l.Value = ptr(filepath.ToSlash(strings.Replace(l.GetValue(), s.dir, "/data", 1)))
				}
			}
		}
	}
	return mfs, err
}

func ptr[T any](v T) *T { return &v }

func TestSQLiteGolden(t *testing.T) {
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{
		Models:   500,
		Searches: 12,
		Seed:     7,
		// Mixed case merges; with a bound of 3 the smallest format is counted as other.
		Formats: []appsim.FormatShare{
			{Format: "stl", Weight: 50}, {Format: "STL", Weight: 10}, {Format: "obj", Weight: 20},
			{Format: "3mf", Weight: 12}, {Format: "step", Weight: 8},
		},
	})
	modTime := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, p := range []string{lib.library, lib.cache} {
		if err := os.Chtimes(p, modTime, modTime); err != nil {
			t.Fatal(err)
		}
	}
	writeBackup(t, filepath.Join(dir, "data", "candy_cadence_backup_20241230_120000.db.gz"), 100)
	writeBackup(t, filepath.Join(dir, "data", "backups", "candy_cadence_backup_20241231_235959.db.gz"), 321)
	writeBackup(t, filepath.Join(dir, "data", "backups", "unrelated.db.gz"), 5)

	cfg := testSQLiteConfig(lib)
	cfg.MaxLabelValues = 3
	cfg.Now = func() time.Time { return time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC) }
	c := newTestSQLiteCollector(t, cfg, nil)
	c.backups.loc = time.UTC

	r := waitForScrape(t, c, 30*time.Second, func(r scrapeResult) bool {
		return r.Has(`candy_cadence_db_integrity_ok{db="library"}`) && r.Has(`candy_cadence_db_integrity_ok{db="cache"}`)
	})
	for _, key := range []string{
		`candy_cadence_db_query_duration_seconds{db="library"}`, `candy_cadence_db_query_duration_seconds{db="cache"}`,
		`candy_cadence_db_integrity_check_duration_seconds{db="library"}`, `candy_cadence_db_integrity_check_duration_seconds{db="cache"}`,
	} {
		if r.Values[key] <= 0 {
			t.Errorf("%s = %v, want a positive measured duration", key, r.Values[key])
		}
	}

	collectortest.AssertGoldenGathered(t, stableGatherer{g: collectortest.Registry(t, c), dir: dir}, "sqlite")
}

func writeBackup(t testing.TB, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte{0x1f}, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSQLiteLabelBound(t *testing.T) {
	groups := map[string]*labelGroup{}
	for _, raw := range []string{"STL", "stl", " Obj ", "3mf", "", "\xff\xfe", strings.Repeat("x", 40), "step", "other"} {
		g := groupFor(groups, raw)
		g.count++
		g.bytes += 10
	}
	got := boundGroups(groups, 2)
	// other: the invalid and over-long values, a literal "other", plus the values past the bound.
	want := []labelGroup{{"stl", 2, 20}, {"3mf", 1, 10}, {"other", 6, 60}}
	if !slices.Equal(got, want) {
		t.Fatalf("boundGroups = %v, want %v", got, want)
	}
}

func TestParseSQLiteTime(t *testing.T) {
	want := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, v := range []any{"2025-01-02 03:04:05", []byte("2025-01-02T03:04:05"), "2025-01-02 03:04:05.000", want, want.Unix()} {
		got, ok := parseSQLiteTime(v)
		if !ok || !got.Equal(want) {
			t.Errorf("parseSQLiteTime(%v) = %v, %v; want %v", v, got, ok, want)
		}
	}
	if _, ok := parseSQLiteTime("yesterday"); ok {
		t.Error("parseSQLiteTime accepted garbage")
	}
}

func TestBackupTime(t *testing.T) {
	mod := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := backupTime("/b/candy_cadence_backup_20250102_030405.db.gz", mod, time.UTC); !got.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("from name: got %v", got)
	}
	if got := backupTime("/b/candy_cadence_backup_manual.db.gz", mod, time.UTC); !got.Equal(mod) {
		t.Errorf("without a stamp: got %v, want the modification time", got)
	}
}

// requireFTS5 skips a test that needs the application's library when SQLite was built without
// FTS5 (a plain go test): run make test, or go test -tags sqlite_fts5.
func requireFTS5(t testing.TB) {
	t.Helper()
	if err := appsim.CheckFTS5(); err != nil {
		t.Skip(err)
	}
}
