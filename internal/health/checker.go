package health

import (
	"context"
	"sync"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
)

// Config is what a Checker needs.
type Config struct {
	Runner     *collector.Runner // the enabled collectors, shared with the scrapes
	Paths      Paths
	Thresholds Thresholds
	Version    string
	// WaitForIntegrity: the library's first quick_check runs in the background; wait for it
	// (within the deadline) unless the integrity checks are off.
	WaitForIntegrity bool
	// LogReadLimit bounds the bytes read from the logs; zero means DefaultLogReadLimit.
	LogReadLimit int64
	// CPUSample is the time between the two samples of CPU time; zero means one second.
	CPUSample time.Duration
	Now       func() time.Time // nil means time.Now
}

// Checker makes health reports.
type Checker struct{ cfg Config }

// NewChecker returns a Checker for cfg.
func NewChecker(cfg Config) *Checker {
	if cfg.LogReadLimit == 0 {
		cfg.LogReadLimit = DefaultLogReadLimit
	}
	if cfg.CPUSample == 0 {
		cfg.CPUSample = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Checker{cfg: cfg}
}

// Run makes one report. It returns by ctx's deadline: gathering stops at three quarters of the
// time left, leaving the rest for the files; what was not measured by then is reported as not
// checked.
func (c *Checker) Run(ctx context.Context) Report {
	begin := time.Now()
	gatherCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		gatherCtx, cancel = context.WithDeadline(ctx, begin.Add(time.Until(deadline)*3/4))
		defer cancel()
	}
	first, last := c.gatherSettled(gatherCtx)

	files, _ := c.cfg.Paths.logFiles()
	hour := scanLogs(ctx, files, c.cfg.Now(), c.cfg.LogReadLimit, c.cfg.Thresholds)
	haveLogs := len(c.cfg.Paths.LogGlobs) > 0

	r := Report{
		Time:       c.cfg.Now().UTC().Truncate(time.Second),
		Version:    c.cfg.Version,
		Thresholds: c.cfg.Thresholds,
		Checks: []Check{
			checkApplication(last, c.cfg.Thresholds),
			checkDatabase(last, c.cfg.Thresholds),
			checkSystem(first, last, c.cfg.Thresholds),
			checkPermissions(c.cfg.Paths),
			checkConfiguration(c.cfg.Paths),
			checkLogs(hour, haveLogs, c.cfg.Thresholds),
			checkPerformance(hour, haveLogs, c.cfg.Thresholds),
		},
	}
	r.finish()
	r.DurationSeconds = time.Since(begin).Seconds()
	return r
}

// gatherSettled gathers the collectors, then again at least CPUSample later (for CPU
// utilisation), and on until the library's background probe and integrity check have reported
// or ctx ends.
func (c *Checker) gatherSettled(ctx context.Context) (first, last snapshot) {
	first = gather(ctx, c.cfg.Runner, c.cfg.Now())
	wait := c.cfg.CPUSample
	for attempt := 0; ; attempt++ {
		select {
		case <-ctx.Done():
			if last.families == nil {
				last = first
			}
			return first, last
		case <-time.After(wait):
		}
		last = gather(ctx, c.cfg.Runner, c.cfg.Now())
		if c.settled(last) && (attempt >= maxRetries || !anyFailed(last)) {
			return first, last
		}
		wait = 100 * time.Millisecond
	}
}

// maxRetries bounds the gatherings repeated because a collector failed: a collector still
// running for a concurrent scrape is skipped by the runner and shows as failed, which a moment
// later it no longer is; a collector that really fails must not hold the check to its deadline.
const maxRetries = 3

// anyFailed tells whether a collector reported failure in s.
func anyFailed(s snapshot) bool {
	for _, m := range s.metrics("exporter_collector_success") {
		if metricValue(m) != 1 {
			return true
		}
	}
	return false
}

// settled tells whether the library's measurements that run in the background are in.
func (c *Checker) settled(s snapshot) bool {
	if !s.collectorRan("sqlite") {
		return true
	}
	if up, _ := s.value("db_up", "db", "library"); up != 1 {
		return true // nothing more will come
	}
	if _, ok := s.value("db_query_duration_seconds", "db", "library"); !ok {
		return false
	}
	if _, ok := s.value("db_integrity_ok", "db", "library"); !ok && c.cfg.WaitForIntegrity {
		return false
	}
	return true
}

// Cached serves reports made at most once per interval, so that /health cannot be used to
// load the application's database; concurrent callers share the one being made.
type Cached struct {
	checker  *Checker
	interval time.Duration
	timeout  time.Duration

	mu      sync.Mutex
	last    *Report
	lastAt  time.Time
	running chan struct{} // closed when the report being made is ready
}

// NewCached returns a Cached that makes a new report when the last is older than interval,
// each under timeout.
func NewCached(checker *Checker, interval, timeout time.Duration) *Cached {
	return &Cached{checker: checker, interval: interval, timeout: timeout}
}

// Report returns a report no older than the interval, making one if needed. A caller that
// gives up (ctx) does not cancel the report for the others.
func (c *Cached) Report(ctx context.Context) (Report, error) {
	c.mu.Lock()
	if c.last != nil && time.Since(c.lastAt) < c.interval {
		r := *c.last
		c.mu.Unlock()
		return r, nil
	}
	if c.running == nil {
		c.running = make(chan struct{})
		go c.refresh(c.running)
	}
	running := c.running
	c.mu.Unlock()
	select {
	case <-running:
	case <-ctx.Done():
		return Report{}, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return *c.last, nil
}

func (c *Cached) refresh(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	r := c.checker.Run(ctx)
	c.mu.Lock()
	c.last, c.lastAt, c.running = &r, time.Now(), nil
	c.mu.Unlock()
	close(done)
}
