package main

import (
	"fmt"
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

// addSQLiteFlags declares the sqlite collector's flags.
func addSQLiteFlags(app *kingpin.Application) collectorEntry {
	enabled := enableFlag(app, "sqlite", "the application's library and cache databases, read-only.")
	var (
		libraryPath = app.Flag("collector.sqlite.library-db", "Path of the library database (3dmm.db). Default: discovered in the application's data directories, newer layout first, then older, then the working directory's data/candy_cadence.db and data/3dmm.db.").PlaceHolder("PATH").String()
		cachePath   = app.Flag("collector.sqlite.cache-db", "Path of the model cache database (cache.db). Default: discovered like the library.").PlaceHolder("PATH").String()
		backupGlobs = app.Flag("collector.sqlite.backup-glob", "Glob of the library's backup files; repeatable. Default: candy_cadence_backup_*.db.gz beside the library database and in its backups/ directory.").PlaceHolder("GLOB").Strings()
		stats       = app.Flag("collector.sqlite.stats-interval", "Least time between two refreshes of row counts and per-format aggregates, which run in the background.").Default("60s").Duration()
		integrity   = app.Flag("collector.sqlite.integrity-interval", "Time between two background PRAGMA quick_check runs; 0 disables them.").Default("1h").Duration()
		maxFormats  = app.Flag("collector.sqlite.max-formats", "Most model formats (and cache levels) exported by name; the rest are counted as \"other\".").Default("10").Int()
		busy        = app.Flag("collector.sqlite.busy-timeout", "How long a read waits for a lock the application holds before the database is reported down for this scrape.").Default("100ms").Duration()
		keepOpen    = app.Flag("collector.sqlite.keep-open", "Keep the connection open between scrapes. While it is open the application's last connection cannot checkpoint and remove its WAL on exit, and on Windows the database cannot be renamed or deleted.").Default("false").Bool()
	)
	return collectorEntry{
		name:    "sqlite",
		enabled: enabled,
		build: func(env appdirs.Env, logger *slog.Logger) (collector.Collector, error) {
			if *stats <= 0 {
				return nil, fmt.Errorf("--collector.sqlite.stats-interval must be positive, got %s", *stats)
			}
			if *integrity < 0 {
				return nil, fmt.Errorf("--collector.sqlite.integrity-interval must be 0 (off) or positive, got %s", *integrity)
			}
			if *maxFormats < 1 {
				return nil, fmt.Errorf("--collector.sqlite.max-formats must be at least 1, got %d", *maxFormats)
			}
			if *busy < 0 {
				return nil, fmt.Errorf("--collector.sqlite.busy-timeout must not be negative, got %s", *busy)
			}
			layouts := appdirs.Layouts(env)
			return collector.NewSQLiteCollector(collector.SQLiteConfig{
				LibraryPaths:      candidatePaths(*libraryPath, appdirs.LibraryDBs(layouts)),
				CachePaths:        candidatePaths(*cachePath, appdirs.CacheDBs(layouts)),
				BackupGlobs:       *backupGlobs,
				StatsInterval:     *stats,
				IntegrityInterval: *integrity,
				MaxLabelValues:    *maxFormats,
				BusyTimeout:       *busy,
				KeepOpen:          *keepOpen,
			}, logger)
		},
	}
}

// candidatePaths is the flag's path alone when set, else the discovered candidates.
func candidatePaths(flagValue string, discovered []string) []string {
	if flagValue != "" {
		return []string{flagValue}
	}
	return discovered
}
