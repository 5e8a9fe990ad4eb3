package tailer

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/applog/logsim"
)

var (
	exactRuns     = flag.Int("tailer.exact.runs", 1, "consecutive runs of the normal-rate exactness test")
	exactDuration = flag.Duration("tailer.exact.duration", 20*time.Second, "how long each exactness run writes")
	lagRate       = flag.Int("tailer.lag.rate", 100, "records per second BenchmarkLag writes")
	lagDuration   = flag.Duration("tailer.lag.duration", 20*time.Second, "how long BenchmarkLag writes")
)

// paceRun is what one run of the application's writer against a running tailer gave.
type paceRun struct {
	written     []logsim.Written
	seen        map[int]int       // reads of each sequence number
	readAt      map[int]time.Time // when each record reached the sink (first read)
	foreign     int               // lines without a sequence number
	overwritten int               // incarnations the application destroyed by reopening their name
	stats       statsSnapshot
	ring        *ringHandler
}

// ringSize is how many of the last events a run keeps for a failure's message.
const ringSize = 400

// ringHandler keeps the last ringSize log lines and notes, and passes them on to next.
type ringHandler struct {
	next  *slog.Logger
	mu    sync.Mutex
	lines []string
	// frozen is the ring as it was at the first report of lost data, followed by the next
	// ringAfter lines: what a failure needs to show.
	frozen []string
	after  int
}

// ringAfter is how many lines after the first loss report frozen keeps.
const ringAfter = 40

func newRingHandler(next *slog.Logger) *ringHandler { return &ringHandler{next: next} }

func (h *ringHandler) note(line string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.frozen == nil && strings.Contains(line, "log data lost"):
		h.frozen = append(slices.Clone(h.lines), line)
		h.after = ringAfter
	case h.after > 0:
		h.frozen = append(h.frozen, line)
		h.after--
	}
	if len(h.lines) == ringSize {
		h.lines = h.lines[1:]
	}
	h.lines = append(h.lines, line)
}

func (h *ringHandler) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.frozen != nil {
		return strings.Join(h.frozen, "\n")
	}
	return strings.Join(h.lines, "\n")
}

func (h *ringHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *ringHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Time.Format("15:04:05.000000") + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	h.note(b.String())
	if h.next != nil {
		return h.next.Handler().Handle(ctx, r)
	}
	return nil
}

func (h *ringHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *ringHandler) WithGroup(string) slog.Handler      { return h }

type statsSnapshot struct {
	rotations, truncations, lostBytes, lostFiles uint64
}

// runPace follows a directory with Run (file events on, the platform's handle strategy) while
// the application's writer logs into it at the given pace, then stops the tailer and returns
// what every record became.
func runPace(tb testing.TB, pace logsim.Pace, d time.Duration, seed uint64) *paceRun {
	tb.Helper()
	dir := tb.TempDir()
	res := &paceRun{seen: map[int]int{}, readAt: map[int]time.Time{}}
	// The tailer's debug lines and the writer's records, the last ringSize of them, to show
	// what led to a failure without slowing the tailer as a trace to stderr does.
	ring := newRingHandler(traceLogger(tb))
	res.ring = ring
	var mu sync.Mutex
	tl, err := New(Config{
		Globs:            []string{filepath.Join(dir, "Log - *.txt")},
		PollInterval:     time.Second,
		MaxLineBytes:     DefaultMaxLineBytes,
		KeepOpen:         DefaultKeepOpen,
		FileEvents:       true,
		TruncatingReopen: []string{"Log - *.txt"},
		Logger:           slog.New(ring),
		NewSink: func() FileSink {
			return seqSink(func(line []byte) {
				now := time.Now()
				seq, ok := logsim.ParseSeq(line)
				mu.Lock()
				defer mu.Unlock()
				if !ok {
					res.foreign++
					return
				}
				if res.seen[seq]++; res.seen[seq] == 1 {
					res.readAt[seq] = now
				}
			})
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	stop := runInBackground(tb, tl)

	w := logsim.New(dir, logsim.DefaultMaxBytes, logsim.DefaultKeep, nil)
	w.NamePrevious = true
	var written []logsim.Written
	trace := os.Getenv("TAILER_TRACE") != ""
	if err := pace.Run(w, d, seed, func(x logsim.Written) {
		written = append(written, x)
		ring.note(fmt.Sprintf("%s wrote %d gen %d %s", x.At.Format("15:04:05.000000"), x.Seq, x.Gen, x.Level))
		if trace {
			fmt.Fprintf(os.Stderr, "%s wrote %d gen %d %s\n", x.At.Format("15:04:05.000000"), x.Seq, x.Gen, x.Level)
		}
	}); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // a poll after the last write
	stop()
	s := tl.Stats()
	mu.Lock()
	defer mu.Unlock()
	res.written = written
	res.overwritten = len(w.Overwritten)
	res.stats = statsSnapshot{s.Rotations.Load(), s.Truncations.Load(), s.LostBytes.Load(), s.LostFiles.Load()}
	return res
}

// waitStarted waits until Run has done its first scan (Scans counts finished scans; Run
// watches the directory before it).
func waitStarted(tb testing.TB, tl *Tailer) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for tl.stats.Scans.Load() == 0 {
		if time.Now().After(deadline) {
			tb.Fatal("the tailer did not scan within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// traceLogger logs the tailer's debug lines to stderr with TAILER_TRACE set.
func traceLogger(testing.TB) *slog.Logger {
	if os.Getenv("TAILER_TRACE") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type seqSink func(line []byte)

func (s seqSink) Line(b []byte) { s(b) }
func (seqSink) Malformed()      {}
func (seqSink) Idle()           {}
func (seqSink) Close()          {}

// missed returns the records read other than exactly once.
func (r *paceRun) missed() (lost, twice []int) {
	for _, x := range r.written {
		switch n := r.seen[x.Seq]; {
		case n == 0:
			lost = append(lost, x.Seq)
		case n > 1:
			twice = append(twice, x.Seq)
		}
	}
	return lost, twice
}

// lags returns, sorted, the time from each record's write to its reaching the sink.
func (r *paceRun) lags() []time.Duration {
	var out []time.Duration
	for _, x := range r.written {
		if at, ok := r.readAt[x.Seq]; ok {
			out = append(out, max(0, at.Sub(x.At)))
		}
	}
	slices.Sort(out)
	return out
}

func (r *paceRun) summary() string {
	lost, twice := r.missed()
	return fmt.Sprintf("wrote %d records, %d incarnations overwritten by the application; lost %d %v, read twice %d %v, foreign %d; rotations %d, restarts %d, reported lost: %d files, %d bytes",
		len(r.written), r.overwritten, len(lost), lost[:min(len(lost), 10)], len(twice), twice[:min(len(twice), 10)], r.foreign,
		r.stats.rotations, r.stats.truncations, r.stats.lostFiles, r.stats.lostBytes)
}

// TestNormalRateExact is issue 15's bar: at the application's normal pace (100 records a
// second, about 7 changes of level a second, each a rotation, ERROR records between DEBUG runs
// so that files are reopened with mode 'w' within their second) every record is read exactly
// once, and the tailer reports no loss. No record is excused: each stayed on disk for at least
// the pause between two operations, which a reader that follows file events at once catches.
// make exactness runs it ten times in a row (-tailer.exact.runs=10).
func TestNormalRateExact(t *testing.T) {
	if testing.Short() {
		t.Skip("writes for 20 s per run")
	}
	for run := range *exactRuns {
		r := runPace(t, logsim.NormalPace(100), *exactDuration, uint64(run+1))
		t.Logf("run %d: %s", run+1, r.summary())
		lost, twice := r.missed()
		if len(lost) > 0 || len(twice) > 0 || r.foreign > 0 {
			t.Fatalf("run %d: %d records lost (first %v), %d read twice (first %v), %d foreign lines",
				run+1, len(lost), lost[:min(len(lost), 10)], len(twice), twice[:min(len(twice), 10)], r.foreign)
		}
		if r.stats.lostFiles != 0 || r.stats.lostBytes != 0 {
			t.Fatalf("run %d: nothing was lost, but the tailer reports %d files and %d bytes lost; the last events:\n%s", run+1, r.stats.lostFiles, r.stats.lostBytes, r.ring)
		}
		if r.overwritten == 0 {
			t.Fatalf("run %d: the writer never reopened a name within its second: the test does not test what it should", run+1)
		}
	}
}

// BenchmarkLag measures the time from a record's write returning to its line reaching the
// sink, at the application's normal pace scaled to -tailer.lag.rate records a second (see
// docs/benchmarks.md):
//
//	go test ./internal/tailer -run XXX -bench Lag -benchtime 1x -tailer.lag.rate 100
func BenchmarkLag(b *testing.B) {
	for range b.N {
		r := runPace(b, logsim.NormalPace(*lagRate), *lagDuration, 1)
		lags := r.lags()
		if len(lags) == 0 {
			b.Fatal("nothing read")
		}
		lost, twice := r.missed()
		b.ReportMetric(float64(lags[len(lags)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds()), "p99-µs")
		b.ReportMetric(float64(lags[len(lags)-1].Microseconds()), "max-µs")
		b.ReportMetric(float64(len(r.written)), "records")
		b.ReportMetric(float64(len(lost)), "lost")
		b.ReportMetric(float64(len(twice)), "twice")
		b.Log(r.summary())
	}
}
