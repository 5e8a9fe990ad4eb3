package health

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// gauges is a stand-in collector that sends fixed series: name (without the namespace),
// value, then label pairs.
type gauges []series

type series struct {
	name   string
	value  float64
	labels []string
}

func (g gauges) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	for _, s := range g {
		var names, values []string
		for i := 0; i+1 < len(s.labels); i += 2 {
			names = append(names, s.labels[i])
			values = append(values, s.labels[i+1])
		}
		ch <- collector.Gauge(s.name, "test", names...).Metric(s.value, values...)
	}
	return nil
}

func g(name string, v float64, labels ...string) series { return series{name, v, labels} }

// cpuCounter sends host CPU time that advances by busy and idle seconds at every update, so
// that two gatherings see a known utilisation.
type cpuCounter struct{ busy, idle, n float64 }

func (c *cpuCounter) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	c.n++
	d := collector.Counter("host_cpu_seconds_total", "test", "mode")
	ch <- d.Metric(c.n*c.busy, "user")
	ch <- d.Metric(c.n*c.idle, "idle")
	return nil
}

var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.Local)

func newTestChecker(t *testing.T, paths Paths, cs ...collector.Named) *Checker {
	t.Helper()
	th, err := DefaultThresholds()
	if err != nil {
		t.Fatal(err)
	}
	runner := collector.NewRunner(cs, collectortest.Logger(&collectortest.LogBuffer{}))
	return NewChecker(Config{Runner: runner, Paths: paths, Thresholds: th, Version: "test",
		CPUSample: 10 * time.Millisecond, Now: func() time.Time { return now }})
}

func runCheck(t *testing.T, c *Checker) Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Run(ctx)
}

func checkOf(t *testing.T, r Report, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", name, r)
	return Check{}
}

func wantStatus(t *testing.T, c Check, want Status, mention string) {
	t.Helper()
	all := c.Finding + "\n" + strings.Join(c.Issues, "\n") + "\n" + strings.Join(c.Warnings, "\n") + "\n" + strings.Join(c.Recommendations, "\n")
	if c.Status != want {
		t.Errorf("%s: status %s, want %s:\n%s", c.Name, c.Status, want, all)
	}
	if mention != "" && !strings.Contains(all, mention) {
		t.Errorf("%s: the report does not mention %q:\n%s", c.Name, mention, all)
	}
}

func TestApplicationCheck(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name    string
		metrics gauges
		want    Status
		mention string
	}{
		{"running", gauges{g("up", 1), g("processes", 1), g("process_resident_memory_bytes", 400*mib),
			g("process_start_time_seconds", float64(now.Add(-time.Hour).Unix())),
			g("app_exits_total", 0, "reason", "closed"), g("app_exits_total", 0, "reason", "crashed")},
			StatusHealthy, "up for 1h0m0s"},
		{"closed", gauges{g("up", 0), g("processes", 0), g("app_exits_total", 1, "reason", "closed"), g("app_exits_total", 0, "reason", "crashed")},
			StatusWarning, "not running"},
		{"memory", gauges{g("up", 1), g("processes", 1), g("process_resident_memory_bytes", 2000*mib)},
			StatusWarning, "more than the 1500.0 MiB threshold"},
		{"crashed", gauges{g("up", 0), g("processes", 0), g("app_exits_total", 1, "reason", "crashed")},
			StatusCritical, "crashed once"},
		{"exits without reasons", gauges{g("up", 0), g("processes", 0), g("app_exits_total", 2)},
			StatusWarning, "cannot tell clean closes from crashes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCheck(t, newTestChecker(t, Paths{}, collector.Named{Name: "process", Collector: tc.metrics}))
			wantStatus(t, checkOf(t, r, CheckApplication), tc.want, tc.mention)
		})
	}
	r := runCheck(t, newTestChecker(t, Paths{}))
	wantStatus(t, checkOf(t, r, CheckApplication), StatusUnknown, "disabled")
}

func TestSystemCheck(t *testing.T) {
	const gib = 1 << 30
	host := func(busy float64, memAvail, fsAvail float64) []collector.Named {
		return []collector.Named{
			{Name: "host", Collector: gauges{g("host_memory_total_bytes", 16*gib), g("host_memory_available_bytes", memAvail),
				g("host_filesystem_size_bytes", 100*gib, "mountpoint", "/home"), g("host_filesystem_free_bytes", fsAvail, "mountpoint", "/home"),
				g("host_filesystem_avail_bytes", fsAvail, "mountpoint", "/home")}},
			{Name: "hostcpu", Collector: &cpuCounter{busy: busy, idle: 1 - busy}},
		}
	}
	cases := []struct {
		name    string
		cs      []collector.Named
		want    Status
		mention string
	}{
		{"healthy", host(0.2, 8*gib, 50*gib), StatusHealthy, "CPU 20%, memory 50%, disk /home 50% used"},
		{"kpi missed is a recommendation", host(0.2, 2.9*gib, 50*gib), StatusHealthy, "above the 80% target"},
		{"cpu", host(0.9, 8*gib, 50*gib), StatusWarning, "CPU is 90% busy (threshold 80%)"},
		{"memory", host(0.2, 1*gib, 50*gib), StatusWarning, "memory is 94% used (threshold 85%)"},
		{"disk", host(0.2, 8*gib, 5*gib), StatusWarning, "95% used (threshold 90%)"},
		{"disk full", host(0.2, 8*gib, 0), StatusCritical, "is full"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCheck(t, newTestChecker(t, Paths{}, tc.cs...))
			wantStatus(t, checkOf(t, r, CheckSystem), tc.want, tc.mention)
		})
	}
}

// The database check's outcomes that need a state the fixtures cannot make portably (a
// crashed quick_check, the sqlite collector's newer state set); the real files are in
// workstation_test.go.
func TestDatabaseCheckFromMetrics(t *testing.T) {
	lib := func(probe float64, backupAge time.Duration, extra ...series) gauges {
		return append(gauges{g("db_up", 1, "db", "library"), g("db_size_bytes", 1<<20, "db", "library"),
			g("db_pages", 256, "db", "library"), g("db_freelist_pages", 0, "db", "library"),
			g("db_query_duration_seconds", probe, "db", "library"), g("backups", 1),
			g("backup_last_timestamp_seconds", float64(now.Add(-backupAge).Unix()))}, extra...)
	}
	cases := []struct {
		name    string
		metrics gauges
		want    Status
		mention string
	}{
		{"healthy", lib(0.01, time.Hour, g("db_integrity_ok", 1, "db", "library")), StatusHealthy, "quick_check ok"},
		{"integrity failed", lib(0.01, time.Hour, g("db_integrity_ok", 0, "db", "library"), g("db_integrity_check_timestamp_seconds", float64(now.Add(-time.Minute).Unix()), "db", "library")),
			StatusCritical, "quick_check found corruption in the library 1m0s ago"},
		{"slow probe", lib(1.5, time.Hour), StatusWarning, "took 1.5 s (slow above 1 s)"},
		{"old backup", lib(0.01, 72*time.Hour), StatusWarning, "newest backup is 72h0m0s old"},
		{"state corrupt", gauges{g("db_up", 0, "db", "library"), g("db_size_bytes", 4096, "db", "library"),
			g("db_state", 1, "db", "library", "state", "corrupt"), g("db_state", 0, "db", "library", "state", "ok")},
			StatusCritical, "the library database is corrupt"},
		{"state locked", gauges{g("db_up", 0, "db", "library"), g("db_size_bytes", 4096, "db", "library"),
			g("db_state", 1, "db", "library", "state", "locked")},
			StatusWarning, "locked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCheck(t, newTestChecker(t, Paths{}, collector.Named{Name: "sqlite", Collector: tc.metrics}))
			wantStatus(t, checkOf(t, r, CheckDatabase), tc.want, tc.mention)
		})
	}
}

func TestOverallStatusAndExitCode(t *testing.T) {
	cases := []struct {
		checks []Status
		want   Status
		code   int
	}{
		{[]Status{StatusHealthy, StatusHealthy}, StatusHealthy, 0},
		{[]Status{StatusHealthy, StatusUnknown}, StatusWarning, 1},
		{[]Status{StatusWarning, StatusHealthy}, StatusWarning, 1},
		{[]Status{StatusWarning, StatusCritical, StatusUnknown}, StatusCritical, 2},
	}
	for _, tc := range cases {
		r := Report{}
		for i, s := range tc.checks {
			r.Checks = append(r.Checks, Check{Name: fmt.Sprint(i), Status: s})
		}
		r.finish()
		if r.Status != tc.want || r.Status.ExitCode() != tc.code {
			t.Errorf("checks %v: overall %s exit %d, want %s exit %d", tc.checks, r.Status, r.Status.ExitCode(), tc.want, tc.code)
		}
	}
}

// TestReportJSONShape fixes the documented JSON shape: a golden report from stand-in
// collectors. `go test ./internal/health -run TestReportJSONShape -update` rewrites it.
func TestReportJSONShape(t *testing.T) {
	const gib = 1 << 30
	c := newTestChecker(t, Paths{LibraryDB: "/nonexistent/3dmm.db", CacheDB: "/nonexistent/cache.db", DataDir: "/nonexistent"},
		collector.Named{Name: "process", Collector: gauges{g("up", 1), g("processes", 1), g("process_resident_memory_bytes", 1<<29),
			g("process_start_time_seconds", float64(now.Add(-2*time.Hour).Unix())), g("app_starts_total", 0),
			g("app_exits_total", 0, "reason", "closed"), g("app_exits_total", 0, "reason", "crashed")}},
		collector.Named{Name: "host", Collector: gauges{g("host_memory_total_bytes", 16*gib), g("host_memory_available_bytes", 8*gib),
			g("host_filesystem_size_bytes", 100*gib, "mountpoint", "/home"), g("host_filesystem_free_bytes", 50*gib, "mountpoint", "/home"),
			g("host_filesystem_avail_bytes", 50*gib, "mountpoint", "/home")}},
		collector.Named{Name: "hostcpu", Collector: &cpuCounter{busy: 0.25, idle: 0.75}},
		collector.Named{Name: "sqlite", Collector: gauges{g("db_up", 0, "db", "library"), g("db_up", 0, "db", "cache")}},
	)
	r := runCheck(t, c)
	r.DurationSeconds = 0
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		got  []byte
	}{{"report.json", buf.Bytes()}, {"report.txt", text.Bytes()}} {
		path := filepath.Join("testdata", f.name)
		if flag.Lookup("update").Value.String() == "true" { // collectortest declares -update
			if err := os.WriteFile(path, f.got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, f.got) {
			t.Errorf("%s differs from the golden file (rerun with -update if the change is intended):\n%s", f.name, f.got)
		}
	}
	// The documented top-level keys, whatever the golden file says.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"status", "time", "version", "duration_seconds", "checks", "issues", "warnings", "recommendations", "thresholds"} {
		if _, ok := top[k]; !ok {
			t.Errorf("the JSON report lacks %q", k)
		}
	}
}

func TestCachedReportIsMadeOncePerInterval(t *testing.T) {
	calls := 0
	counting := collector.Named{Name: "process", Collector: countingCollector(&calls)}
	c := NewCached(newTestChecker(t, Paths{}, counting), time.Hour, 5*time.Second)
	first, err := c.Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	made := calls
	for range 5 {
		if _, err := c.Report(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if calls != made || made == 0 {
		t.Errorf("the collectors ran %d times for the first report and %d in all after five more requests within the interval", made, calls)
	}
	second, _ := c.Report(context.Background())
	if !second.Time.Equal(first.Time) {
		t.Error("a cached report differs from the first")
	}
}

func countingCollector(n *int) collector.Collector {
	return funcCollector(func(_ context.Context, ch chan<- prometheus.Metric) error {
		*n++ // the runner never runs one collector twice at once
		ch <- collector.Gauge("up", "test").Metric(1)
		return nil
	})
}

type funcCollector func(ctx context.Context, ch chan<- prometheus.Metric) error

func (f funcCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	return f(ctx, ch)
}

// A collector skipped or failing for a moment (a concurrent scrape still running it) is
// gathered again rather than reported as not checked.
func TestFailedCollectorIsGatheredAgain(t *testing.T) {
	calls := 0
	flaky := funcCollector(func(_ context.Context, ch chan<- prometheus.Metric) error {
		calls++
		if calls <= 2 {
			return fmt.Errorf("busy")
		}
		ch <- collector.Gauge("up", "test").Metric(1)
		ch <- collector.Gauge("processes", "test").Metric(1)
		return nil
	})
	r := runCheck(t, newTestChecker(t, Paths{}, collector.Named{Name: "process", Collector: flaky}))
	wantStatus(t, checkOf(t, r, CheckApplication), StatusHealthy, "running (1 process(es))")
}
