package collector

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ScrapeTimeoutHeader is the header in which Prometheus announces its scrape timeout.
const ScrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

var (
	scrapeDurationDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "exporter", "collector_duration_seconds"),
		"How long a collector took in this scrape; a collector cut off at the deadline reports the time until the deadline.",
		[]string{"collector"}, nil,
	)
	scrapeSuccessDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "exporter", "collector_success"),
		"Whether a collector finished without error before the scrape deadline (1) or not (0).",
		[]string{"collector"}, nil,
	)
)

// ExporterOptions tunes how scrapes run.
type ExporterOptions struct {
	// TimeoutOffset is taken off the timeout Prometheus announces, leaving time to encode and send.
	TimeoutOffset time.Duration
	// DefaultTimeout applies when a request carries no timeout header (a person with curl).
	DefaultTimeout time.Duration
	// MaxRequests caps concurrent scrapes; further ones get 503. Zero means no limit.
	MaxRequests int
}

// Exporter runs the enabled collectors concurrently for each scrape, under one deadline.
type Exporter struct {
	collectors []Named
	states     map[string]*collectorState
	static     prometheus.Gatherer
	logger     *slog.Logger
	opts       ExporterOptions
	inFlight   chan struct{}
	// gzipWriters keeps compressors between scrapes; a channel rather than a sync.Pool, which
	// a garbage collection empties.
	gzipWriters chan *gzip.Writer
}

// collectorState survives between scrapes so that a hung collector is not started twice
// and a lasting failure is logged once, not once per scrape.
type collectorState struct {
	running  atomic.Bool
	mu       sync.Mutex
	failures failureLog
}

// NewExporter returns an Exporter for the given collectors. static holds what does not depend
// on the scrape (build info, the exporter's own go_ and process_ metrics).
func NewExporter(collectors []Named, static prometheus.Gatherer, logger *slog.Logger, opts ExporterOptions) *Exporter {
	e := &Exporter{
		collectors: collectors,
		states:     make(map[string]*collectorState, len(collectors)),
		static:     static,
		logger:     logger,
		opts:       opts,
		// Two cover Prometheus servers in a high-availability pair scraping at once.
		gzipWriters: make(chan *gzip.Writer, 2),
	}
	for _, c := range collectors {
		e.states[c.Name] = &collectorState{}
	}
	if opts.MaxRequests > 0 {
		e.inFlight = make(chan struct{}, opts.MaxRequests)
	}
	return e
}

// ServeHTTP answers one scrape.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.inFlight != nil {
		select {
		case e.inFlight <- struct{}{}:
			defer func() { <-e.inFlight }()
		default:
			http.Error(w, fmt.Sprintf("too many concurrent scrapes (limit %d, see --web.max-requests)", cap(e.inFlight)), http.StatusServiceUnavailable)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), ScrapeTimeout(r.Header, e.opts.DefaultTimeout, e.opts.TimeoutOffset))
	defer cancel()

	reg := prometheus.NewRegistry()
	reg.MustRegister(scrape{ctx: ctx, e: e})
	gatherers := prometheus.Gatherers{e.static, reg}
	h := promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{
		ErrorLog:           slog.NewLogLogger(e.logger.Handler(), slog.LevelError),
		ErrorHandling:      promhttp.ContinueOnError,
		DisableCompression: true, // see serveGzip
	})
	if !acceptsGzip(r.Header) {
		h.ServeHTTP(w, r)
		return
	}
	e.serveGzip(h, w, r)
}

// serveGzip compresses the answer at gzip's fastest level with a writer kept between scrapes.
// The client library's own compression (default level, a new 800 KB compressor whenever its
// pool was emptied by a garbage collection) measured 0.9 ms of CPU and 1.2 MiB of RSS per
// scrape more than no compression; the fastest level is within 15% of its size here.
func (e *Exporter) serveGzip(h http.Handler, w http.ResponseWriter, r *http.Request) {
	var gz *gzip.Writer
	select {
	case gz = <-e.gzipWriters:
		gz.Reset(w)
	default:
		gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed) // the level is valid: no error
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Add("Vary", "Accept-Encoding")
	h.ServeHTTP(gzipResponse{ResponseWriter: w, gz: gz}, r)
	if err := gz.Close(); err != nil {
		e.logger.Debug("finishing compressed answer", "err", err)
	}
	gz.Reset(io.Discard) // drop the reference to the finished response
	select {
	case e.gzipWriters <- gz:
	default:
	}
}

// gzipResponse sends what is written to it through gz.
type gzipResponse struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (g gzipResponse) Write(p []byte) (int, error) { return g.gz.Write(p) }

// acceptsGzip tells whether the request accepts a gzip answer (and does not refuse it with q=0).
func acceptsGzip(h http.Header) bool {
	for _, value := range h.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(value, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
			if !ok {
				return true
			}
			weight, err := strconv.ParseFloat(q, 64)
			return err == nil && weight > 0
		}
	}
	return false
}

// ScrapeTimeout returns how long the collectors may run for a request: the announced timeout
// minus offset, but never less than half the announced timeout.
func ScrapeTimeout(h http.Header, fallback, offset time.Duration) time.Duration {
	v := h.Get(ScrapeTimeoutHeader)
	if v == "" {
		return fallback
	}
	seconds, err := strconv.ParseFloat(v, 64)
	if err != nil || seconds <= 0 {
		return fallback
	}
	announced := time.Duration(seconds * float64(time.Second))
	return max(announced-offset, announced/2)
}

// Collect runs every collector once and waits for all of them or the deadline.
func (e *Exporter) Collect(ctx context.Context, ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, c := range e.collectors {
		wg.Go(func() { e.run(ctx, c, ch) })
	}
	wg.Wait()
}

func (e *Exporter) run(ctx context.Context, c Named, ch chan<- prometheus.Metric) {
	begin := time.Now()
	err := e.update(ctx, c, ch)
	ch <- prometheus.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, time.Since(begin).Seconds(), c.Name)
	success := 1.0
	if err != nil {
		success = 0
	}
	ch <- prometheus.MustNewConstMetric(scrapeSuccessDesc, prometheus.GaugeValue, success, c.Name)
	e.logOutcome(c.Name, err, time.Since(begin))
}

var errStillRunning = errors.New("the previous scrape's update has not returned yet; skipped")

// update runs the collector in its own goroutine and forwards its metrics until it returns
// or the deadline passes. A collector past the deadline is abandoned: its remaining output is
// drained and dropped, and it is not started again until it returns.
func (e *Exporter) update(ctx context.Context, c Named, ch chan<- prometheus.Metric) error {
	state := e.states[c.Name]
	if !state.running.CompareAndSwap(false, true) {
		return errStillRunning
	}
	out := make(chan prometheus.Metric, 64)
	done := make(chan error, 1)
	go func() {
		defer state.running.Store(false)
		defer close(out)
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panic: %v", r)
			}
		}()
		done <- c.Collector.Update(ctx, out)
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
func (e *Exporter) logOutcome(name string, err error, took time.Duration) {
	state := e.states[name]
	state.mu.Lock()
	defer state.mu.Unlock()
	state.failures.update(e.logger, slog.LevelError, "collector failed", "collector recovered", err,
		"collector", name, "duration_seconds", took.Seconds())
}

// scrape binds one scrape's context to the Exporter, as an unchecked prometheus.Collector.
type scrape struct {
	ctx context.Context
	e   *Exporter
}

func (s scrape) Describe(chan<- *prometheus.Desc) {}

func (s scrape) Collect(ch chan<- prometheus.Metric) { s.e.Collect(s.ctx, ch) }
