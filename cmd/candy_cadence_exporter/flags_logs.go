package main

import (
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/collector/logs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

// addLogsFlags declares the logs collector's flags.
func addLogsFlags(app *kingpin.Application) collectorEntry {
	enabled := enableFlag(app, "logs", "errors, operation durations and cache activity from the application's log files.")
	pathFlag := app.Flag("collector.logs.path", "Glob of log files to follow; repeat for more. Default: 'Log - *.txt', security.log, performance.log, errors.log (and their .1) and error_monitor.log in each of the application's log directories.").
		PlaceHolder("GLOB")
	paths := pathFlag.Strings()
	fromStart := app.Flag("collector.logs.from-start", "Read the log files that exist at start-up from their start (default: from their end; files that appear later are always read whole).").
		Bool()
	maxUnknownFlag := app.Flag("collector.logs.max-unknown-error-types", "Error types outside the known set that get a series of their own; later ones count as type=\"other\".").
		Default(itoa(logs.DefaultMaxUnknownErrorTypes))
	maxUnknown := maxUnknownFlag.Int()
	pollFlag := app.Flag("collector.logs.poll-interval", "How often the log files are scanned, besides file events.").
		Default("1s")
	poll := pollFlag.Duration()
	maxFilesFlag := app.Flag("collector.logs.max-files", "Most log files followed at once (each holds a descriptor); further matching files are reported in candy_cadence_log_files_over_limit, not read.").
		Default("100")
	maxFiles := maxFilesFlag.Int()
	events := app.Flag("collector.logs.file-events", "React to file system events between polls; disable where the file system has none (some network shares).").
		Default("true").Bool()
	return collectorEntry{
		name:    "logs",
		enabled: enabled,
		flags:   map[string]*kingpin.FlagClause{"Globs": pathFlag, "PollInterval": pollFlag, "MaxFiles": maxFilesFlag},
		build: func(env appdirs.Env, logger *slog.Logger) (collector.Collector, error) {
			unknown, err := zeroMeansNone(maxUnknownFlag, *maxUnknown)
			if err != nil {
				return nil, err
			}
			return logs.New(logs.Config{
				Globs:                *paths,
				FromStart:            *fromStart,
				PollInterval:         explicitDuration(*poll),
				NoFileEvents:         !*events,
				MaxUnknownErrorTypes: unknown,
				MaxFiles:             *maxFiles,
			}, env, logger)
		},
	}
}
