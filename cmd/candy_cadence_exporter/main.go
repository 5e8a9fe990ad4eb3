// Command candy_cadence_exporter exposes Prometheus metrics about the Candy-Cadence desktop
// application, its host, its SQLite library and its logs. main is wiring only: flags, logger,
// collectors, HTTP server.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/scrapehttp"
)

const (
	programName = "candy_cadence_exporter"
	// defaultListenAddress sits outside 9100-9999, the range of the Prometheus wiki's public
	// port allocations, so it cannot collide with another exporter on the same desktop.
	defaultListenAddress = ":10933"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	app := kingpin.New(programName, "Prometheus exporter for the Candy-Cadence desktop application, its host, its SQLite library and its logs.")
	app.Version(version.Print(programName))
	app.HelpFlag.Short('h')
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)

	var (
		webFlags    = kingpinflag.AddFlags(app, defaultListenAddress)
		metricsPath = app.Flag("web.telemetry-path", "Path under which to expose metrics.").
				Default("/metrics").String()
		disableExporterMetrics = app.Flag("web.disable-exporter-metrics", "Leave out the exporter's own go_*, process_* and promhttp_* metrics.").
					Bool()
		maxRequests = app.Flag("web.max-requests", "Maximum number of scrapes served at once; more get 503. 0 disables the limit.").
				Default("10").Int()
		timeoutOffset = app.Flag("scrape.timeout-offset", "Taken off the timeout Prometheus announces in "+scrapehttp.TimeoutHeader+", to leave time to send the answer.").
				Default("250ms").Duration()
		defaultTimeout = app.Flag("scrape.default-timeout", "Deadline of a scrape whose request announces no timeout.").
				Default("10s").Duration()
		appWorkDir = app.Flag("app.working-dir", "The application's working directory, against which its relative paths (data/, cache/, logs/) resolve. Default: the exporter's working directory.").
				PlaceHolder("DIR").String()
	)
	logConfig := &promslog.Config{Writer: stderr}
	promslogflag.AddFlags(app, logConfig)
	logFile := addLogFileFlags(app)
	enableProfiling := addProfilingFlag(app)
	collectorFlags := addCollectorFlags(app)

	if _, err := app.Parse(args); err != nil {
		return startupError(stderr, flagError(app, args, err))
	}
	logOut, errOut, closeLog, err := logFile.open(stderr)
	if err != nil {
		return startupError(stderr, err)
	}
	defer closeLog()
	logConfig.Writer, stderr = logOut, errOut
	logger := promslog.New(logConfig)

	if *webFlags.WebConfigFile != "" {
		if err := web.Validate(*webFlags.WebConfigFile); err != nil {
			return startupError(stderr, fmt.Errorf("invalid --web.config.file %s: %w", *webFlags.WebConfigFile, err))
		}
	}

	env := appdirs.CurrentEnv(runtime.GOOS, *appWorkDir)
	enabled, err := collectorFlags.build(env, logger)
	if err != nil {
		return startupError(stderr, err)
	}

	logger.Info("starting "+programName, "version", version.Info(), "build_context", version.BuildContext())
	names := make([]string, 0, len(enabled))
	for _, c := range enabled {
		names = append(names, c.Name)
	}
	logger.Info("enabled collectors", "collectors", names)

	static := prometheus.NewRegistry()
	static.MustRegister(versioncollector.NewCollector(programName))
	runner := collector.NewRunner(enabled, logger)
	var handler http.Handler = scrapehttp.NewHandler(runner, static, logger, scrapehttp.Options{
		TimeoutOffset:  *timeoutOffset,
		DefaultTimeout: *defaultTimeout,
		MaxRequests:    *maxRequests,
	})
	if !*disableExporterMetrics {
		static.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		handler = promhttp.InstrumentMetricHandler(static, handler)
	}

	mux := http.NewServeMux()
	mux.Handle(*metricsPath, handler)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "Healthy\n")
		}
	})
	profiling := handleProfiling(mux, *enableProfiling)
	if *metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Profiling:   profiling,
			Name:        "Candy-Cadence Exporter",
			Description: "Prometheus exporter for the Candy-Cadence desktop application",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: *metricsPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
			},
		})
		if err != nil {
			return startupError(stderr, fmt.Errorf("landing page: %w", err))
		}
		mux.Handle("/", landing)
	}

	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := web.ListenAndServe(server, webFlags, logger); err != nil {
		logger.Error("web server stopped", "err", err)
		return 1
	}
	return 0
}

// startupError prints err as the one line a user sees when start-up fails, and returns the
// exit code.
func startupError(stderr io.Writer, err error) int {
	msg := strings.Join(strings.Fields(err.Error()), " ") // YAML errors span lines
	fmt.Fprintf(stderr, "%s: error: %s\n", programName, msg)
	return 2
}

// flagError names the flag whose value was rejected: kingpin reports only the value's
// own error ("time: invalid duration"), which leaves the user guessing which flag it was.
func flagError(app *kingpin.Application, args []string, err error) error {
	pc, perr := app.ParseContext(args)
	if perr != nil {
		return err
	}
	for _, el := range pc.Elements {
		f, ok := el.Clause.(*kingpin.FlagClause)
		if !ok || el.Value == nil {
			continue
		}
		if serr := f.Model().Value.Set(*el.Value); serr != nil {
			return fmt.Errorf("--%s=%s: %w", f.Model().Name, *el.Value, serr)
		}
	}
	return err
}
