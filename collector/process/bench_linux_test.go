package process

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"testing"

	"github.com/prometheus/common/promslog"
)

// BenchmarkBackgroundPoll is one background listing with the host's processes, after the
// first: the listing reads only new and young processes, and the matching decision of every
// other process is cached. -benchprocs adds idle processes (a desktop runs about 300).
func BenchmarkBackgroundPoll(b *testing.B) {
	for range *benchProcs {
		cmd := exec.Command("sleep", "infinity")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	c := newCollector(Config{}, newProcessSource(), promslog.NewNopLogger())
	ctx := context.Background()
	if err := c.poll(ctx); err != nil {
		b.Fatal(err)
	}
	entries, _ := os.ReadDir("/proc")
	procs := 0
	for _, e := range entries {
		if n := e.Name(); n[0] >= '0' && n[0] <= '9' {
			procs++
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(procs), "processes")
}

// BenchmarkFullListing is the listing a scrape makes: every process's stat file read.
func BenchmarkFullListing(b *testing.B) {
	src := newProcfsSource("/proc")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.List(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

var benchProcs = flag.Int("benchprocs", 0, "idle processes to add to the host's for the benchmarks")
