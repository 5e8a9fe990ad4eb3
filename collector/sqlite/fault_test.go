package sqlite

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// The fault tests: each breaks a database in one way and checks that the scrape ends within its
// deadline, that db_up or db_integrity_ok says what is true, that the log says it once, and
// that the metric comes back when the file is good again.

const faultDeadline = 2 * time.Second

func upKey(db string) string        { return `candy_cadence_db_up{db="` + db + `"}` }
func integrityKey(db string) string { return `candy_cadence_db_integrity_ok{db="` + db + `"}` }

// scrapeFault scrapes once and checks the deadline and the value of db_up.
func scrapeFault(t testing.TB, c *Collector, db string, wantUp float64) scrapeResult {
	t.Helper()
	r := scrapeSQLite(t, c, faultDeadline)
	if r.Took > faultDeadline+100*time.Millisecond {
		t.Fatalf("scrape took %s, past its %s deadline", r.Took, faultDeadline)
	}
	if got, ok := r.Values[upKey(db)]; !ok || got != wantUp {
		t.Fatalf("db_up{db=%s} = %v (present %v), want %v", db, got, ok, wantUp)
	}
	return r
}

// logLines counts the log lines with msg for db.
func logLines(logs *collectortest.LogBuffer, msg, db string) int {
	n := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, msg) && strings.Contains(line, "db="+db) {
			n++
		}
	}
	return n
}

func assertLoggedOnce(t testing.TB, logs *collectortest.LogBuffer, msg, db string) {
	t.Helper()
	if n := logLines(logs, msg, db); n != 1 {
		t.Errorf("%q for db=%s logged %d times, want once; log:\n%s", msg, db, n, logs)
	}
}

// replaceFile puts data at path the way an application restores a file: write aside, rename.
func replaceFile(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSQLiteFaultMissingFile(t *testing.T) {
	dir := t.TempDir()
	lib := testLibrary{dir: dir, library: filepath.Join(dir, "data", "3dmm.db"), cache: filepath.Join(dir, "cache.db")}
	logs := &collectortest.LogBuffer{}
	c := newTestSQLiteCollector(t, testSQLiteConfig(lib), logs)
	for range 3 {
		r := scrapeFault(t, c, dbLibrary, 0)
		scrapeFault(t, c, dbCache, 0)
		if r.Has(`candy_cadence_db_size_bytes{db="library"}`) {
			t.Fatal("a missing database has a size")
		}
	}
	assertLoggedOnce(t, logs, "database cannot be read", dbLibrary)
	assertLoggedOnce(t, logs, "database file not found", dbLibrary)

	// The application creates its databases on first start.
	newTestLibrary(t, dir, appsim.LibraryOptions{Models: 10})
	r := scrapeFault(t, c, dbLibrary, 1)
	scrapeFault(t, c, dbCache, 1)
	if r.Values[`candy_cadence_db_rows{db="library",table="models"}`] != 10 {
		t.Errorf("models rows = %v, want 10", r.Values[`candy_cadence_db_rows{db="library",table="models"}`])
	}
	assertLoggedOnce(t, logs, "database readable again", dbLibrary)
	assertLoggedOnce(t, logs, "database file chosen", dbLibrary)
}

func TestSQLiteFaultNotADatabase(t *testing.T) {
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 20})
	good := readFile(t, lib.library)
	garbage := make([]byte, 8192)
	rand.Read(garbage)
	replaceFile(t, lib.library, garbage)
	logs := &collectortest.LogBuffer{}
	c := newTestSQLiteCollector(t, testSQLiteConfig(lib), logs)
	for range 3 {
		r := scrapeFault(t, c, dbLibrary, 0)
		scrapeFault(t, c, dbCache, 1)
		if r.Values[`candy_cadence_db_info{db="library",journal_mode="unknown"}`] != 1 {
			t.Errorf("db_info of random bytes: %v", r.Values)
		}
	}
	assertLoggedOnce(t, logs, "database cannot be read", dbLibrary)
	if !strings.Contains(logs.String(), "not an SQLite database") {
		t.Errorf("the log does not say why:\n%s", logs)
	}
	replaceFile(t, lib.library, good)
	scrapeFault(t, c, dbLibrary, 1)
	assertLoggedOnce(t, logs, "database readable again", dbLibrary)
}

func TestSQLiteFaultTruncated(t *testing.T) {
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 3000})
	good := readFile(t, lib.library)
	replaceFile(t, lib.library, good[:len(good)*2/5])
	cfg := testSQLiteConfig(lib)
	cfg.IntegrityInterval = 50 * time.Millisecond
	logs := &collectortest.LogBuffer{}
	c := newTestSQLiteCollector(t, cfg, logs)
	// Page 1 and the schema survive, so the database still answers; the integrity check and
	// the row counts find the missing pages.
	waitForScrape(t, c, 20*time.Second, func(r scrapeResult) bool {
		if r.Took > faultDeadline {
			t.Fatalf("scrape took %s", r.Took)
		}
		v, ok := r.Values[integrityKey(dbLibrary)]
		return ok && v == 0
	})
	if n := logLines(logs, "integrity check found corruption", dbLibrary); n != 1 {
		t.Errorf("corruption logged %d times, want once:\n%s", n, logs)
	}
	replaceFile(t, lib.library, good)
	waitForScrape(t, c, 20*time.Second, func(r scrapeResult) bool {
		return r.Values[upKey(dbLibrary)] == 1 && r.Values[integrityKey(dbLibrary)] == 1 &&
			r.Values[`candy_cadence_db_rows{db="library",table="models"}`] == 3000
	})
	assertLoggedOnce(t, logs, "integrity check passed", dbLibrary)
}

func TestSQLiteFaultCorruptPage(t *testing.T) {
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 3000})
	good := readFile(t, lib.library)
	cfg := testSQLiteConfig(lib)
	cfg.IntegrityInterval = 50 * time.Millisecond
	logs := &collectortest.LogBuffer{}
	c := newTestSQLiteCollector(t, cfg, logs)
	waitForScrape(t, c, 20*time.Second, func(r scrapeResult) bool { return r.Values[integrityKey(dbLibrary)] == 1 })

	// Overwrite one page in the middle of the file, in place, as a failing disk would.
	bad := append([]byte(nil), good...)
	page := len(bad) / 4096 / 2
	rand.Read(bad[page*4096 : (page+1)*4096])
	if err := os.WriteFile(lib.library, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	r := waitForScrape(t, c, 20*time.Second, func(r scrapeResult) bool {
		v, ok := r.Values[integrityKey(dbLibrary)]
		return ok && v == 0
	})
	if r.Values[upKey(dbLibrary)] != 1 {
		t.Errorf("db_up = %v; page 1 is intact, so the database still answers", r.Values[upKey(dbLibrary)])
	}
	for range 5 {
		scrapeFault(t, c, dbLibrary, 1)
	}
	if n := logLines(logs, "integrity check found corruption", dbLibrary); n != 1 {
		t.Errorf("corruption logged %d times, want once:\n%s", n, logs)
	}
	if err := os.WriteFile(lib.library, good, 0o644); err != nil {
		t.Fatal(err)
	}
	waitForScrape(t, c, 20*time.Second, func(r scrapeResult) bool { return r.Values[integrityKey(dbLibrary)] == 1 })
}

func TestSQLiteFaultReplacedBetweenScrapes(t *testing.T) {
	for _, keepOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep-open=%v", keepOpen), func(t *testing.T) {
			dir := t.TempDir()
			lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 100})
			other := filepath.Join(t.TempDir(), "3dmm.db")
			if err := appsim.CreateLibrary(other, appsim.LibraryOptions{Models: 250, Seed: 9}); err != nil {
				t.Fatal(err)
			}
			cfg := testSQLiteConfig(lib)
			cfg.KeepOpen = keepOpen
			c := newTestSQLiteCollector(t, cfg, nil)
			r := scrapeFault(t, c, dbLibrary, 1)
			if got := r.Values[`candy_cadence_db_rows{db="library",table="models"}`]; got != 100 {
				t.Fatalf("models rows = %v, want 100", got)
			}
			// The stats interval (a minute) has not passed: only the new identity makes the
			// collector read the new file's rows at once.
			replaceFile(t, lib.library, readFile(t, other))
			r = scrapeFault(t, c, dbLibrary, 1)
			if got := r.Values[`candy_cadence_db_rows{db="library",table="models"}`]; got != 250 {
				t.Fatalf("after the replacement models rows = %v, want 250", got)
			}
		})
	}
}

func TestSQLiteFaultExclusiveLock(t *testing.T) {
	hold := 30 * time.Second
	if testing.Short() {
		hold = 3 * time.Second
	}
	for _, db := range []string{dbLibrary, dbCache} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 50})
			path := map[string]string{dbLibrary: lib.library, dbCache: lib.cache}[db]
			logs := &collectortest.LogBuffer{}
			c := newTestSQLiteCollector(t, testSQLiteConfig(lib), logs)
			scrapeFault(t, c, db, 1)
			holder := startAppsim(t, "locked", "lock", "-db", path, "-hold", hold.String())
			end := time.Now().Add(hold - time.Second)
			for time.Now().Before(end) {
				scrapeFault(t, c, db, 0)
				time.Sleep(500 * time.Millisecond)
			}
			holder.wait(t)
			scrapeFault(t, c, db, 1)
			assertLoggedOnce(t, logs, "database cannot be read", db)
			assertLoggedOnce(t, logs, "database readable again", db)
		})
	}
}

func TestSQLiteFaultHugeWAL(t *testing.T) {
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 1000})
	writer := startAppsim(t, "ready", "write", "-library", lib.library, "-rate", "2000",
		"-wal-autocheckpoint", "0", "-busy-timeout", "0")
	const huge = 48 << 20
	for {
		fi, err := os.Stat(lib.library + "-wal")
		if err == nil && fi.Size() > huge {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	before := dirNames(t, filepath.Dir(lib.library))
	c := newTestSQLiteCollector(t, testSQLiteConfig(lib), nil)
	r := scrapeFault(t, c, dbLibrary, 1)
	if r.Values[`candy_cadence_db_wal_size_bytes{db="library"}`] < huge {
		t.Fatalf("WAL size %v, want more than %d", r.Values[`candy_cadence_db_wal_size_bytes{db="library"}`], huge)
	}
	models := r.Values[`candy_cadence_db_rows{db="library",table="models"}`]
	if models <= 1000 {
		t.Fatalf("models rows = %v: the rows in the WAL are not seen", models)
	}

	// Killed, the writer leaves its WAL and WAL index with nobody to vouch for the index: the
	// reader has to rebuild it privately from the whole WAL, without writing the -shm.
	writer.cmd.Process.Kill()
	writer.cmd.Wait()
	c2 := newTestSQLiteCollector(t, testSQLiteConfig(lib), nil)
	r = scrapeFault(t, c2, dbLibrary, 1)
	if got := r.Values[`candy_cadence_db_rows{db="library",table="models"}`]; got < models {
		t.Fatalf("after the writer died models rows = %v, want at least %v", got, models)
	}
	if after := dirNames(t, filepath.Dir(lib.library)); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("files changed: before %v, after %v", before, after)
	}
}
