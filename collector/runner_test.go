package collector_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

type funcCollector func(ctx context.Context, ch chan<- prometheus.Metric) error

func (f funcCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	return f(ctx, ch)
}

var testValue = collector.Counter("test_events_total", "A test counter.")

// scrape runs one Runner.Scrape under timeout and returns its samples.
func scrape(t *testing.T, r *collector.Runner, timeout time.Duration) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch := make(chan prometheus.Metric)
	go func() { r.Scrape(ctx, ch); close(ch) }()
	out := map[string]float64{}
	for m := range ch {
		out[collectortest.Key(t, m)] = collectortest.Value(t, m)
	}
	return out
}

func TestRunnerIsolatesFailures(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var logs collectortest.LogBuffer
	r := collector.NewRunner([]collector.Named{
		{Name: "good", Collector: funcCollector(func(_ context.Context, ch chan<- prometheus.Metric) error {
			ch <- testValue.Metric(3)
			return nil
		})},
		{Name: "failing", Collector: funcCollector(func(context.Context, chan<- prometheus.Metric) error { return errors.New("source gone") })},
		{Name: "panicking", Collector: funcCollector(func(context.Context, chan<- prometheus.Metric) error { panic("boom") })},
		{Name: "hung", Collector: funcCollector(func(context.Context, chan<- prometheus.Metric) error { <-release; return nil })},
	}, collectortest.Logger(&logs))

	got := scrape(t, r, 200*time.Millisecond)
	want := map[string]float64{
		"candy_cadence_test_events_total":                                 3, // a counter read as a counter
		`candy_cadence_exporter_collector_success{collector="good"}`:      1,
		`candy_cadence_exporter_collector_success{collector="failing"}`:   0,
		`candy_cadence_exporter_collector_success{collector="panicking"}`: 0,
		`candy_cadence_exporter_collector_success{collector="hung"}`:      0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if d := got[`candy_cadence_exporter_collector_duration_seconds{collector="hung"}`]; d < 0.1 {
		t.Errorf("hung collector's duration %v, want about the 0.2 s deadline", d)
	}
	for _, msg := range []string{"source gone", "panic: boom", "scrape deadline"} {
		if strings.Count(logs.String(), msg) != 1 {
			t.Errorf("log should hold %q once:\n%s", msg, logs.String())
		}
	}

	// The hung collector has not returned: the next scrape skips it instead of starting it again.
	got = scrape(t, r, time.Minute)
	if got[`candy_cadence_exporter_collector_success{collector="hung"}`] != 0 {
		t.Error("a collector still running was reported successful")
	}
	if strings.Count(logs.String(), "source gone") != 1 {
		t.Errorf("a repeated failure was logged again:\n%s", logs.String())
	}
}

// A collector that has returned is started again by the very next scrape: the runner marks it
// as no longer running before the scrape that ran it can return (it once did so after, and a
// scrape right behind another could skip a collector that had finished).
func TestBackToBackScrapesRunEveryCollector(t *testing.T) {
	r := collector.NewRunner([]collector.Named{
		{Name: "good", Collector: funcCollector(func(_ context.Context, ch chan<- prometheus.Metric) error {
			ch <- testValue.Metric(1)
			return nil
		})},
		{Name: "panicking", Collector: funcCollector(func(context.Context, chan<- prometheus.Metric) error { panic("boom") })},
	}, collectortest.Logger(&collectortest.LogBuffer{}))
	for i := range 3000 {
		got := scrape(t, r, time.Minute)
		if _, ok := got["candy_cadence_test_events_total"]; !ok {
			t.Fatalf("scrape %d skipped the collector that had returned: %v", i, got)
		}
		if got[`candy_cadence_exporter_collector_success{collector="good"}`] != 1 {
			t.Fatalf("scrape %d: %v", i, got)
		}
	}
}
