package logs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/applog/logsim"
	"github.com/prometheus/common/promslog"
)

// BenchmarkLogsScrapeUnderLoad measures the logs collector's scrape (Update) while a writer
// pushes 50 MB/s of the application's JSON lines into the directory, rotating as the
// application does (here every 1,000 records, so files stay big enough to matter). It reports
// the scrape latency's p50 and p99 and the rates the writer and the tailer achieved.
//
//	go test ./collector -run XXX -bench LogsScrapeUnderLoad -benchtime 2000x
func BenchmarkLogsScrapeUnderLoad(b *testing.B) {
	const targetBytesPerSecond = 50 << 20
	dir := b.TempDir()
	c, err := New(Config{Globs: logGlobs([]string{dir}), PollInterval: time.Second, keepOpen: ptr(true), MaxUnknownErrorTypes: 50}, appdirs.Env{}, promslog.NewNopLogger())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	// Blocks of 10 records of one level, prepared once so that the writer spends its time writing.
	blocks := map[string][]byte{}
	for _, level := range logsim.Levels {
		var buf bytes.Buffer
		for i := range 10 {
			line, _ := logsim.Record(i, level, time.Now())
			buf.Write(line)
			buf.WriteByte('\n')
		}
		blocks[level] = buf.Bytes()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var written int64
	var wg sync.WaitGroup
	wg.Go(func() { written = pushLogs(ctx, dir, blocks, targetBytesPerSecond) })

	time.Sleep(500 * time.Millisecond) // let the load settle
	readBefore := c.tailer.Stats().BytesRead.Load()
	ch := make(chan prometheus.Metric, 4096)
	latencies := make([]time.Duration, 0, b.N)
	start := time.Now()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := c.Update(ctx, ch); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(t0))
		for len(ch) > 0 {
			<-ch
		}
		time.Sleep(time.Millisecond) // scrapes spread over the load, not back to back
	}
	b.StopTimer()
	elapsed := time.Since(start)
	readMB := float64(c.tailer.Stats().BytesRead.Load()-readBefore) / (1 << 20) / elapsed.Seconds()
	cancel()
	wg.Wait()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(written)/(1<<20)/(elapsed.Seconds()+0.5), "written-MB/s")
	b.ReportMetric(readMB, "read-MB/s")
}

// pushLogs writes blocks at the target rate until ctx is done, rotating on each change of
// level, and returns the bytes written.
func pushLogs(ctx context.Context, dir string, blocks map[string][]byte, rate int) int64 {
	w := logsim.New(dir, logsim.DefaultMaxBytes, logsim.DefaultKeep, nil)
	defer w.Close()
	var written int64
	start := time.Now()
	level, n := 0, 0
	for ctx.Err() == nil {
		target := int64(time.Since(start).Seconds() * float64(rate))
		for written < target {
			name := logsim.Levels[level]
			block := blocks[name]
			if _, err := w.Write(name, block[:len(block)-1]); err != nil {
				return written
			}
			written += int64(len(block))
			if n++; n%100 == 0 { // 1,000 records per level
				level = (level + 1) % len(logsim.Levels)
			}
		}
		time.Sleep(time.Millisecond)
	}
	return written
}

// BenchmarkLogsErrorTypeFlood feeds 10,000 distinct unknown error types through the whole
// pipeline and reports the heap and the process's resident memory afterwards: the bound on
// unknown types keeps both flat.
//
//	go test ./collector -run XXX -bench LogsErrorTypeFlood -benchtime 1x
func BenchmarkLogsErrorTypeFlood(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	for i := range 10000 {
		sb.WriteString(appJSON("ERROR", "x", `"exception_type": "Unlisted`+strconv.Itoa(i)+`Error"`))
	}
	if err := os.WriteFile(filepath.Join(dir, "errors.log"), []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		c, err := newCollector(Config{Globs: logGlobs([]string{dir}), FromStart: true, PollInterval: time.Second, keepOpen: ptr(true), MaxUnknownErrorTypes: 50}, nil)
		if err != nil {
			b.Fatal(err)
		}
		c.tailer.Poll()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
		b.ReportMetric(rssMiB(), "rss-MiB")
		ch := make(chan prometheus.Metric, 8192)
		c.counters.errorsVec.Collect(ch)
		b.ReportMetric(float64(len(ch)), "error-series")
		c.tailer.Close()
	}
}

// rssMiB reads the process's resident set size on Linux; elsewhere it reports 0.
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}
