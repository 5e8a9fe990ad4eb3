package scrapehttp

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/collector/host"
	"github.com/candy-cadence/candy_cadence_exporter/collector/process"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// reportLatencies adds p50 and p99 of the per-iteration durations to the benchmark's output.
func reportLatencies(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkScrapeProcessHost is one full scrape of the process and host collectors through
// the HTTP handler, gzip-encoded as Prometheus asks for it, with the application running.
//
//	go test ./internal/scrapehttp -run '^$' -bench ScrapeProcessHost -benchtime 10000x
func BenchmarkScrapeProcessHost(b *testing.B) {
	collectortest.StartStandInApp(b)
	// A desktop runs a few hundred processes; every one is listed on every scrape.
	for _, extra := range []int{0, 300} {
		b.Run(fmt.Sprintf("extra-processes=%d", extra), func(b *testing.B) {
			startIdleProcesses(b, extra)
			benchmarkScrapeProcessHost(b)
		})
	}
}

// startIdleProcesses runs n sleeping processes until the benchmark ends.
func startIdleProcesses(b *testing.B, n int) {
	for range n {
		cmd := exec.Command("sleep", "infinity")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
}

func benchmarkScrapeProcessHost(b *testing.B) {
	logger := promslog.NewNopLogger()
	env := appdirs.CurrentEnv(runtime.GOOS, b.TempDir())
	proc, err := process.New(process.Config{}, env, logger)
	if err != nil {
		b.Fatal(err)
	}
	hostCollector, err := host.New(host.Config{DataDir: b.TempDir()}, env, logger)
	if err != nil {
		b.Fatal(err)
	}
	runner := collector.NewRunner([]collector.Named{{Name: "process", Collector: proc}, {Name: "host", Collector: hostCollector}}, logger)
	e := NewHandler(runner, prometheus.NewRegistry(), logger, Options{DefaultTimeout: 10 * time.Second})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set(TimeoutHeader, "10")
	serve := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	// Warm: the first scrape reads every process's identity once.
	if rec := serve(); rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		begin := time.Now()
		serve()
		durations = append(durations, time.Since(begin))
	}
	b.StopTimer()
	reportLatencies(b, durations)
}
