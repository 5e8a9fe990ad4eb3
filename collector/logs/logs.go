// Package logs is the logs collector: it follows the application's log files through their
// rotation and counts what they report (records by level, errors by type, operation durations,
// cache activity, model loads, performance alerts).
package logs

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/applog"
	"github.com/candy-cadence/candy_cadence_exporter/internal/tailer"
)

// Defaults of the Config fields whose zero value means "the default".
const (
	DefaultPollInterval         = time.Second
	DefaultMaxUnknownErrorTypes = 50
)

// Config configures the logs collector. The zero value follows the discovered log files from
// their end, polls every DefaultPollInterval and reacts to file events between polls.
type Config struct {
	// Globs are the log files to follow (filepath.Match patterns); empty means the
	// application's log files in its discovered log directories.
	Globs []string
	// FromStart reads the files that exist at start-up from their start, not their end.
	FromStart bool
	// PollInterval is how often the files are scanned besides file events; zero means
	// DefaultPollInterval.
	PollInterval time.Duration
	// NoFileEvents polls only, for file systems without events (some network shares).
	NoFileEvents bool
	// MaxUnknownErrorTypes bounds the error types outside the known set that get a series of
	// their own; later ones count as "other". Zero means DefaultMaxUnknownErrorTypes; negative
	// means none.
	MaxUnknownErrorTypes int
	// MaxFiles bounds the files followed at once (each holds a descriptor); zero means
	// tailer.DefaultMaxFiles.
	MaxFiles int

	// keepOpen, when set, replaces the platform's choice (tailer.DefaultKeepOpen) in tests.
	keepOpen *bool
	// lineObserver, when set, sees every line before it is parsed (the exactness test).
	lineObserver func(line []byte)
	// now is the tailer's clock; nil for time.Now.
	now func() time.Time
}

// validate rejects a negative poll interval, which the defaults cannot mend; the tailer checks
// the globs, and its own check of the interval then only guards its other callers.
func (cfg Config) validate() error {
	if cfg.PollInterval < 0 {
		return &collector.ConfigError{Field: "PollInterval", Problem: "must be positive"}
	}
	if cfg.MaxFiles < 0 {
		return &collector.ConfigError{Field: "MaxFiles", Problem: "must not be negative"}
	}
	return nil
}

// globs returns the configured globs, or those of the discovered log directories.
func (cfg Config) globs(env appdirs.Env) (globs []string, source string) {
	if len(cfg.Globs) > 0 {
		return cfg.Globs, "config"
	}
	return logGlobs(appdirs.LogDirs(appdirs.Layouts(env))), "discovered"
}

// logFilePatterns are the application's log files, relative to a log directory: the main
// JSON log (a new file on every rotation), the newer builds' standard rotated logs with their
// first backup (so that the end of a file renamed at rotation is still read), and the
// operations manual's error monitor log.
var logFilePatterns = [...]string{
	"Log - *.txt",
	"security.log", "security.log.1",
	"performance.log", "performance.log.1",
	"errors.log", "errors.log.1",
	"error_monitor.log",
}

// logGlobs returns the patterns of logFilePatterns in each directory, the directory's own
// pattern characters escaped.
func logGlobs(dirs []string) []string {
	escape := strings.NewReplacer("[", "[[]", "*", "[*]", "?", "[?]")
	var out []string
	for _, d := range dirs {
		for _, p := range logFilePatterns {
			out = append(out, filepath.Join(escape.Replace(d), p))
		}
	}
	return out
}

// knownErrorTypes are pre-initialised to zero so that a rule sees their first increment: the
// application's exception classes, the sqlite3 (DB-API) family, and Python's built-in exceptions.
var knownErrorTypes = [...]string{
	// The application's own.
	"CandyCadenceException", "ParsingException", "UnsupportedFormatError", "CorruptedFileError",
	"DatabaseException", "DatabaseConnectionError", "FileSystemException", "FileNotFoundException",
	"ValidationException", "MemoryException", "OutOfMemoryError", "ConfigurationException",
	"InvalidConfigurationException", "PerformanceException", "TimeoutException", "UIException",
	"WidgetException",
	// sqlite3: logged by class name only.
	"OperationalError", "IntegrityError", "DatabaseError", "ProgrammingError", "InternalError",
	"DataError", "NotSupportedError", "InterfaceError",
	// Python built-ins.
	"ArithmeticError", "AssertionError", "AttributeError", "BlockingIOError", "BrokenPipeError",
	"BufferError", "ChildProcessError", "ConnectionAbortedError", "ConnectionError",
	"ConnectionRefusedError", "ConnectionResetError", "EOFError", "Exception", "FileExistsError",
	"FileNotFoundError", "FloatingPointError", "ImportError", "IndentationError", "IndexError",
	"InterruptedError", "IsADirectoryError", "KeyError", "KeyboardInterrupt", "LookupError",
	"MemoryError", "ModuleNotFoundError", "NameError", "NotADirectoryError", "NotImplementedError",
	"OSError", "OverflowError", "PermissionError", "ProcessLookupError", "RecursionError",
	"ReferenceError", "RuntimeError", "StopIteration", "SyntaxError", "SystemError", "SystemExit",
	"TabError", "TimeoutError", "TypeError", "UnboundLocalError", "UnicodeDecodeError",
	"UnicodeEncodeError", "UnicodeError", "ValueError", "ZeroDivisionError",
}

const (
	errorTypeUnknown = "unknown" // an ERROR or CRITICAL record that names no type
	errorTypeOther   = "other"   // past the bound of unknown types, or a name that is no class name
)

// operationDurationBuckets include the manual's SLO bounds (mean under 2 s, 95% under 5 s).
func operationDurationBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60}
}

var (
	logFilesDesc     = collector.Gauge("log_files", "Log files followed now.")
	logReadBytesDesc = collector.Counter("log_read_bytes_total", "Bytes read from the log files.")
	logRotationsDesc = collector.Counter("log_rotations_total",
		"Log files that began after the exporter started: a new file per rotation, or a new file at a renamed file's name.")
	logTruncationsDesc = collector.Counter("log_truncations_total",
		"Log files whose content was replaced in place (copytruncate, or the application reopening the same name with mode 'w' within one second) and which were read again from the start.")
	logLostBytesDesc = collector.Counter("log_lost_bytes_total",
		"Bytes seen in a log file that was replaced or removed before they were read. A lower bound of what was lost: see candy_cadence_log_lost_files_total.")
	logLostFilesDesc = collector.Counter("log_lost_files_total",
		"Log files, or in-place incarnations of one, known to have held data that was never read: replaced or removed with writes unread, or gone before they could be opened. While it does not grow, the log counts are complete; when it grows, they are a lower bound.")
	logFilesUnreadableDesc = collector.Gauge("log_files_unreadable",
		"Log files that match the patterns but could not be opened at the last scan; their lines are not counted.")
	logDirsUnreadableDesc = collector.Gauge("log_directories_unreadable",
		"Log directories that exist but could not be listed at the last scan; files already followed are kept and read.")
	logFilesOverLimitDesc = collector.Gauge("log_files_over_limit",
		"Log files that match the patterns but are not followed because --collector.logs.max-files are.")
)

// Collector counts what the application's logs report. A goroutine follows the files and
// updates the counters as lines arrive; a scrape only reads the counters, so its cost does not
// depend on how much was logged since the last one.
type Collector struct {
	counters *logCounters
	tailer   *tailer.Tailer
	cancel   context.CancelFunc
	done     chan struct{}
}

// New starts following the files of cfg; env is where the log directories are discovered
// when cfg names no files.
func New(cfg Config, env appdirs.Env, logger *slog.Logger) (*Collector, error) {
	globs, source := cfg.globs(env)
	cfg.Globs = globs
	c, err := newCollector(cfg, logger)
	if err != nil {
		return nil, err
	}
	logger.Info("following log files", "patterns", globs, "source", source, "from_start", cfg.FromStart)
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		c.tailer.Run(ctx)
	}()
	return c, nil
}

// newCollector builds the collector for cfg.Globs without starting its goroutine: tests drive
// the tailer with Poll.
func newCollector(cfg Config, logger *slog.Logger) (*Collector, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	maxUnknown := cfg.MaxUnknownErrorTypes
	switch {
	case maxUnknown == 0:
		maxUnknown = DefaultMaxUnknownErrorTypes
	case maxUnknown < 0:
		maxUnknown = 0
	}
	keepOpen := tailer.DefaultKeepOpen
	if cfg.keepOpen != nil {
		keepOpen = *cfg.keepOpen
	}
	counters := newLogCounters(maxUnknown)
	t, err := tailer.New(tailer.Config{
		Globs:        cfg.Globs,
		FromStart:    cfg.FromStart,
		PollInterval: cfg.PollInterval,
		MaxLineBytes: tailer.DefaultMaxLineBytes,
		KeepOpen:     keepOpen,
		FileEvents:   !cfg.NoFileEvents,
		MaxFiles:     cfg.MaxFiles,
		// The application opens its main log files only with mode 'w': a reopen is new content.
		TruncatingReopen: logFilePatterns[:1],
		Logger:           logger,
		Now:              cfg.now,
		NewSink: func() tailer.FileSink {
			return &logFileSink{counters: counters, observe: cfg.lineObserver}
		},
	})
	if err != nil {
		return nil, &collector.ConfigError{Field: "Globs", Problem: err.Error()}
	}
	return &Collector{counters: counters, tailer: t}, nil
}

// Close stops following the files.
func (c *Collector) Close() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}

// Update sends the counters.
func (c *Collector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	c.counters.collect(ch)
	s := c.tailer.Stats()
	ch <- logFilesDesc.Metric(float64(s.Files.Load()))
	ch <- logReadBytesDesc.Metric(float64(s.BytesRead.Load()))
	ch <- logRotationsDesc.Metric(float64(s.Rotations.Load()))
	ch <- logTruncationsDesc.Metric(float64(s.Truncations.Load()))
	ch <- logLostBytesDesc.Metric(float64(s.LostBytes.Load()))
	ch <- logLostFilesDesc.Metric(float64(s.LostFiles.Load()))
	ch <- logFilesUnreadableDesc.Metric(float64(s.Unreadable.Load()))
	ch <- logDirsUnreadableDesc.Metric(float64(s.UnlistedDirs.Load()))
	ch <- logFilesOverLimitDesc.Metric(float64(s.OverLimit.Load()))
	return nil
}

// logFileSink parses the lines of one file.
type logFileSink struct {
	counters *logCounters
	stream   applog.Stream
	observe  func([]byte)
}

func (s *logFileSink) Line(line []byte) {
	if s.observe != nil {
		s.observe(line)
	}
	s.stream.Line(line, s.counters)
}

func (s *logFileSink) Malformed() { s.counters.Malformed() }
func (s *logFileSink) Idle()      { s.stream.Flush(s.counters) }
func (s *logFileSink) Close()     { s.stream.Flush(s.counters) }

// logCounters are the collector's metrics. Only the tailer's goroutine writes them (the
// client library's counters and histograms are safe to collect meanwhile); the error type
// map is touched by that goroutine alone.
type logCounters struct {
	messagesVec  *prometheus.CounterVec
	errorsVec    *prometheus.CounterVec
	durationsVec *prometheus.HistogramVec
	cacheVec     *prometheus.CounterVec
	modelsVec    *prometheus.CounterVec
	perfAlerts   prometheus.Counter
	malformed    prometheus.Counter

	messages  [applog.NumLevels]prometheus.Counter
	durations [applog.NumOperations]prometheus.Observer
	cache     [applog.NumCacheEvents]prometheus.Counter
	models    [applog.NumModelLoads]prometheus.Counter

	errorTypes   map[string]prometheus.Counter
	unknownTypes int
	maxUnknown   int
	unknown      prometheus.Counter
	other        prometheus.Counter
}

func newLogCounters(maxUnknown int) *logCounters {
	c := &logCounters{
		messagesVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: collector.Namespace, Subsystem: "log", Name: "messages_total",
			Help: "Log records by level (debug, info, warning, error, critical, other).",
		}, []string{"level"}),
		errorsVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: collector.Namespace, Name: "errors_total",
			Help: "ERROR and CRITICAL log records by exception class name; \"unknown\" when a record names none, \"other\" past the bound of unlisted types.",
		}, []string{"type"}),
		durationsVec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: collector.Namespace, Name: "operation_duration_seconds",
			Help:    "Durations the application logs for its operations (search, window_init, init, parse, cache_load, thumbnail, database, other).",
			Buckets: operationDurationBuckets(),
		}, []string{"operation"}),
		cacheVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: collector.Namespace, Name: "cache_requests_total",
			Help: "Cache lookups the application logs: tier memory or disk for hits, all for a miss of every tier, model for a model load served from the cache.",
		}, []string{"tier", "result"}),
		modelsVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: collector.Namespace, Name: "models_loaded_total",
			Help: "Models the application loaded, by source: parse (a file parsed) or cache.",
		}, []string{"source"}),
		perfAlerts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: collector.Namespace, Name: "performance_alerts_total",
			Help: "PERFORMANCE ALERT records the application logged.",
		}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: collector.Namespace, Subsystem: "log", Name: "lines_malformed_total",
			Help: "Log lines that could not be parsed, were longer than the limit, or were cut off by the end or replacement of their file.",
		}),
		errorTypes: make(map[string]prometheus.Counter, len(knownErrorTypes)+2),
		maxUnknown: maxUnknown,
	}
	for l := range applog.NumLevels {
		c.messages[l] = c.messagesVec.WithLabelValues(l.String())
	}
	for op := applog.OpNone + 1; op < applog.NumOperations; op++ {
		c.durations[op] = c.durationsVec.WithLabelValues(op.String())
	}
	for ev := applog.CacheNone + 1; ev < applog.NumCacheEvents; ev++ {
		c.cache[ev] = c.cacheVec.WithLabelValues(ev.Tier(), ev.Result())
	}
	for m := applog.ModelLoadNone + 1; m < applog.NumModelLoads; m++ {
		c.models[m] = c.modelsVec.WithLabelValues(m.String())
	}
	for _, t := range knownErrorTypes {
		c.errorTypes[t] = c.errorsVec.WithLabelValues(t)
	}
	c.unknown = c.errorsVec.WithLabelValues(errorTypeUnknown)
	c.other = c.errorsVec.WithLabelValues(errorTypeOther)
	return c
}

// Record counts one log record.
func (c *logCounters) Record(r *applog.Record) {
	c.messages[r.Level].Inc()
	if r.Error {
		c.errorType(r).Inc()
	}
	if r.Op != applog.OpNone {
		c.durations[r.Op].Observe(r.Duration)
	}
	if r.Cache != applog.CacheNone {
		c.cache[r.Cache].Inc()
	}
	if r.ModelLoad != applog.ModelLoadNone {
		c.models[r.ModelLoad].Inc()
	}
	if r.PerfAlert {
		c.perfAlerts.Inc()
	}
}

// Malformed counts a line that could not be read as a record.
func (c *logCounters) Malformed() { c.malformed.Inc() }

// errorType returns the counter of a record's type, giving an unlisted type a series of its
// own while fewer than maxUnknown have one.
func (c *logCounters) errorType(r *applog.Record) prometheus.Counter {
	if len(r.ErrorType) == 0 {
		if r.BadErrorType {
			return c.other
		}
		return c.unknown
	}
	if ctr, ok := c.errorTypes[string(r.ErrorType)]; ok {
		return ctr
	}
	if c.unknownTypes >= c.maxUnknown {
		return c.other
	}
	c.unknownTypes++
	name := string(r.ErrorType)
	ctr := c.errorsVec.WithLabelValues(name)
	c.errorTypes[name] = ctr
	return ctr
}

func (c *logCounters) collect(ch chan<- prometheus.Metric) {
	c.messagesVec.Collect(ch)
	c.errorsVec.Collect(ch)
	c.durationsVec.Collect(ch)
	c.cacheVec.Collect(ch)
	c.modelsVec.Collect(ch)
	c.perfAlerts.Collect(ch)
	c.malformed.Collect(ch)
}
