package process

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

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
	if *benchProcs > 0 {
		// Past the age under which a poll reads a known process again: a desktop's processes
		// are mostly old.
		time.Sleep(time.Duration(youngTicks/userHZ+1) * time.Second)
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
	cpu := processCPU()
	for b.Loop() {
		if err := c.poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(procs), "processes")
}

// BenchmarkFullListing is the listing a scrape makes: every process's stat file read.
func BenchmarkFullListing(b *testing.B) {
	src := newProcfsSource("/proc")
	ctx := context.Background()
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if _, err := src.List(ctx); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// processCPU is the CPU time the test process has used: on a shared, loaded machine the wall
// time per operation includes waiting for a core, the CPU time does not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start (the benchmark's own goroutine
// does the work; the runtime's background work is included and small).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

var benchProcs = flag.Int("benchprocs", 0, "idle processes to add to the host's for the benchmarks")
