// Package process is the process collector: the application's processes, matched by name,
// executable or command line, reported as one group (up, CPU, memory, threads, file
// descriptors, I/O, starts and exits).
package process

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

// Default patterns that find the application and nothing else: the Windows builds
// (3D-MM.exe, Digital Workshop.exe), anything named candy_cadence or candy-cadence, and
// Python running src/main.py or run.py from a Candy-Cadence / 3D-MM / Digital Workshop checkout.
const (
	DefaultNameRegex    = `(?i)^(3D-MM|Digital Workshop|candy[_-]cadence)(\.exe)?$`
	DefaultExeRegex     = `(?i)(^|[\\/])(3D-MM|Digital Workshop|candy[_-]cadence)(\.exe)?$`
	DefaultCmdlineRegex = `(?i)^(.*[\\/])?python[0-9.]*w?(\.exe)?\s.*[\\/]` +
		`(candy[_ -]?cadence|3d[_ -]?mm|digital[_ -]?workshop)[^\\/]*[\\/](src[\\/]main|run)\.py(\s|$)`
)

// Config selects the application's processes. The zero value selects them with
// DefaultPatterns.
type Config struct {
	// Match selects the processes; nil means DefaultPatterns.
	Match *Patterns
}

// Patterns select the application's processes: a process belongs to the application when any
// of the patterns matches; a nil pattern matches nothing.
type Patterns struct {
	Name    *regexp.Regexp // the process name (Linux: comm, 15 characters at most)
	Exe     *regexp.Regexp // the executable's full path
	Cmdline *regexp.Regexp // the command line, arguments joined by spaces, relative .py scripts made absolute
}

// DefaultPatterns are DefaultNameRegex, DefaultExeRegex and DefaultCmdlineRegex.
func DefaultPatterns() *Patterns {
	return &Patterns{
		Name:    regexp.MustCompile(DefaultNameRegex),
		Exe:     regexp.MustCompile(DefaultExeRegex),
		Cmdline: regexp.MustCompile(DefaultCmdlineRegex),
	}
}

// procRef is what a listing tells about a process, cheaply, for every process on the host.
type procRef struct {
	PID  int32
	Name string
	// Token tells two processes with the same PID apart: its start (Linux: start time in clock
	// ticks since boot; Windows: creation time in 100 ns units).
	Token uint64
}

// procIdentity is what matching needs beyond the name; read once per process.
type procIdentity struct {
	Exe     string
	Cmdline []string
	Cwd     string
}

// procStats are one process's figures; NaN marks a field that could not be read
// (another user's process, a protected process): it is left out, not reported as zero.
type procStats struct {
	CPUUser, CPUSystem    float64 // seconds
	RSS, VMS              float64 // bytes
	Threads, FDs          float64
	ReadBytes, WriteBytes float64
	StartTime             float64 // Unix seconds
}

func unknownStats() procStats {
	n := math.NaN()
	return procStats{n, n, n, n, n, n, n, n, n}
}

// processSource reads the host's processes; each platform has one, tests use a fake.
type processSource interface {
	List(ctx context.Context) ([]procRef, error)
	Identity(ctx context.Context, ref procRef) procIdentity
	Stats(ctx context.Context, ref procRef) procStats
}

// procKey names one process instance across scrapes: a PID and its start. The name is part
// of it because exec keeps the PID and start time but changes the program, as a launcher
// script does when it ends in `exec python src/main.py`.
type procKey struct {
	pid   int32
	token uint64
	name  string
}

func keyOf(ref procRef) procKey { return procKey{ref.PID, ref.Token, ref.Name} }

// procCounters are the last values seen of one process's counters, so that the group's
// counters can add deltas and stay monotonic when a process of the group exits.
type procCounters struct {
	cpuUser, cpuSystem, read, written float64
}

// Collector exports the application's processes as one group.
type Collector struct {
	match   Patterns
	src     processSource
	logger  *slog.Logger
	started time.Time // the exporter's start: processes older than it are not counted as starts

	mu sync.Mutex
	// matched caches the matching decision per process instance, so that only new
	// processes have their executable and command line read.
	matched map[procKey]bool
	// running holds the counters of the application's processes seen at the last scrape.
	running map[procKey]procCounters
	// Totals accumulated from deltas across every process of the group ever seen.
	cpuUser, cpuSystem, read, written float64
	starts, exits                     float64

	up, count, cpu, rss, vms, threads, fds, startTime, readBytes, writtenBytes, startsTotal, exitsTotal collector.TypedDesc
}

// New returns a collector for the processes cfg selects. It looks for no files, so env is
// unused; it is there so that every collector is built the same way.
func New(cfg Config, _ appdirs.Env, logger *slog.Logger) (*Collector, error) {
	return newCollector(cfg, newProcessSource(), time.Now(), logger), nil
}

func newCollector(cfg Config, src processSource, started time.Time, logger *slog.Logger) *Collector {
	match := cfg.Match
	if match == nil {
		match = DefaultPatterns()
	}
	return &Collector{
		match:   *match,
		src:     src,
		logger:  logger,
		started: started,
		matched: make(map[procKey]bool),
		running: make(map[procKey]procCounters),

		up:           collector.Gauge("up", "Whether the application is running (1) or not (0)."),
		count:        collector.Gauge("processes", "Number of running processes of the application."),
		cpu:          collector.Counter("process_cpu_seconds_total", "CPU time used by the application's processes, summed over every process seen since the exporter started.", "mode"),
		rss:          collector.Gauge("process_resident_memory_bytes", "Resident memory of the application's processes (Windows: working set)."),
		vms:          collector.Gauge("process_virtual_memory_bytes", "Virtual memory of the application's processes (Windows: private bytes)."),
		threads:      collector.Gauge("process_threads", "Threads of the application's processes."),
		fds:          collector.Gauge("process_open_fds", "Open file descriptors of the application's processes (Windows: handles)."),
		startTime:    collector.Gauge("process_start_time_seconds", "Start time of the application's oldest running process, in Unix seconds."),
		readBytes:    collector.Counter("process_read_bytes_total", "Bytes the application's processes read from storage, summed over every process seen since the exporter started."),
		writtenBytes: collector.Counter("process_written_bytes_total", "Bytes the application's processes wrote to storage, summed over every process seen since the exporter started."),
		startsTotal:  collector.Counter("app_starts_total", "Application processes seen starting since the exporter started."),
		exitsTotal:   collector.Counter("app_exits_total", "Application processes seen exiting since the exporter started."),
	}
}

// Update lists the host's processes, selects the application's and sends the group's metrics.
func (c *Collector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	refs, err := c.src.List(ctx)
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	matched := make(map[procKey]bool, len(refs))
	var group []procRef
	for _, ref := range refs {
		key := keyOf(ref)
		m, known := c.matched[key]
		if !known {
			if err := ctx.Err(); err != nil {
				return err
			}
			m = c.matches(ctx, ref)
		}
		matched[key] = m
		if m {
			group = append(group, ref)
		}
	}
	c.matched = matched

	agg := c.observe(ctx, group)

	send := func(d collector.TypedDesc, v float64, labels ...string) { ch <- d.Metric(v, labels...) }
	send(c.count, float64(len(group)))
	send(c.startsTotal, c.starts)
	send(c.exitsTotal, c.exits)
	if len(group) == 0 {
		send(c.up, 0)
		return nil
	}
	send(c.up, 1)
	if agg.hasCPU {
		send(c.cpu, c.cpuUser, "user")
		send(c.cpu, c.cpuSystem, "system")
	}
	if agg.hasIO {
		send(c.readBytes, c.read)
		send(c.writtenBytes, c.written)
	}
	for _, g := range []struct {
		d collector.TypedDesc
		v float64
	}{
		{c.rss, agg.RSS}, {c.vms, agg.VMS}, {c.threads, agg.Threads}, {c.fds, agg.FDs}, {c.startTime, agg.StartTime},
	} {
		if !math.IsNaN(g.v) {
			send(g.d, g.v)
		}
	}
	return nil
}

// groupStats sums the group's gauges; NaN where no process could be read.
type groupStats struct {
	procStats
	hasCPU, hasIO bool
}

// observe reads the group's figures, adds counter deltas to the totals and counts
// starts and exits against the previous scrape.
func (c *Collector) observe(ctx context.Context, group []procRef) groupStats {
	agg := groupStats{procStats: unknownStats()}
	running := make(map[procKey]procCounters, len(group))
	for _, ref := range group {
		s := c.src.Stats(ctx, ref)
		key := keyOf(ref)
		prev, seen := c.running[key]
		if !seen && (math.IsNaN(s.StartTime) || s.StartTime >= float64(c.started.UnixNano())/1e9) {
			c.starts++
		}
		cur := procCounters{cpuUser: s.CPUUser, cpuSystem: s.CPUSystem, read: s.ReadBytes, written: s.WriteBytes}
		if !math.IsNaN(cur.cpuUser) && !math.IsNaN(cur.cpuSystem) {
			c.cpuUser += delta(prev.cpuUser, cur.cpuUser)
			c.cpuSystem += delta(prev.cpuSystem, cur.cpuSystem)
			agg.hasCPU = true
		} else {
			cur.cpuUser, cur.cpuSystem = prev.cpuUser, prev.cpuSystem
		}
		if !math.IsNaN(cur.read) && !math.IsNaN(cur.written) {
			c.read += delta(prev.read, cur.read)
			c.written += delta(prev.written, cur.written)
			agg.hasIO = true
		} else {
			cur.read, cur.written = prev.read, prev.written
		}
		running[key] = cur
		agg.RSS = addKnown(agg.RSS, s.RSS)
		agg.VMS = addKnown(agg.VMS, s.VMS)
		agg.Threads = addKnown(agg.Threads, s.Threads)
		agg.FDs = addKnown(agg.FDs, s.FDs)
		if math.IsNaN(agg.StartTime) || s.StartTime < agg.StartTime {
			agg.StartTime = s.StartTime
		}
	}
	for key := range c.running {
		if _, ok := running[key]; !ok {
			c.exits++
		}
	}
	c.running = running
	return agg
}

// delta is how much a per-process counter grew since the last scrape; a process seen for
// the first time contributes all it has used so far.
func delta(prev, cur float64) float64 {
	return max(cur-prev, 0)
}

// addKnown adds v to sum, treating NaN as "not known" rather than poisoning the sum.
func addKnown(sum, v float64) float64 {
	switch {
	case math.IsNaN(v):
		return sum
	case math.IsNaN(sum):
		return v
	default:
		return sum + v
	}
}

// matches tries the cheap name first and reads the executable and command line only when needed.
func (c *Collector) matches(ctx context.Context, ref procRef) bool {
	if c.match.Name != nil && c.match.Name.MatchString(ref.Name) {
		return true
	}
	if c.match.Exe == nil && c.match.Cmdline == nil {
		return false
	}
	id := c.src.Identity(ctx, ref)
	if c.match.Exe != nil && id.Exe != "" && c.match.Exe.MatchString(id.Exe) {
		return true
	}
	return c.match.Cmdline != nil && len(id.Cmdline) > 0 && c.match.Cmdline.MatchString(resolvedCmdline(id))
}

// resolvedCmdline joins the arguments, making a relative Python script absolute against the
// process's working directory, so that `python src/main.py` run inside a checkout can be
// told apart from the same command in an unrelated project.
func resolvedCmdline(id procIdentity) string {
	args := make([]string, len(id.Cmdline))
	for i, a := range id.Cmdline {
		if i > 0 && id.Cwd != "" && isRelativeScript(a) {
			a = joinPath(id.Cwd, a)
		}
		args[i] = a
	}
	return strings.Join(args, " ")
}

// hasRelativeScript tells whether the working directory is needed to understand the command.
func hasRelativeScript(args []string) bool {
	for i, a := range args {
		if i > 0 && isRelativeScript(a) {
			return true
		}
	}
	return false
}

func isRelativeScript(arg string) bool {
	return strings.HasSuffix(strings.ToLower(arg), ".py") && !isAbs(arg)
}

// isAbs accepts both platforms' absolute forms, so Windows command lines are understood
// wherever the logic is tested.
func isAbs(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

func joinPath(dir, rel string) string {
	sep := "/"
	if strings.Contains(dir, `\`) {
		sep = `\`
	}
	return strings.TrimRight(dir, `/\`) + sep + rel
}
