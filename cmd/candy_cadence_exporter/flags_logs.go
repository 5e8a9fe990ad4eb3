package main

import (
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/tailer"
)

// addLogsFlags declares the logs collector's flags.
func addLogsFlags(app *kingpin.Application) collectorEntry {
	enabled := enableFlag(app, "logs", "errors, operation durations and cache activity from the application's log files.")
	paths := app.Flag("collector.logs.path", "Glob of log files to follow; repeat for more. Default: 'Log - *.txt', security.log, performance.log, errors.log (and their .1) and error_monitor.log in each of the application's log directories.").
		PlaceHolder("GLOB").Strings()
	fromStart := app.Flag("collector.logs.from-start", "Read the log files that exist at start-up from their start (default: from their end; files that appear later are always read whole).").
		Bool()
	maxUnknown := app.Flag("collector.logs.max-unknown-error-types", "Error types outside the known set that get a series of their own; later ones count as type=\"other\".").
		Default("50").Int()
	poll := app.Flag("collector.logs.poll-interval", "How often the log files are scanned, besides file events.").
		Default("1s").Duration()
	maxFiles := app.Flag("collector.logs.max-files", "Most log files followed at once (each holds a descriptor); further matching files are reported in candy_cadence_log_files_over_limit, not read.").
		Default("100").Int()
	events := app.Flag("collector.logs.file-events", "React to file system events between polls; disable where the file system has none (some network shares).").
		Default("true").Bool()
	return collectorEntry{
		name:    "logs",
		enabled: enabled,
		build: func(env appdirs.Env, logger *slog.Logger) (collector.Collector, error) {
			globs := *paths
			source := "flag"
			if len(globs) == 0 {
				globs = collector.LogGlobs(appdirs.LogDirs(appdirs.Layouts(env)))
				source = "discovered"
			}
			c, err := collector.NewLogsCollector(collector.LogsConfig{
				Globs:                globs,
				FromStart:            *fromStart,
				PollInterval:         *poll,
				FileEvents:           *events,
				MaxUnknownErrorTypes: *maxUnknown,
				KeepOpen:             tailer.DefaultKeepOpen,
				MaxFiles:             *maxFiles,
			}, logger)
			if err != nil {
				return nil, err
			}
			logger.Info("following log files", "patterns", globs, "source", source, "from_start", *fromStart)
			return c, nil
		},
	}
}
