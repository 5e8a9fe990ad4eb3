package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/sqlitero"
)

// Benchmarks of the sqlite collector; figures and commands are in docs/benchmarks.md.
//
// The libraries are built once (a million models take a few minutes) and kept under
// .build/bench, which git ignores, or under $CANDY_CADENCE_BENCH_DIR.

var benchSizes = []int{10_000, 100_000, 1_000_000}

func benchLibrary(b *testing.B, models int) testLibrary {
	requireFTS5(b)
	b.Helper()
	root := os.Getenv("CANDY_CADENCE_BENCH_DIR")
	if root == "" {
		root = filepath.Join("..", "..", ".build", "bench")
	}
	dir := filepath.Join(root, fmt.Sprintf("models-%d", models))
	lib := testLibrary{dir: dir, library: filepath.Join(dir, "data", "3dmm.db"), cache: filepath.Join(dir, "cache.db")}
	if _, err := os.Stat(lib.cache); err == nil {
		return lib
	}
	b.Logf("building a library of %d models in %s (once)", models, dir)
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := appsim.CreateLibrary(filepath.Join(tmp, "data", "3dmm.db"), appsim.LibraryOptions{Models: models, Searches: 100, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := appsim.CreateCache(filepath.Join(tmp, "cache.db"), appsim.CacheOptions{Entries: models / 10, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	return lib
}

// BenchmarkSQLiteScrape measures warm scrapes: stats cached, no refresh or check due.
func BenchmarkSQLiteScrape(b *testing.B) {
	for _, n := range benchSizes {
		for _, keepOpen := range []bool{false, true} {
			b.Run(fmt.Sprintf("models=%d/keep-open=%v", n, keepOpen), func(b *testing.B) {
				lib := benchLibrary(b, n)
				cfg := testSQLiteConfig(lib)
				cfg.StatsInterval = time.Hour
				cfg.IntegrityInterval = -1 // off
				cfg.KeepOpen = keepOpen
				c := newTestSQLiteCollector(b, cfg, nil)
				for range 5 { // warm: the first scrape waits for the first stats refresh
					if r := scrapeSQLite(b, c, time.Minute); r.Values[upKey(dbLibrary)] != 1 || !r.Has(`candy_cadence_db_rows{db="library",table="models"}`) {
						b.Fatalf("not warm: %v", r.Values)
					}
				}
				took := make([]time.Duration, 0, b.N)
				ctx := context.Background()
				for b.Loop() {
					begin := time.Now()
					ch := make(chan prometheus.Metric, 256)
					if err := c.Update(ctx, ch); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(begin))
				}
				reportPercentiles(b, took)
			})
		}
	}
}

func reportPercentiles(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	at := func(q float64) float64 {
		return float64(took[min(int(q*float64(len(took))), len(took)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkSQLiteStatsRefresh measures one background refresh of the library's row counts and
// per-format aggregates, the part of the collector whose cost grows with the library.
func BenchmarkSQLiteStatsRefresh(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("models=%d", n), func(b *testing.B) {
			lib := benchLibrary(b, n)
			c := newTestSQLiteCollector(b, testSQLiteConfig(lib), nil)
			db, err := sqlitero.Open(lib.library, sqlitero.Options{BusyTimeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for b.Loop() {
				st, err := c.libraryStats(context.Background(), db)
				if err != nil {
					b.Fatal(err)
				}
				if st.rows["models"] != int64(n) {
					b.Fatalf("models = %d", st.rows["models"])
				}
			}
		})
	}
}

// BenchmarkSQLiteIntegrityCheck measures PRAGMA quick_check, which runs in the background.
func BenchmarkSQLiteIntegrityCheck(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("models=%d", n), func(b *testing.B) {
			lib := benchLibrary(b, n)
			db, err := sqlitero.Open(lib.library, sqlitero.Options{BusyTimeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for b.Loop() {
				if ok, err := quickCheck(context.Background(), db); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkSQLiteRSS reports the resident memory of this process after scrapes, a stats
// refresh and an integrity check of a library of a million models (Linux only).
func BenchmarkSQLiteRSS(b *testing.B) {
	lib := benchLibrary(b, 1_000_000)
	cfg := testSQLiteConfig(lib)
	cfg.StatsInterval = time.Millisecond
	cfg.IntegrityInterval = time.Millisecond
	c := newTestSQLiteCollector(b, cfg, nil)
	waitForScrape(b, c, 5*time.Minute, func(r scrapeResult) bool { return r.Has(integrityKey(dbLibrary)) })
	for b.Loop() {
		scrapeSQLite(b, c, time.Minute)
	}
	c.Close()
	if rss, ok := vmRSS(); ok {
		b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
	}
}

// vmRSS is the process's peak resident set size (VmHWM) from /proc.
func vmRSS() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// BenchmarkSQLiteWriterLatency runs a writer process importing 100 models a second for 20 s,
// once alone and once while the collector is scraped back to back with refreshes and checks
// far more often than in production, and reports the writer's import latency percentiles.
// Run it with -benchtime=1x.
func BenchmarkSQLiteWriterLatency(b *testing.B) {
	for _, scraping := range []bool{false, true} {
		b.Run(fmt.Sprintf("exporter=%v", scraping), func(b *testing.B) {
			for b.Loop() {
				dir := b.TempDir()
				lib := newTestLibrary(b, dir, appsim.LibraryOptions{Models: 100_000, Seed: 1})
				writer := startAppsim(b, "ready", "write", "-library", lib.library, "-rate", "100", "-duration", "20s")
				scrapes := 0
				if scraping {
					cfg := testSQLiteConfig(lib)
					cfg.StatsInterval = time.Second
					cfg.IntegrityInterval = 5 * time.Second
					c := newTestSQLiteCollector(b, cfg, nil)
					end := time.Now().Add(20 * time.Second)
					for time.Now().Before(end) {
						scrapeSQLite(b, c, 2*time.Second)
						scrapes++
					}
				}
				rep := readReport(b, writer)
				if rep.Errors != 0 {
					b.Fatalf("writer errors: %+v", rep)
				}
				b.ReportMetric(float64(rep.P50)/1e6, "write-p50-ms")
				b.ReportMetric(float64(rep.P99)/1e6, "write-p99-ms")
				b.ReportMetric(float64(scrapes), "scrapes")
			}
		})
	}
}
