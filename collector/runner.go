package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	durationDesc = Gauge("exporter_collector_duration_seconds",
		"How long a collector took in this scrape; a collector cut off at the deadline reports the time until the deadline.",
		"collector")
	successDesc = Gauge("exporter_collector_success",
		"Whether a collector finished without error before the scrape deadline (1) or not (0).",
		"collector")
)

// Runner runs the enabled collectors concurrently for each scrape, under one deadline.
type Runner struct {
	collectors []Named
	states     map[string]*collectorState
	logger     *slog.Logger
}

// collectorState survives between scrapes so that a hung collector is not started twice
// and a lasting failure is logged once, not once per scrape.
type collectorState struct {
	running  atomic.Bool
	mu       sync.Mutex
	failures FailureLog
}

// NewRunner returns a Runner for the given collectors, run in this order.
func NewRunner(collectors []Named, logger *slog.Logger) *Runner {
	r := &Runner{
		collectors: collectors,
		states:     make(map[string]*collectorState, len(collectors)),
		logger:     logger,
	}
	for _, c := range collectors {
		r.states[c.Name] = &collectorState{}
	}
	return r
}

// Scrape runs every collector once and waits for all of them or the deadline of ctx. Each
// collector's metrics are followed by its duration and success.
func (r *Runner) Scrape(ctx context.Context, ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, c := range r.collectors {
		wg.Go(func() { r.run(ctx, c, ch) })
	}
	wg.Wait()
}

// ForScrape binds one scrape's context to the runner, as an unchecked prometheus.Collector
// to register in that scrape's registry.
func (r *Runner) ForScrape(ctx context.Context) prometheus.Collector {
	return boundScrape{ctx: ctx, r: r}
}

type boundScrape struct {
	ctx context.Context
	r   *Runner
}

func (boundScrape) Describe(chan<- *prometheus.Desc) {}

func (s boundScrape) Collect(ch chan<- prometheus.Metric) { s.r.Scrape(s.ctx, ch) }

func (r *Runner) run(ctx context.Context, c Named, ch chan<- prometheus.Metric) {
	begin := time.Now()
	err := r.update(ctx, c, ch)
	ch <- durationDesc.Metric(time.Since(begin).Seconds(), c.Name)
	success := 1.0
	if err != nil {
		success = 0
	}
	ch <- successDesc.Metric(success, c.Name)
	r.logOutcome(c.Name, err, time.Since(begin))
}

var errStillRunning = errors.New("the previous scrape's update has not returned yet; skipped")

// update runs the collector in its own goroutine and forwards its metrics until it returns
// or the deadline passes. A collector past the deadline is abandoned: its remaining output is
// drained and dropped, and it is not started again until it returns.
func (r *Runner) update(ctx context.Context, c Named, ch chan<- prometheus.Metric) error {
	state := r.states[c.Name]
	if !state.running.CompareAndSwap(false, true) {
		return errStillRunning
	}
	out := make(chan prometheus.Metric, 64)
	done := make(chan error, 1)
	go func() {
		var err error
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
			// Not running any more before the scrape can see that it returned: a scrape right
			// behind this one must start it again, not skip it as still running.
			state.running.Store(false)
			done <- err
			close(out)
		}()
		err = c.Collector.Update(ctx, out)
	}()
	for {
		select {
		case m, ok := <-out:
			if !ok {
				return <-done
			}
			ch <- m
		case <-ctx.Done():
			go func() {
				for range out { //nolint:revive // drain so the abandoned collector can finish
				}
			}()
			return fmt.Errorf("cut off at the scrape deadline: %w", context.Cause(ctx))
		}
	}
}

// logOutcome logs a failure when it starts or changes and a recovery when it ends.
func (r *Runner) logOutcome(name string, err error, took time.Duration) {
	state := r.states[name]
	state.mu.Lock()
	defer state.mu.Unlock()
	state.failures.Update(r.logger, slog.LevelError, "collector failed", "collector recovered", err,
		"collector", name, "duration_seconds", took.Seconds())
}
