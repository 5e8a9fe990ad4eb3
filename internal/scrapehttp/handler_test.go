package scrapehttp

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// funcCollector turns a function into a Collector.
type funcCollector func(ctx context.Context, ch chan<- prometheus.Metric) error

func (f funcCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	return f(ctx, ch)
}

var testDesc = prometheus.NewDesc("candy_cadence_test_value", "A test value.", nil, nil)

func sends(v float64) funcCollector {
	return func(_ context.Context, ch chan<- prometheus.Metric) error {
		ch <- prometheus.MustNewConstMetric(testDesc, prometheus.GaugeValue, v)
		return nil
	}
}

// hangs blocks until released, ignoring its context, as a collector stuck on a hung
// filesystem would.
func hangs(release <-chan struct{}) funcCollector {
	return func(context.Context, chan<- prometheus.Metric) error {
		<-release
		return nil
	}
}

func newTestHandler(logs io.Writer, opts Options, cs ...collector.Named) *Handler {
	logger := collectortest.Logger(logs)
	return NewHandler(collector.NewRunner(cs, logger), prometheus.NewRegistry(), logger, opts)
}

func scrapeBody(t *testing.T, h http.Handler, header http.Header) (string, time.Duration) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	begin := time.Now()
	h.ServeHTTP(rec, req)
	took := time.Since(begin)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	return rec.Body.String(), took
}

func TestHandlerIsolatesFailingCollectors(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var logs collectortest.LogBuffer
	e := newTestHandler(&logs, Options{DefaultTimeout: 10 * time.Second, TimeoutOffset: 250 * time.Millisecond},
		collector.Named{Name: "good", Collector: sends(42)},
		collector.Named{Name: "failing", Collector: funcCollector(func(context.Context, chan<- prometheus.Metric) error { return errors.New("database is locked") })},
		collector.Named{Name: "panicking", Collector: funcCollector(func(context.Context, chan<- prometheus.Metric) error { panic("boom") })},
		collector.Named{Name: "hung", Collector: hangs(release)},
	)
	body, took := scrapeBody(t, e, http.Header{TimeoutHeader: {"1"}})
	// Deadline is 1 s minus the 250 ms offset; allow generous slack for a loaded CI machine,
	// but far less than the 10 s default that would apply if the header were ignored.
	if took < 700*time.Millisecond || took > 3*time.Second {
		t.Errorf("scrape took %v, want about 750ms (announced 1s minus 250ms offset)", took)
	}
	for _, want := range []string{
		"candy_cadence_test_value 42",
		`candy_cadence_exporter_collector_success{collector="good"} 1`,
		`candy_cadence_exporter_collector_success{collector="failing"} 0`,
		`candy_cadence_exporter_collector_success{collector="panicking"} 0`,
		`candy_cadence_exporter_collector_success{collector="hung"} 0`,
		`candy_cadence_exporter_collector_duration_seconds{collector="hung"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
	for _, want := range []string{"database is locked", "panic: boom", "scrape deadline"} {
		if strings.Count(logs.String(), want) != 1 {
			t.Errorf("log should hold %q once:\n%s", want, logs.String())
		}
	}

	// The hung collector is still running: the next scrape does not start it again, fails
	// it at once, and logs nothing new for the collectors that fail the same way.
	before := logs.String()
	body, took = scrapeBody(t, e, http.Header{TimeoutHeader: {"1"}})
	if !strings.Contains(body, `candy_cadence_exporter_collector_success{collector="hung"} 0`) {
		t.Errorf("second scrape: hung collector not failed:\n%s", body)
	}
	if took > 500*time.Millisecond {
		t.Errorf("second scrape took %v; a collector still running should be skipped at once", took)
	}
	after := strings.TrimPrefix(logs.String(), before)
	if strings.Contains(after, "database is locked") || strings.Contains(after, "panic") {
		t.Errorf("a repeated failure was logged again:\n%s", after)
	}
}

func TestHandlerLogsRecovery(t *testing.T) {
	var logs collectortest.LogBuffer
	fail := true
	e := newTestHandler(&logs, Options{DefaultTimeout: time.Second},
		collector.Named{Name: "flaky", Collector: funcCollector(func(context.Context, chan<- prometheus.Metric) error {
			if fail {
				return errors.New("source gone")
			}
			return nil
		})})
	scrapeBody(t, e, nil)
	fail = false
	body, _ := scrapeBody(t, e, nil)
	if !strings.Contains(body, `candy_cadence_exporter_collector_success{collector="flaky"} 1`) {
		t.Fatalf("no recovery in output:\n%s", body)
	}
	if !strings.Contains(logs.String(), "collector recovered") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
}

func TestHandlerMaxRequests(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	e := newTestHandler(io.Discard, Options{DefaultTimeout: 5 * time.Second, MaxRequests: 1},
		collector.Named{Name: "slow", Collector: funcCollector(func(ctx context.Context, _ chan<- prometheus.Metric) error {
			entered <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		})})
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	}()
	<-entered
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	close(release)
	<-done
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("second concurrent scrape got %d, want 503", rec.Code)
	}
}

func TestScrapeTimeout(t *testing.T) {
	const fallback, offset = 10 * time.Second, 250 * time.Millisecond
	cases := []struct {
		header string
		want   time.Duration
	}{
		{"", fallback},
		{"15", 15*time.Second - offset},
		{"0.4", 200 * time.Millisecond}, // the offset would leave less than half: keep half
		{"2.5", 2250 * time.Millisecond},
		{"junk", fallback},
		{"-3", fallback},
		{"0", fallback},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.header != "" {
			h.Set(TimeoutHeader, tc.header)
		}
		if got := ScrapeTimeout(h, fallback, offset); got != tc.want {
			t.Errorf("ScrapeTimeout(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestHandlerOutputLints(t *testing.T) {
	e := newTestHandler(io.Discard, Options{DefaultTimeout: time.Second}, collector.Named{Name: "good", Collector: sends(1)})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.runner.ForScrape(context.Background()))
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestHandlerCompressesWhenAsked(t *testing.T) {
	e := newTestHandler(io.Discard, Options{DefaultTimeout: time.Second}, collector.Named{Name: "good", Collector: sends(42)})
	for range 3 { // the compressor is reused between scrapes
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding = %q, want gzip", rec.Header().Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), "candy_cadence_test_value 42") {
			t.Fatalf("decompressed answer lacks the metric:\n%s", body)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	cases := map[string]bool{
		"":                    false,
		"gzip":                true,
		"deflate, gzip;q=1.0": true,
		"GZIP":                true,
		"gzip;q=0":            false,
		"gzip; q=0.000":       false,
		"br;q=1, gzip;q=0.5":  true,
		"identity":            false,
		"x-gzip-not-really":   false,
		"gzip;q=junk":         false,
	}
	for value, want := range cases {
		h := http.Header{}
		if value != "" {
			h.Set("Accept-Encoding", value)
		}
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", value, got, want)
		}
	}
}
