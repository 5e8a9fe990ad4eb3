package collectortest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
)

var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

// Key renders a metric as name{label="value",...}, labels sorted, without braces when it has
// no labels. Labels named in ignore are left out (a temporary path that differs every run).
func Key(t testing.TB, m prometheus.Metric, ignore ...string) string {
	t.Helper()
	pb := write(t, m)
	name := fqNameRE.FindStringSubmatch(m.Desc().String())[1]
	var labels []string
	for _, l := range pb.GetLabel() {
		if !slices.Contains(ignore, l.GetName()) {
			labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
	}
	if len(labels) == 0 {
		return name
	}
	slices.Sort(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

// Value returns a gauge's, counter's or untyped metric's value, and a histogram's or
// summary's sample count.
func Value(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	pb := write(t, m)
	switch {
	case pb.Gauge != nil:
		return pb.GetGauge().GetValue()
	case pb.Counter != nil:
		return pb.GetCounter().GetValue()
	case pb.Untyped != nil:
		return pb.GetUntyped().GetValue()
	case pb.Histogram != nil:
		return float64(pb.GetHistogram().GetSampleCount())
	case pb.Summary != nil:
		return float64(pb.GetSummary().GetSampleCount())
	}
	t.Fatalf("metric of no known type: %v", m.Desc())
	return 0
}

func write(t testing.TB, m prometheus.Metric) *dto.Metric {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	return &pb
}

// Result is one Update's samples keyed by Key, how long it took and what it returned.
type Result struct {
	Values map[string]float64
	Took   time.Duration
	Err    error
}

// Has tells whether the scrape sent the sample key.
func (r Result) Has(key string) bool { _, ok := r.Values[key]; return ok }

// Scrape runs one Update under a deadline of timeout, as the runner does, reading its metrics
// as they come. Labels named in ignore are left out of the keys.
func Scrape(t testing.TB, c collector.Collector, timeout time.Duration, ignore ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch := make(chan prometheus.Metric)
	res := Result{Values: map[string]float64{}}
	done := make(chan error, 1)
	begin := time.Now()
	go func() { done <- c.Update(ctx, ch); close(ch) }()
	for m := range ch {
		res.Values[Key(t, m, ignore...)] = Value(t, m)
	}
	res.Err = <-done
	res.Took = time.Since(begin)
	return res
}

// Collect runs one Update without a deadline, fails the test on its error, and returns its
// samples keyed by Key.
func Collect(t testing.TB, c collector.Collector) map[string]float64 {
	t.Helper()
	r := Scrape(t, c, time.Hour)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return r.Values
}

// LogBuffer collects log lines for assertions on what is logged once; safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger logs at info level and above to w as text.
func Logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
