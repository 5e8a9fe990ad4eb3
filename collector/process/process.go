// Package process is the process collector: the application's processes, matched by name,
// executable or command line, reported as one group (up, CPU, memory, threads, file
// descriptors, I/O, starts and exits). A cheap background listing sees starts and exits
// between scrapes; exits are classified as closed or crashed with the application's close
// records (internal/appclose) and, on Windows, its exit code.
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
	"github.com/candy-cadence/candy_cadence_exporter/internal/appclose"
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

// Defaults of the Config fields whose zero value means "the default".
const (
	DefaultPollInterval = time.Second
	// DefaultExitGrace is how long an exit waits for the application's close record before it
	// is classified: the logs collector reads a record within its poll interval (1 s by
	// default) of its writing, and the record may be written just before the exit is seen.
	DefaultExitGrace = 5 * time.Second
)

// Config selects the application's processes. The zero value selects the current user's
// processes with DefaultPatterns, polls every DefaultPollInterval and classifies no exit as
// clean or crashed (Closes is nil).
type Config struct {
	// Match selects the processes; nil means DefaultPatterns.
	Match *Patterns
	// PollInterval is how often a background listing looks for starts and exits between
	// scrapes; zero means DefaultPollInterval, negative turns the background listing off
	// (starts and exits are then seen at scrapes only).
	PollInterval time.Duration
	// AllUsers counts every user's processes; by default only those of the user the exporter
	// runs as (on a shared machine each user runs an exporter of their own).
	AllUsers bool
	// Closes holds the application's close records, fed by the logs collector; nil when the
	// logs are not followed, and exits are then "unknown" unless an exit code tells.
	Closes *appclose.Log
	// ExitGrace is how long an exit waits for a close record; zero means DefaultExitGrace.
	ExitGrace time.Duration
}

func (cfg Config) validate() error {
	if cfg.ExitGrace < 0 {
		return &collector.ConfigError{Field: "ExitGrace", Problem: "must be positive"}
	}
	return nil
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
	PPID int32 // the parent's PID, to tell the application's own child processes from new instances
	Name string
	// Token tells two processes with the same PID apart: its start (Linux: start time in clock
	// ticks since boot; Windows: creation time in 100 ns units). The exporter's own token, in
	// the same units, tells which processes started after it.
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
	// List reads every process afresh.
	List(ctx context.Context) ([]procRef, error)
	// Poll lists every process but reads only the PIDs not in known, whose references it
	// reuses: the cheap listing of the background poll. A PID reused by a new process between
	// two polls is caught by the next List.
	Poll(ctx context.Context, known map[int32]procRef) ([]procRef, error)
	Identity(ctx context.Context, ref procRef) procIdentity
	Stats(ctx context.Context, ref procRef) procStats
	// Owner names the user a process runs as (Linux: its effective uid; Windows: its token's
	// user SID); "" when it cannot be read.
	Owner(ctx context.Context, ref procRef) string
	// Self returns the exporter's own owner and start token.
	Self() (owner string, token uint64)
}

// exitCodeSource is a source that can read how a process ended (Windows: by holding a handle
// to it while it runs). The collector calls it under its lock only.
type exitCodeSource interface {
	// Watch starts holding what is needed to read the process's exit code later.
	Watch(ref procRef)
	// ExitCode returns the exit code of a watched process that has exited, and lets it go;
	// false when it is not known.
	ExitCode(ref procRef) (code uint32, ok bool)
	// Close lets every watched process go.
	Close()
}

// procKey names one process instance across listings: a PID and its start. The name is part
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

// maxInstancePIDs bounds the PIDs kept per instance for matching close records, whatever
// number of worker processes it starts over its life.
const maxInstancePIDs = 64

// member is one running process of the application.
type member struct {
	ref      procRef
	counters procCounters
	// instance is the application instance the process belongs to: itself when its parent is
	// no application process, else its top-most application ancestor. Starts and exits count
	// instances, so that a launcher and the program it runs, or the application's worker
	// processes, are one start and one exit.
	instance *member
	// For an instance: the earliest time a close record of it can carry, and the PIDs of its
	// processes (a close record may come from any of them).
	since time.Time
	pids  []int32
}

// Exit reasons, the values of the reason label.
const (
	reasonClosed  = iota // the application logged its clean close, or (logs silent) exit code 0
	reasonCrashed        // no close record although the logs are followed, or a non-zero exit code
	reasonUnknown        // neither the logs nor an exit code can tell
	numReasons
)

var reasonNames = [numReasons]string{"closed", "crashed", "unknown"}

// pendingExit is an exit that waits for its close record until Gone plus the grace period.
type pendingExit struct {
	exit     appclose.Exit
	code     uint32
	haveCode bool
}

// classify decides how an exit ended: the application's close record first, then, when the
// logs are followed, their silence; an exit code only where the logs cannot tell.
func classify(closeLogged, logsFollowed bool, code uint32, haveCode bool) int {
	switch {
	case closeLogged:
		return reasonClosed
	case logsFollowed:
		return reasonCrashed
	case haveCode && code == 0:
		return reasonClosed
	case haveCode:
		return reasonCrashed
	}
	return reasonUnknown
}

// Collector exports the application's processes as one group.
type Collector struct {
	match     Patterns
	allUsers  bool
	src       processSource
	exitCodes exitCodeSource // nil where exit codes cannot be read
	closes    *appclose.Log
	grace     time.Duration
	logger    *slog.Logger
	now       func() time.Time
	self      string // the exporter's owner; "" when unknown, and then every user's processes count
	selfToken uint64 // the exporter's own start token: processes of the first listing above it started after the exporter
	begun     time.Time

	mu sync.Mutex
	// listed is set once the first listing is done: processes of later listings that were
	// not there before are starts, whatever their start time says.
	listed      bool
	lastListing time.Time
	// known is the last listing by PID, for Poll.
	known map[int32]procRef
	// matched caches the matching decision per process instance, so that only new
	// processes have their executable, command line and owner read.
	matched, matchedSpare map[procKey]bool
	running               map[procKey]*member
	pending               []pendingExit
	// Totals accumulated from deltas across every process of the group ever seen.
	cpuUser, cpuSystem, read, written float64
	starts                            float64
	exits                             [numReasons]float64

	pollFailures collector.FailureLog // touched by the poll goroutine alone
	cancel       context.CancelFunc
	done         chan struct{}

	up, count, cpu, rss, vms, threads, fds, startTime, readBytes, writtenBytes, startsTotal, exitsTotal collector.TypedDesc
}

// New returns a collector for the processes cfg selects and starts its background poll. It
// looks for no files, so env is unused; it is there so that every collector is built the
// same way.
func New(cfg Config, _ appdirs.Env, logger *slog.Logger) (*Collector, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := newCollector(cfg, newProcessSource(), logger)
	interval := cfg.PollInterval
	if interval == 0 {
		interval = DefaultPollInterval
	}
	if interval > 0 {
		c.start(interval)
	}
	return c, nil
}

func newCollector(cfg Config, src processSource, logger *slog.Logger) *Collector {
	match := cfg.Match
	if match == nil {
		match = DefaultPatterns()
	}
	grace := cfg.ExitGrace
	if grace == 0 {
		grace = DefaultExitGrace
	}
	self, selfToken := src.Self()
	exitCodes, _ := src.(exitCodeSource)
	return &Collector{
		match:        *match,
		allUsers:     cfg.AllUsers,
		src:          src,
		exitCodes:    exitCodes,
		closes:       cfg.Closes,
		grace:        grace,
		logger:       logger,
		now:          time.Now,
		self:         self,
		selfToken:    selfToken,
		begun:        time.Now(),
		known:        make(map[int32]procRef),
		matched:      make(map[procKey]bool),
		matchedSpare: make(map[procKey]bool),
		running:      make(map[procKey]*member),

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
		startsTotal:  collector.Counter("app_starts_total", "Application instances seen starting since the exporter started (a process of the application whose parent is none of its processes), by a background listing between scrapes."),
		exitsTotal: collector.Counter("app_exits_total", "Application instances seen exiting since the exporter started, by how they ended: "+
			"closed when the application logged \"Application closing\" or \"Application closed\" for it, "+
			"crashed when it did not although its logs are followed, "+
			"unknown when the logs are not followed (Windows: the exit code decides then, 0 closed, else crashed). "+
			"An exit waits up to a grace period for its close record before it is counted.", "reason"),
	}
}

// start runs the background poll until Close.
func (c *Collector) start(interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			err := c.poll(ctx)
			if ctx.Err() != nil {
				return
			}
			c.pollFailures.Update(c.logger, slog.LevelWarn, "background process listing failed", "background process listing recovered", err)
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
}

// Close stops the background poll and lets go of what the source holds (Windows: the
// application's process handles).
func (c *Collector) Close() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exitCodes != nil {
		c.exitCodes.Close()
	}
}

// poll is one background listing: it notes starts and exits and classifies the exits whose
// grace period has passed; figures are read at scrapes only.
func (c *Collector) poll(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	refs, err := c.src.Poll(ctx, c.known)
	return c.apply(ctx, refs, err)
}

// apply takes one listing (or its error): it notes starts and exits and classifies the exits
// whose grace period has passed. Called with c.mu held.
func (c *Collector) apply(ctx context.Context, refs []procRef, listErr error) error {
	if listErr != nil {
		return fmt.Errorf("list processes: %w", listErr)
	}
	now := c.now()
	if err := c.refresh(ctx, refs, now); err != nil {
		return err
	}
	c.settle(now)
	return nil
}

// Update lists the host's processes, selects the application's and sends the group's metrics.
// The listing is done under the lock, so that a listing never applies after a newer one.
func (c *Collector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	refs, err := c.src.List(ctx)
	if err := c.apply(ctx, refs, err); err != nil {
		return err
	}
	agg, n := c.observe(ctx, refs)

	send := func(d collector.TypedDesc, v float64, labels ...string) { ch <- d.Metric(v, labels...) }
	send(c.count, float64(n))
	send(c.startsTotal, c.starts)
	for r, v := range c.exits {
		send(c.exitsTotal, v, reasonNames[r])
	}
	if n == 0 {
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

// refresh applies one listing: it matches new processes, counts the instances that started
// and notes those that exited. Called with c.mu held.
func (c *Collector) refresh(ctx context.Context, refs []procRef, now time.Time) error {
	matched := c.matchedSpare
	clear(matched)
	byPID := make(map[int32]procRef)
	var fresh []procRef
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
		if !m {
			continue
		}
		byPID[ref.PID] = ref
		if _, running := c.running[key]; !running {
			fresh = append(fresh, ref)
		}
	}
	c.matched, c.matchedSpare = matched, c.matched

	// A process that exec'd another program of the application keeps its PID and start:
	// the same instance under a new key, neither an exit nor a start.
	execd := make(map[procKey]bool)
	var ended []*member
	for key, m := range c.running {
		if matched[key] {
			continue
		}
		delete(c.running, key)
		if next, ok := byPID[m.ref.PID]; ok && next.Token == m.ref.Token {
			m.ref = next
			c.running[keyOf(next)] = m
			execd[keyOf(next)] = true
			continue
		}
		if m.instance == m {
			ended = append(ended, m)
		}
	}
	for _, m := range ended {
		c.instanceProcessEnded(m, now)
	}

	first := !c.listed
	since := c.lastListing // a process not in the last listing began after it
	if first {
		since = c.begun
	}
	// Instances first, so that a child found in the same listing as its parent joins it.
	var children []procRef
	for _, ref := range fresh {
		if execd[keyOf(ref)] {
			continue
		}
		if top := topAncestor(ref, byPID); top.PID != ref.PID {
			children = append(children, ref)
			continue
		}
		c.addInstance(ref, since, first)
	}
	for _, ref := range children {
		top, ok := c.running[keyOf(topAncestor(ref, byPID))]
		if !ok || top.instance == nil {
			c.addInstance(ref, since, first) // its ancestors were not taken in: count it alone
			continue
		}
		m := &member{ref: ref, instance: top.instance}
		if len(m.instance.pids) < maxInstancePIDs {
			m.instance.pids = append(m.instance.pids, ref.PID)
		}
		c.running[keyOf(ref)] = m
	}

	clear(c.known)
	for _, ref := range refs {
		c.known[ref.PID] = ref
	}
	c.listed = true
	c.lastListing = now
	return nil
}

// addInstance takes in a new instance of the application and counts its start, unless it is
// of the first listing and began before the exporter.
func (c *Collector) addInstance(ref procRef, since time.Time, first bool) {
	m := &member{ref: ref, since: since, pids: []int32{ref.PID}}
	m.instance = m
	c.running[keyOf(ref)] = m
	if c.exitCodes != nil {
		c.exitCodes.Watch(ref)
	}
	if !first || ref.Token > c.selfToken {
		c.starts++
	}
}

// instanceProcessEnded handles the end of an instance's top process: the instance goes on
// while any of its processes runs (a launcher that starts the application and returns), the
// oldest listed survivor taking its place; it has exited when none is left.
func (c *Collector) instanceProcessEnded(m *member, now time.Time) {
	var heir *member
	for _, o := range c.running {
		if o.instance == m && (heir == nil || o.ref.Token < heir.ref.Token || (o.ref.Token == heir.ref.Token && o.ref.PID < heir.ref.PID)) {
			heir = o
		}
	}
	if heir == nil {
		c.exitSeen(m, now)
		return
	}
	heir.instance, heir.since, heir.pids = heir, m.since, m.pids
	for _, o := range c.running {
		if o.instance == m {
			o.instance = heir
		}
	}
	if c.exitCodes != nil {
		c.exitCodes.ExitCode(m.ref) // let the launcher's handle go; the heir's exit code is the one that tells
		c.exitCodes.Watch(heir.ref)
	}
}

// topAncestor returns the top-most application process above ref (ref itself when its parent
// is none), following parent PIDs among the application's processes of this listing.
func topAncestor(ref procRef, byPID map[int32]procRef) procRef {
	for range 64 { // bounds a cycle of PIDs reused while the listing ran
		parent, ok := byPID[ref.PPID]
		if !ok || parent.PID == ref.PID {
			break
		}
		ref = parent
	}
	return ref
}

// exitSeen holds an instance's exit until its close record can have been read.
func (c *Collector) exitSeen(m *member, now time.Time) {
	p := pendingExit{exit: appclose.Exit{PIDs: m.pids, Since: m.since, LastSeen: c.lastListing, Gone: now}}
	if c.exitCodes != nil {
		p.code, p.haveCode = c.exitCodes.ExitCode(m.ref)
	}
	c.pending = append(c.pending, p)
}

// settle counts the exits that have their close record, and those whose grace period has
// passed, each once and for good.
func (c *Collector) settle(now time.Time) {
	if len(c.pending) == 0 {
		return
	}
	following := c.closes.Following()
	keep := c.pending[:0]
	for _, p := range c.pending {
		until := p.exit.Gone.Add(c.grace)
		closed := c.closes.Closed(p.exit, until)
		if !closed && now.Before(until) {
			keep = append(keep, p)
			continue
		}
		c.exits[classify(closed, following, p.code, p.haveCode)]++
	}
	clear(c.pending[len(keep):])
	c.pending = keep
}

// groupStats sums the group's gauges; NaN where no process could be read.
type groupStats struct {
	procStats
	hasCPU, hasIO bool
}

// observe reads the figures of the group's processes (in listing order, so that sums do not
// depend on map order) and adds counter deltas to the totals. It returns the group's size.
func (c *Collector) observe(ctx context.Context, refs []procRef) (groupStats, int) {
	agg := groupStats{procStats: unknownStats()}
	n := 0
	for _, ref := range refs {
		m, ok := c.running[keyOf(ref)]
		if !ok {
			continue
		}
		n++
		s := c.src.Stats(ctx, ref)
		prev := m.counters
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
		m.counters = cur
		agg.RSS = addKnown(agg.RSS, s.RSS)
		agg.VMS = addKnown(agg.VMS, s.VMS)
		agg.Threads = addKnown(agg.Threads, s.Threads)
		agg.FDs = addKnown(agg.FDs, s.FDs)
		if math.IsNaN(agg.StartTime) || s.StartTime < agg.StartTime {
			agg.StartTime = s.StartTime
		}
	}
	return agg, n
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

// matches reports whether a process belongs to the application and to the users counted.
func (c *Collector) matches(ctx context.Context, ref procRef) bool {
	if !c.matchesPatterns(ctx, ref) {
		return false
	}
	return c.allUsers || c.self == "" || c.src.Owner(ctx, ref) == c.self
}

// matchesPatterns tries the cheap name first and reads the executable and command line only
// when needed.
func (c *Collector) matchesPatterns(ctx context.Context, ref procRef) bool {
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
