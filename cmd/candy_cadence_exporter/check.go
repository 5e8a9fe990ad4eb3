package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/collector/logs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/health"
)

// checkFlags are the health check's flags: the command and its output format, and the
// timeout and cache interval shared with /health.
type checkFlags struct {
	command       *kingpin.CmdClause
	format        *string
	timeout       *time.Duration
	cacheInterval *time.Duration
}

// addCheckFlags declares the check command beside the default serve command, so that the
// exporter run without a command still serves.
func addCheckFlags(app *kingpin.Application) checkFlags {
	app.Command("serve", "Serve metrics and /health (the default).").Default()
	cmd := app.Command("check", "Run the enabled collectors once, judge the workstation's health and print the report. Exit code: 0 healthy, 1 warning, 2 critical, 3 the check could not run.")
	return checkFlags{
		command: cmd,
		format:  cmd.Flag("format", "Report format: text or json.").Default("text").Enum("text", "json"),
		timeout: app.Flag("check.timeout", "Deadline of one health check (the check command and each /health report).").
			Default("10s").Duration(),
		cacheInterval: app.Flag("web.health-interval", "Least time between two health reports computed for /health; requests in between get the last one.").
			Default("1m").Duration(),
	}
}

// validate rejects durations that would make every report empty or the cache meaningless.
func (f checkFlags) validate() error {
	if *f.timeout <= 0 {
		return fmt.Errorf("--check.timeout=%s: must be positive", *f.timeout)
	}
	if *f.cacheInterval < 0 {
		return fmt.Errorf("--web.health-interval=%s: must not be negative", *f.cacheInterval)
	}
	return nil
}

// isCheck tells whether the command line asks for the check command, even if it does not parse.
func isCheck(app *kingpin.Application, args []string) bool {
	if pc, err := app.ParseContext(args); err == nil && pc.SelectedCommand != nil {
		return pc.SelectedCommand.FullCommand() == "check"
	}
	return slices.Contains(args, "check")
}

// failure reports a start-up error with the exit code of the mode: 3 for the check command
// (as monitoring plugins report "unknown"), 2 for the server.
func failure(stderr io.Writer, check bool, err error) int {
	code := startupError(stderr, err)
	if check {
		return health.ExitCheckFailed
	}
	return code
}

// runCheck builds the enabled collectors, makes one report and prints it.
func runCheck(app *kingpin.Application, flags checkFlags, collectors collectorSet, workDir string, logger *slog.Logger, stdout, stderr io.Writer) int {
	env := appdirs.CurrentEnv(runtime.GOOS, workDir)
	enabled, err := collectors.build(env, logger)
	if err != nil {
		return failure(stderr, true, err)
	}
	checker, err := newHealthChecker(app, collector.NewRunner(enabled, logger), workDir)
	if err != nil {
		return failure(stderr, true, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *flags.timeout)
	defer cancel()
	report := checker.Run(ctx)
	if *flags.format == "json" {
		err = report.WriteJSON(stdout)
	} else {
		err = report.WriteText(stdout)
	}
	if err != nil {
		return failure(stderr, true, fmt.Errorf("writing the report: %w", err))
	}
	return report.Status.ExitCode()
}

// newHealthChecker builds the checker over runner with the paths the collectors' flags and
// discovery resolve.
func newHealthChecker(app *kingpin.Application, runner *collector.Runner, workDir string) (*health.Checker, error) {
	thresholds, err := health.DefaultThresholds()
	if err != nil {
		return nil, fmt.Errorf("the embedded rules/thresholds.yml: %w", err)
	}
	env := appdirs.CurrentEnv(runtime.GOOS, workDir)
	paths := health.Discover(env, health.PathFlags{
		LibraryDB: flagString(app, "collector.sqlite.library-db"),
		CacheDB:   flagString(app, "collector.sqlite.cache-db"),
		DataDir:   flagString(app, "collector.host.data-dir"),
		LogGlobs:  flagStrings(app, "collector.logs.path"),
	}, logs.DiscoveredGlobs(env))
	integrity := flagString(app, "collector.sqlite.integrity-interval")
	return health.NewChecker(health.Config{
		Runner:           runner,
		Paths:            paths,
		Thresholds:       thresholds,
		Version:          version.Version,
		WaitForIntegrity: integrity != "0s" && integrity != "0",
	}), nil
}

// flagString and flagStrings read a collector flag's value by name (kingpin's values are
// Getters), so that the check sees exactly what the collectors were given.
func flagString(app *kingpin.Application, name string) string {
	switch v := flagValue(app, name).(type) {
	case string:
		return v
	case time.Duration:
		return v.String()
	}
	return ""
}

func flagStrings(app *kingpin.Application, name string) []string {
	v, _ := flagValue(app, name).([]string)
	return v
}

func flagValue(app *kingpin.Application, name string) any {
	f := app.GetFlag(name)
	if f == nil {
		return nil
	}
	if g, ok := f.Model().Value.(kingpin.Getter); ok {
		return g.Get()
	}
	return nil
}

// healthHandler serves the cached health report as JSON: 200 while healthy or warning, 503
// when critical, so that a plain HTTP probe can tell.
func healthHandler(reports *health.Cached) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report, err := reports.Report(r.Context())
		if err != nil {
			http.Error(w, "health report not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if report.Status == health.StatusCritical {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		if r.Method == http.MethodHead {
			return
		}
		_ = report.WriteJSON(w) // an error here is the client gone away
	})
}
