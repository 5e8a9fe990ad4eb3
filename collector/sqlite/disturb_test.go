package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// TestSQLiteNeverDisturbsWriter scrapes a library 1,000 times while another process imports
// models into it at a steady rate, with the background refresh and integrity check running far
// more often than they would in production. The writer waits for no lock (busy timeout 0), so
// any lock the exporter held in its way would fail an import with SQLITE_BUSY. No file may
// appear beside the database that the writer did not create.
func TestSQLiteNeverDisturbsWriter(t *testing.T) {
	for _, keepOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep-open=%v", keepOpen), func(t *testing.T) {
			scrapes := 1000
			if testing.Short() {
				scrapes = 200
			}
			dir := t.TempDir()
			lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 2000})
			dataDir := filepath.Dir(lib.library)
			writer := startAppsim(t, "ready", "write", "-library", lib.library, "-rate", "200", "-busy-timeout", "0")
			allowed := []string{"3dmm.db", "3dmm.db-wal", "3dmm.db-shm"}
			stray := watchDir(t, dataDir, allowed)

			cfg := testSQLiteConfig(lib)
			cfg.StatsInterval = 20 * time.Millisecond
			cfg.IntegrityInterval = 100 * time.Millisecond
			cfg.KeepOpen = keepOpen
			logs := &collectortest.LogBuffer{}
			c := newTestSQLiteCollector(t, cfg, logs)
			last := 0.0
			for i := range scrapes {
				r := scrapeSQLite(t, c, 2*time.Second)
				if r.Values[upKey(dbLibrary)] != 1 {
					t.Fatalf("scrape %d: library down; log:\n%s", i, logs)
				}
				last = max(last, r.Values[`candy_cadence_db_rows{db="library",table="models"}`])
				time.Sleep(3 * time.Millisecond) // let imports interleave with the scrapes
			}
			c.Close()
			rep := writer.stopWriter(t)
			t.Logf("writer: %+v; models seen by the last refresh: %v", rep, last)
			if rep.Errors != 0 || rep.Busy != 0 {
				t.Fatalf("the writer failed %d imports (%d busy): %s", rep.Errors, rep.Busy, rep.FirstError)
			}
			if rep.Inserts < 10 || last <= 2000 {
				t.Fatalf("the test did not exercise anything: %d imports, %v models seen", rep.Inserts, last)
			}
			if strings.Contains(logs.String(), "level=WARN") || strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("reads failed while the writer wrote:\n%s", logs)
			}
			if names := stray(); len(names) > 0 {
				t.Fatalf("files appeared beside the database that the writer did not create: %v", names)
			}
		})
	}
}

// watchDir polls dir until the test ends and returns a function that lists every name seen
// that is not in allowed.
func watchDir(t *testing.T, dir string, allowed []string) func() []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var stray []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			entries, _ := os.ReadDir(dir)
			mu.Lock()
			for _, e := range entries {
				if !slices.Contains(allowed, e.Name()) && !slices.Contains(stray, e.Name()) {
					stray = append(stray, e.Name())
				}
			}
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(stray)
	}
}

// TestSQLiteLeavesClosedLibraryUntouched reads a library the application has closed (no -wal,
// no -shm): nothing may appear beside it and its bytes must not change.
func TestSQLiteLeavesClosedLibraryUntouched(t *testing.T) {
	dir := t.TempDir()
	lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 500})
	before := readFile(t, lib.library)
	cacheBefore := readFile(t, lib.cache)
	names := dirNames(t, filepath.Dir(lib.library))
	stray := watchDir(t, filepath.Dir(lib.library), names)
	cacheStray := watchDir(t, dir, dirNames(t, dir))
	cfg := testSQLiteConfig(lib)
	cfg.StatsInterval = 10 * time.Millisecond
	cfg.IntegrityInterval = 10 * time.Millisecond
	c := newTestSQLiteCollector(t, cfg, nil)
	for range 100 {
		if r := scrapeSQLite(t, c, 2*time.Second); r.Values[upKey(dbLibrary)] != 1 || r.Values[upKey(dbCache)] != 1 {
			t.Fatalf("down: %v", r.Values)
		}
	}
	// Closed before the files are read again: on Unix, closing any descriptor of a file drops
	// the locks this process holds on it.
	c.Close()
	if s := append(stray(), cacheStray()...); len(s) > 0 {
		t.Fatalf("files appeared: %v", s)
	}
	if !slices.Equal(before, readFile(t, lib.library)) || !slices.Equal(cacheBefore, readFile(t, lib.cache)) {
		t.Fatal("a database changed")
	}
}
