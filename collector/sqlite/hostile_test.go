package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
	"github.com/candy-cadence/candy_cadence_exporter/internal/sqlitero"
)

// The hostile-input tests: a library or a path built to break the exporter (an adversarial
// review's findings), each checked against what the exporter must do instead.

// execLibrary runs statements on the library as the application would, read-write.
func execLibrary(t testing.TB, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// insertModel adds a model with the given format and date_added.
func insertModel(format, dateAdded string) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	return fmt.Sprintf(`INSERT INTO models(filename, format, file_path, file_size, date_added) VALUES ('x.stl', %s, '/m/x.stl', 10, %s)`,
		q(format), q(dateAdded))
}

// A model added "2300-01-01" (a clock gone wrong, a hand-edited row) once made the newest
// model's time -8.03e9: past 2262 a time in nanoseconds overflows. An impossible date is
// counted and left out of the newest.
func TestSQLiteHostileDateAdded(t *testing.T) {
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 20})
	execLibrary(t, lib.library, insertModel("stl", "2300-01-01"), insertModel("obj", "2300-01-01 00:00:00"))
	cfg := testSQLiteConfig(lib)
	cfg.Now = func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }
	c := newTestSQLiteCollector(t, cfg, nil)
	r := scrapeFault(t, c, dbLibrary, 1)
	newest := r.Values["candy_cadence_library_last_model_added_timestamp_seconds"]
	if want := float64(appsim.DefaultNewest.Unix()); newest != want {
		t.Errorf("newest model added at %v, want %v (the newest possible date)", newest, want)
	}
	if got := r.Values["candy_cadence_library_models_impossible_date_added"]; got != 2 {
		t.Errorf("impossible dates = %v, want 2", got)
	}
	if got := sqliteUnix(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)); got != 10413792000 {
		t.Errorf("sqliteUnix(2300-01-01) = %v, want 10413792000", got)
	}
}

// Formats are copied from the database: only a file-extension-shaped one becomes a label
// value. A test once put a user's name and home directory through as a format.
func TestSQLiteHostileFormatLabels(t *testing.T) {
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 20, Formats: []appsim.FormatShare{{Format: "stl", Weight: 1}}})
	execLibrary(t, lib.library,
		insertModel("alice@corp-laptop /home/alice", "2024-01-01 00:00:00"),
		insertModel("C:\\Users\\alice", "2024-01-01 00:00:00"),
		insertModel(".OBJ", "2024-01-01 00:00:00"),
		insertModel("", "2024-01-01 00:00:00"))
	c := newTestSQLiteCollector(t, testSQLiteConfig(lib), nil)
	r := scrapeFault(t, c, dbLibrary, 1)
	want := map[string]float64{"stl": 20, "obj": 1, "other": 2, "unknown": 1}
	got := map[string]float64{}
	for k, v := range r.Values {
		if f, ok := strings.CutPrefix(k, `candy_cadence_library_models{format="`); ok {
			got[strings.TrimSuffix(f, `"}`)] = v
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("models by format = %v, want %v", got, want)
	}
	for _, bad := range []string{"alice", "Users", "home"} {
		for k := range r.Values {
			if strings.Contains(k, bad) {
				t.Errorf("a label carries %q: %s", bad, k)
			}
		}
	}
}

func TestSQLiteLabelShapes(t *testing.T) {
	for raw, want := range map[string]string{
		"STL": "stl", " step ": "step", ".3mf": "3mf", "gltf": "gltf", "": "unknown",
		"stl/obj": "other", "a b": "other", "alice@corp": "other", "verylongextension": "other", "\xff": "other",
	} {
		if got := formatLabel(raw); got != want {
			t.Errorf("formatLabel(%q) = %q, want %q", raw, got, want)
		}
	}
	for raw, want := range map[string]string{
		"metadata": "metadata", "GEOMETRY_LOW": "geometry_low", "/home/alice": "other", "1st": "other",
	} {
		if got := levelLabel(raw); got != want {
			t.Errorf("levelLabel(%q) = %q, want %q", raw, got, want)
		}
	}
	groups := map[string]*labelGroup{}
	for i := range maxDistinctGroups + 500 {
		groupFor(groups, fmt.Sprintf("f%d", i)).count++
	}
	if len(groups) > maxDistinctGroups+1 {
		t.Errorf("%d groups held, want at most %d and other", len(groups), maxDistinctGroups)
	}
	if groups["other"].count != 500 {
		t.Errorf("other = %d, want the 500 values past the bound", groups["other"].count)
	}
}

// Format values of megabytes once took the background refresh to a 1.27 GB peak: each was
// copied whole into the exporter's heap. Only the first characters of a format are read now.
func TestSQLiteHostileHugeFormats(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MB of format values")
	}
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 10})
	const n, size = 50, 2 << 20
	stmts := make([]string, 0, n)
	for i := range n {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO models(filename, format, file_path, file_size) VALUES ('x', printf('%%d', %d) || hex(zeroblob(%d)), 'p', 1)`, i, size/2))
	}
	// Through a table without the FTS triggers' copies: the triggers would index 100 MB.
	execLibrary(t, lib.library, append([]string{"DROP TRIGGER IF EXISTS models_ai"}, stmts...)...)
	c := newTestSQLiteCollector(t, testSQLiteConfig(lib), nil)
	db, err := sqlitero.Open(lib.library, sqlitero.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	st, err := c.libraryStats(context.Background(), db)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("reading %d formats of %d bytes allocated %d bytes in Go", n, size, alloc)
	}
	var other int64
	for _, g := range st.groups {
		if g.label == "other" {
			other = g.count
		}
	}
	if other != n {
		t.Errorf("other = %d, want the %d huge formats", other, n)
	}
}

// A schema of many tables was parsed again on every scrape, as every scrape opened a new
// connection. While the files have not changed, a scrape reuses the last read.
func TestSQLiteHostileLargeSchemaReadOnce(t *testing.T) {
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 10})
	stmts := []string{"BEGIN"}
	for i := range 2000 {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE junk_%d(a, b, c)", i))
	}
	execLibrary(t, lib.library, append(stmts, "COMMIT")...)
	c := newTestSQLiteCollector(t, testSQLiteConfig(lib), nil)
	for range 10 {
		r := scrapeFault(t, c, dbLibrary, 1)
		if got := r.Values[`candy_cadence_db_tables{db="library"}`]; got < 2000 {
			t.Fatalf("tables = %v", got)
		}
	}
	if c.library.reads != 1 {
		t.Errorf("the unchanged schema was read %d times in 10 scrapes, want once", c.library.reads)
	}
	// The background stats refresh keeps the stats of the unchanged database too, reading it
	// again only every tenth time.
	files, err := sqlitero.StatFiles(lib.library)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.library.statsReads.Load(); n != 1 {
		t.Fatalf("stats read %d times before, want once", n)
	}
	for i := range 2 * (maxKeptRefreshes + 1) {
		if _, err := c.library.readStats(context.Background(), lib.library, files.DB.ID); err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
	}
	if n := c.library.statsReads.Load(); n != 3 {
		t.Errorf("stats read %d times in 1 + %d refreshes of an unchanged database, want 3", n, 2*(maxKeptRefreshes+1))
	}

	// A write is seen at the next scrape.
	execLibrary(t, lib.library, "CREATE TABLE junk_new(a)")
	r := scrapeFault(t, c, dbLibrary, 1)
	if c.library.reads != 2 {
		t.Errorf("after a write the database was read %d times in all, want twice", c.library.reads)
	}
	if got := r.Values[`candy_cadence_db_tables{db="library"}`]; got < 2001 {
		t.Errorf("tables after a write = %v", got)
	}
}

// A path that is not UTF-8 (a byte string on Unix) once panicked every scrape, with the
// path label on, and took the cache database's metrics down with the library's.
func TestSQLiteHostileNonUTF8Path(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows paths are UTF-16")
	}
	dir := filepath.Join(t.TempDir(), "caf\xe9")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skip("the file system refuses non-UTF-8 names:", err)
	}
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 10})
	for _, pathLabel := range []bool{false, true} {
		cfg := testSQLiteConfig(lib)
		cfg.PathLabel = pathLabel
		c := newTestSQLiteCollector(t, cfg, nil)
		r := collectortest.Scrape(t, c, faultDeadline)
		if r.Values[upKey(dbLibrary)] != 1 || r.Values[upKey(dbCache)] != 1 {
			t.Fatalf("path-label=%v: db_up = %v / %v", pathLabel, r.Values[upKey(dbLibrary)], r.Values[upKey(dbCache)])
		}
		for k := range r.Values {
			if strings.HasPrefix(k, "candy_cadence_db_info") && strings.Contains(k, "path=") != pathLabel {
				t.Errorf("path-label=%v: %s", pathLabel, k)
			}
		}
	}
}

// With the library in a directory whose name holds "[", the default backup globs matched
// nothing, so the backup-age alert could never fire.
func TestSQLiteHostileBackupDirName(t *testing.T) {
	for _, name := range []string{"plain", "lib[1]", "a*b"} {
		t.Run(name, func(t *testing.T) {
			if runtime.GOOS == "windows" && strings.Contains(name, "*") {
				t.Skip("not a Windows file name")
			}
			dir := filepath.Join(t.TempDir(), name)
			lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 5})
			writeBackup(t, filepath.Join(dir, "data", "candy_cadence_backup_20241230_120000.db.gz"), 100)
			writeBackup(t, filepath.Join(dir, "data", "backups", "candy_cadence_backup_20241231_235959.db.gz"), 321)
			logs := &collectortest.LogBuffer{}
			c := newTestSQLiteCollector(t, testSQLiteConfig(lib), logs)
			r := scrapeSQLite(t, c, faultDeadline)
			if r.Values[upKey(dbLibrary)] != 1 {
				t.Fatalf("library not read:\n%s", logs)
			}
			if got := r.Values["candy_cadence_backups"]; got != 2 {
				t.Errorf("backups = %v, want 2", got)
			}
		})
	}
}

// Discovery reports what exists now, and never a fallback as found.
func TestSQLiteDiscovery(t *testing.T) {
	home, wd := t.TempDir(), t.TempDir()
	env := appdirs.Env{GOOS: "linux", HomeDir: home, WorkDir: wd}
	c, err := New(Config{}, env, collectortest.Logger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	got := c.Discovery()
	if len(got) != 3 {
		t.Fatalf("discoveries %+v, want library, cache, backups", got)
	}
	for _, d := range got {
		if d.Found || d.Configured || len(d.LookedIn) == 0 {
			t.Errorf("nothing exists yet: %+v", d)
		}
	}
	lib := newTestLibrary(t, wd, appsim.LibraryOptions{Models: 1})
	writeBackup(t, filepath.Join(wd, "data", "backups", "candy_cadence_backup_20241231_235959.db.gz"), 1)
	got = c.Discovery()
	if !got[0].Found || got[0].Path != lib.library {
		t.Errorf("library: %+v, want found at %s", got[0], lib.library)
	}
	if !got[2].Found {
		t.Errorf("backups: %+v, want found", got[2])
	}
	// The cache database of the newer layout is cache/cache.db under the working directory
	// for this layout; the test library put it elsewhere.
	if got[1].Found {
		t.Errorf("cache: %+v, want not found", got[1])
	}
}

// A background stats refresh that fails (here: the file it was asked about is not the one at
// the path) drops the reused facts, so a lock or a change that left the files as they were is
// seen within one stats interval.
func TestSQLiteFailedRefreshDropsReusedFacts(t *testing.T) {
	lib := newTestLibrary(t, t.TempDir(), appsim.LibraryOptions{Models: 10})
	c := newTestSQLiteCollector(t, testSQLiteConfig(lib), nil)
	for range 3 {
		scrapeFault(t, c, dbLibrary, 1)
	}
	if c.library.reads != 1 {
		t.Fatalf("read %d times, want once", c.library.reads)
	}
	if _, err := c.library.readStats(context.Background(), lib.library, sqlitero.FileID{}); err == nil {
		t.Fatal("a refresh of another file succeeded")
	}
	scrapeFault(t, c, dbLibrary, 1)
	if c.library.reads != 2 {
		t.Errorf("after a failed refresh the database was read %d times in all, want twice", c.library.reads)
	}
}
