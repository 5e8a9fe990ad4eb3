package logs

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/applog/logsim"
	"github.com/prometheus/common/promslog"
)

var (
	exactDuration = flag.Duration("logs.exactness.duration", 30*time.Second, "how long the exactness test writes")
	exactRate     = flag.Int("logs.exactness.rate", 1000, "records per second the exactness test writes")
	exactBatch    = flag.Int("logs.exactness.batch", 10, "records per level before the level changes")
)

// TestLogsExactness writes logs exactly as the application rotates them (a new file on every
// change of level, 10 MiB cap, the 5 newest kept, mode 'w' so a second rotation to the same
// name within one second destroys the first file) at 1,000 records per second with a change of
// level every 10 records, while the collector follows the directory.
//
// What exactness means here. With a change of level every 10 records there are 100 rotations
// a second, and the names have a resolution of one second, so the application itself keeps
// overwriting its own files: a record in a file reopened before anyone read it is gone for every
// reader. The writer therefore keeps a ledger: the file incarnation of every record, and the
// incarnations it overwrote or deleted. Every record carries its sequence number, so the test
// knows which records the collector read. It asserts that:
//   - no record was read twice, and nothing was read that was not written;
//   - every record the collector missed was in an incarnation the application destroyed by an
//     overwrite (or, when no handle is kept between reads, deleted): nothing still on disk or
//     drained through a kept handle was missed;
//   - every exported counter (messages by level, errors by type, the duration histogram's
//     buckets, count and sum, cache requests, model loads, performance alerts) equals the sum of
//     the ledger's expectations over the records read, exactly; and nothing is malformed.
//
// How many records were destroyed before the collector could read them is logged: that is the
// measured loss at this rate, a table in docs/benchmarks.md, not a pass; the loss must show in
// candy_cadence_log_lost_files_total. At the application's normal pace nothing is excused:
// internal/tailer's TestNormalRateExact requires every record, ten runs in a row (make
// exactness). Run with -logs.exactness.rate to find the rate where loss begins.
func TestLogsExactness(t *testing.T) {
	if testing.Short() {
		t.Skip("writes for 30 s")
	}
	t.Run("kept-handles", func(t *testing.T) { runExactness(t, true, *exactDuration) })
	t.Run("handle-per-read", func(t *testing.T) { runExactness(t, false, max(*exactDuration/6, 5*time.Second)) })
}

type ledgerEntry struct {
	gen int
	exp logsim.Expect
}

func runExactness(t *testing.T, keepOpen bool, duration time.Duration) {
	dir := t.TempDir()
	var (
		mu      sync.Mutex
		seen    = map[int]int{}
		foreign int
	)
	c, err := New(Config{
		Globs:                logGlobs([]string{dir}),
		PollInterval:         100 * time.Millisecond,
		keepOpen:             &keepOpen,
		MaxUnknownErrorTypes: 50,
		lineObserver: func(line []byte) {
			seq, ok := logsim.ParseSeq(line)
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				foreign++
				return
			}
			seen[seq]++
		},
	}, appdirs.Env{}, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	waitForFirstScan(t, c, dir)

	w := logsim.New(dir, logsim.DefaultMaxBytes, logsim.DefaultKeep, nil)
	ledger := writeAtRate(t, w, *exactRate, *exactBatch, duration)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * 100 * time.Millisecond) // a few polls: everything still on disk is found
	c.Close()                              // and kept handles are drained

	overwritten := setOf(w.Overwritten)
	deleted := setOf(w.Deleted)
	mu.Lock()
	defer mu.Unlock()
	if foreign != 0 {
		t.Errorf("%d lines read that the writer did not write", foreign)
	}
	want := newExpected()
	opened := map[int]bool{} // incarnations the collector read a record of: it had them open
	for seq, e := range ledger {
		if seen[seq] > 0 {
			opened[e.gen] = true
		}
	}
	lost, lostOverwritten := 0, 0
	lostFiles := map[int]bool{}
	for seq, e := range ledger {
		if n := seen[seq]; n > 0 {
			if n > 1 {
				t.Errorf("record %d read %d times", seq, n)
			}
			for range n { // the counters are compared with what was read, not lost
				want.add(e.exp)
			}
			continue
		}
		lost++
		lostFiles[e.gen] = true
		switch {
		case overwritten[e.gen]:
			lostOverwritten++
		case deleted[e.gen] && (!keepOpen || !opened[e.gen]):
			// Deleted without a handle kept, or before the collector could open it (a writer
			// burst on a loaded machine): a kept handle drains only what it had opened.
		default:
			t.Errorf("record %d missed, though its file (incarnation %d) was never overwritten", seq, e.gen)
		}
	}
	for seq := range seen {
		if seq < 0 || seq >= len(ledger) {
			t.Errorf("read record %d, which was never written", seq)
		}
	}
	want.compare(t, c.counters)
	s := c.tailer.Stats()
	t.Logf("wrote %d records into %d files in %v (%d overwritten by the application, %d deleted); read %d; lost %d (%.3f%%) from %d file incarnations, %d of them in overwritten files; rotations seen %d, in-place replacements seen %d; reported lost: %d files, %d bytes",
		len(ledger), len(w.Overwritten)+len(w.Deleted)+min(logsim.DefaultKeep, len(ledger)), duration, len(w.Overwritten), len(w.Deleted),
		len(ledger)-lost, lost, 100*float64(lost)/float64(len(ledger)), len(lostFiles), lostOverwritten, s.Rotations.Load(), s.Truncations.Load(),
		s.LostFiles.Load(), s.LostBytes.Load())
	if lost*2 > len(ledger) {
		t.Errorf("lost %d of %d records: the collector is not keeping up at all", lost, len(ledger))
	}
	// Loss must be visible: an operator tells complete counts from lower bounds by this counter.
	if lost > 0 && s.LostFiles.Load() == 0 {
		t.Errorf("%d records lost, but candy_cadence_log_lost_files_total stayed 0", lost)
	}
}

// waitForFirstScan makes sure the collector's first scan is over, so that every file the
// writer creates is new to it and read from its start.
func waitForFirstScan(t *testing.T, c *Collector, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "errors.log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.tailer.Stats().Files.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the collector did not find errors.log within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// writeAtRate writes rate records a second for d, changing the level every batch records, and
// returns the ledger indexed by sequence number.
func writeAtRate(t *testing.T, w *logsim.Writer, rate, batch int, d time.Duration) []ledgerEntry {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var ledger []ledgerEntry
	level := ""
	start := time.Now()
	for {
		elapsed := time.Since(start)
		if elapsed >= d {
			return ledger
		}
		target := int(elapsed.Seconds() * float64(rate))
		for seq := len(ledger); seq < target; seq++ {
			if seq%batch == 0 {
				next := level
				for next == level {
					next = logsim.Levels[rng.IntN(len(logsim.Levels))]
				}
				level = next
			}
			line, exp := logsim.Record(seq, level, time.Now())
			gen, err := w.Write(level, line)
			if err != nil {
				t.Fatal(err)
			}
			ledger = append(ledger, ledgerEntry{gen, exp})
		}
		time.Sleep(time.Millisecond)
	}
}

func setOf(xs []int) map[int]bool {
	m := make(map[int]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// expected sums the ledger's expectations over the records read.
type expected struct {
	levels     map[string]float64
	errorTypes map[string]float64
	ops        map[string][]float64
	cache      map[[2]string]float64
	models     map[string]float64
	perf       float64
}

func newExpected() *expected {
	return &expected{levels: map[string]float64{}, errorTypes: map[string]float64{}, ops: map[string][]float64{},
		cache: map[[2]string]float64{}, models: map[string]float64{}}
}

func (e *expected) add(x logsim.Expect) {
	e.levels[x.Level]++
	if x.ErrorType != "" {
		e.errorTypes[x.ErrorType]++
	}
	if x.Operation != "" {
		e.ops[x.Operation] = append(e.ops[x.Operation], x.Duration)
	}
	if x.CacheTier != "" {
		e.cache[[2]string{x.CacheTier, x.CacheResult}]++
	}
	if x.ModelSource != "" {
		e.models[x.ModelSource]++
	}
	if x.PerfAlert {
		e.perf++
	}
}

func (e *expected) compare(t *testing.T, c *logCounters) {
	t.Helper()
	check := func(what string, got, want float64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	for _, l := range []string{"debug", "info", "warning", "error", "critical", "other"} {
		check("messages{level="+l+"}", testutil.ToFloat64(c.messagesVec.WithLabelValues(l)), e.levels[l])
	}
	types := append([]string{errorTypeUnknown, errorTypeOther, "PluginCrashError"}, knownErrorTypes[:]...)
	var total, wantTotal float64
	for _, ty := range types {
		check("errors{type="+ty+"}", testutil.ToFloat64(c.errorsVec.WithLabelValues(ty)), e.errorTypes[ty])
		wantTotal += e.errorTypes[ty]
	}
	total = sumCounterVec(t, c.errorsVec)
	check("sum of errors", total, wantTotal)
	for _, op := range []string{"search", "window_init", "init", "parse", "cache_load", "thumbnail", "database", "other"} {
		var m dto.Metric
		if err := c.durationsVec.WithLabelValues(op).(prometheus.Metric).Write(&m); err != nil {
			t.Fatal(err)
		}
		h := m.GetHistogram()
		durs := e.ops[op]
		check("operation_duration_seconds_count{operation="+op+"}", float64(h.GetSampleCount()), float64(len(durs)))
		var sum float64
		for _, d := range durs {
			sum += d
		}
		if math.Abs(h.GetSampleSum()-sum) > 1e-9*math.Max(1, sum) {
			t.Errorf("operation_duration_seconds_sum{operation=%s} = %v, want %v", op, h.GetSampleSum(), sum)
		}
		for _, b := range h.GetBucket() {
			n := 0
			for _, d := range durs {
				if d <= b.GetUpperBound() {
					n++
				}
			}
			check("operation_duration_seconds_bucket{operation="+op+"}", float64(b.GetCumulativeCount()), float64(n))
		}
	}
	for _, k := range [][2]string{{"memory", "hit"}, {"disk", "hit"}, {"all", "miss"}, {"model", "hit"}} {
		check("cache_requests{tier="+k[0]+",result="+k[1]+"}", testutil.ToFloat64(c.cacheVec.WithLabelValues(k[0], k[1])), e.cache[k])
	}
	for _, s := range []string{"parse", "cache"} {
		check("models_loaded{source="+s+"}", testutil.ToFloat64(c.modelsVec.WithLabelValues(s)), e.models[s])
	}
	check("performance_alerts", testutil.ToFloat64(c.perfAlerts), e.perf)
	check("log_lines_malformed", testutil.ToFloat64(c.malformed), 0)
}

func sumCounterVec(t *testing.T, v *prometheus.CounterVec) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1024)
	go func() { v.Collect(ch); close(ch) }()
	var sum float64
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		sum += d.GetCounter().GetValue()
	}
	return sum
}
