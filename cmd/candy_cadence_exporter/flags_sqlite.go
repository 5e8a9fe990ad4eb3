package main

import (
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/collector/sqlite"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

// addSQLiteFlags declares the sqlite collector's flags.
func addSQLiteFlags(app *kingpin.Application) collectorEntry {
	enabled := enableFlag(app, "sqlite", "the application's library and cache databases, read-only.")
	var (
		libraryPath   = app.Flag("collector.sqlite.library-db", "Path of the library database (3dmm.db). Default: discovered in the application's data directories, newer layout first, then older, then the working directory's data/candy_cadence.db and data/3dmm.db.").PlaceHolder("PATH").String()
		cachePath     = app.Flag("collector.sqlite.cache-db", "Path of the model cache database (cache.db). Default: discovered like the library.").PlaceHolder("PATH").String()
		backupGlobs   = app.Flag("collector.sqlite.backup-glob", "Glob of the library's backup files; repeatable. Default: candy_cadence_backup_*.db.gz beside the library database and in its backups/ directory.").PlaceHolder("GLOB").Strings()
		statsFlag     = app.Flag("collector.sqlite.stats-interval", "Least time between two refreshes of row counts and per-format aggregates, which run in the background.").Default("60s")
		stats         = statsFlag.Duration()
		integrityFlag = app.Flag("collector.sqlite.integrity-interval", "Time between two background PRAGMA quick_check runs; 0 disables them.").Default("1h")
		integrity     = integrityFlag.Duration()
		formatsFlag   = app.Flag("collector.sqlite.max-formats", "Most model formats (and cache levels) exported by name; the rest are counted as \"other\".").Default(itoa(sqlite.DefaultMaxLabelValues))
		maxFormats    = formatsFlag.Int()
		busyFlag      = app.Flag("collector.sqlite.busy-timeout", "How long a read waits for a lock the application holds before the database is reported down for this scrape.").Default("100ms")
		busy          = busyFlag.Duration()
		keepOpen      = app.Flag("collector.sqlite.keep-open", "Keep the connection open between scrapes. While it is open the application's last connection cannot checkpoint and remove its WAL on exit, and on Windows the database cannot be renamed or deleted.").Default("false").Bool()
	)
	return collectorEntry{
		name:    "sqlite",
		enabled: enabled,
		flags:   map[string]*kingpin.FlagClause{"StatsInterval": statsFlag, "MaxLabelValues": formatsFlag},
		build: func(env appdirs.Env, logger *slog.Logger) (collector.Collector, error) {
			integrityInterval, err := zeroMeansOff(integrityFlag, *integrity)
			if err != nil {
				return nil, err
			}
			busyTimeout, err := zeroMeansOff(busyFlag, *busy)
			if err != nil {
				return nil, err
			}
			return sqlite.New(sqlite.Config{
				LibraryPath:       *libraryPath,
				CachePath:         *cachePath,
				BackupGlobs:       *backupGlobs,
				StatsInterval:     explicitDuration(*stats),
				IntegrityInterval: integrityInterval,
				MaxLabelValues:    explicitInt(*maxFormats),
				BusyTimeout:       busyTimeout,
				KeepOpen:          *keepOpen,
			}, env, logger)
		},
	}
}
