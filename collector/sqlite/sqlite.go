// Package sqlite is the sqlite collector: the application's library and cache databases, read
// without ever writing to them or holding a lock between reads, and the library's backups.
// Row counts, aggregates and the integrity check run in the background.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/sqlitero"
)

// Defaults of the Config fields whose zero value means "the default".
const (
	DefaultStatsInterval     = 60 * time.Second
	DefaultIntegrityInterval = time.Hour
	DefaultMaxLabelValues    = 10
	DefaultBusyTimeout       = 100 * time.Millisecond
)

// Config configures the sqlite collector. The zero value reads the discovered databases with
// the defaults above.
type Config struct {
	// LibraryPath and CachePath are the databases to read; empty means the first that exists of
	// the application's known locations (newer layout first, then older, then the working
	// directory's data/), looked for again while none exists.
	LibraryPath string
	CachePath   string
	// BackupGlobs match the library's backups. Empty means the operations manual's
	// candy_cadence_backup_*.db.gz beside the library database and in its backups/ directory.
	BackupGlobs []string
	// StatsInterval is the least time between two refreshes of row counts and aggregates;
	// zero means DefaultStatsInterval.
	StatsInterval time.Duration
	// IntegrityInterval is the time between two PRAGMA quick_check runs; zero means
	// DefaultIntegrityInterval, negative turns the checks off.
	IntegrityInterval time.Duration
	// MaxLabelValues bounds the format and level label values: the most common keep their
	// name, the rest are counted as "other". Zero means DefaultMaxLabelValues.
	MaxLabelValues int
	// BusyTimeout is how long a read waits for the application's lock; zero means
	// DefaultBusyTimeout, negative means not at all.
	BusyTimeout time.Duration
	// KeepOpen keeps the scrape's connection open between scrapes. See the README: while open,
	// the application's last connection cannot checkpoint and remove its WAL when it closes.
	KeepOpen bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// validate checks the fields that have no meaning when negative.
func (cfg Config) validate() error {
	if cfg.StatsInterval < 0 {
		return &collector.ConfigError{Field: "StatsInterval", Problem: "must be positive"}
	}
	if cfg.MaxLabelValues < 0 {
		return &collector.ConfigError{Field: "MaxLabelValues", Problem: "must be at least 1"}
	}
	return nil
}

// withDefaults replaces zero values by the defaults and negative ones by what they stand for.
func (cfg Config) withDefaults() Config {
	if cfg.StatsInterval == 0 {
		cfg.StatsInterval = DefaultStatsInterval
	}
	switch {
	case cfg.IntegrityInterval == 0:
		cfg.IntegrityInterval = DefaultIntegrityInterval
	case cfg.IntegrityInterval < 0:
		cfg.IntegrityInterval = 0 // off
	}
	if cfg.MaxLabelValues == 0 {
		cfg.MaxLabelValues = DefaultMaxLabelValues
	}
	switch {
	case cfg.BusyTimeout == 0:
		cfg.BusyTimeout = DefaultBusyTimeout
	case cfg.BusyTimeout < 0:
		cfg.BusyTimeout = 0 // fail at once on a lock
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// candidates is the configured path alone when set, else the discovered candidates.
func candidates(configured string, discovered []string) []string {
	if configured != "" {
		return []string{configured}
	}
	return discovered
}

// sqliteKnownTables are the application's tables whose rows are counted when they exist. A missing
// table is normal: several are created lazily or only by newer builds.
var sqliteKnownTables = []string{
	"models", "model_metadata", "categories", "search_history", "saved_searches",
	"model_analysis", "model_recent_usage", "projects", "files", "cache_entries",
}

const (
	dbLibrary = "library"
	dbCache   = "cache"
	// sqliteOtherLabel collects the label values past MaxLabelValues.
	sqliteOtherLabel = "other"
	// sqliteMaxLabelLen: a longer format or level is not a real one and counts as other.
	sqliteMaxLabelLen = 32
)

// Collector reports on the application's library and cache databases without ever
// writing to them or holding a lock between reads.
type Collector struct {
	cfg     Config
	library *dbSource
	cache   *dbSource
	backups *backupScanner
	cancel  context.CancelFunc
	descs   sqliteDescs
}

type sqliteDescs struct {
	up, info, size, walSize, pageSize, pages, freelist, tables, rows, probe, lastModified,
	integrityOK, integrityTime, integrityDuration,
	models, modelBytes, lastModelAdded, cacheEntries, cacheBytes,
	backups, backupTime, backupSize collector.TypedDesc
}

func newSQLiteDescs() sqliteDescs {
	db := []string{"db"}
	d := collector.Gauge
	const cached = " Cached: refreshed in the background at most once per --collector.sqlite.stats-interval."
	return sqliteDescs{
		up:           d("db_up", "Whether the database answered the cheap queries of this scrape (1) or not (0).", db...),
		info:         d("db_info", "The database file read for each db, and its journal mode from the file header (wal, rollback, or unknown when unreadable).", "db", "path", "journal_mode"),
		size:         d("db_size_bytes", "Size of the database file.", db...),
		walSize:      d("db_wal_size_bytes", "Size of the database's -wal file; 0 when there is none.", db...),
		pageSize:     d("db_page_size_bytes", "Database page size.", db...),
		pages:        d("db_pages", "Pages in the database, including those still in the WAL.", db...),
		freelist:     d("db_freelist_pages", "Unused pages on the database's freelist.", db...),
		tables:       d("db_tables", "Tables in the database schema, including FTS5 shadow tables and sqlite_sequence.", db...),
		rows:         d("db_rows", "Rows of each known application table that exists."+cached, "db", "table"),
		probe:        d("db_query_duration_seconds", "Duration of the probe query SELECT COUNT(*) FROM models (cache_entries for the cache)."+cached, db...),
		lastModified: d("db_last_modified_timestamp_seconds", "Last modification time of the database file or its WAL, whichever is newer.", db...),
		integrityOK: d("db_integrity_ok", "Whether the last PRAGMA quick_check of the current database file passed (1) or found corruption (0)."+
			" Runs in the background every --collector.sqlite.integrity-interval; absent until the first check ends.", db...),
		integrityTime:     d("db_integrity_check_timestamp_seconds", "When the last integrity check of the current database file ended.", db...),
		integrityDuration: d("db_integrity_check_duration_seconds", "How long the last integrity check took.", db...),
		models:            d("library_models", "Models in the library by lower-cased format; formats past the most common are counted as other."+cached, "format"),
		modelBytes:        d("library_model_size_bytes", "Total file size of the library's models by lower-cased format."+cached, "format"),
		lastModelAdded:    d("library_last_model_added_timestamp_seconds", "date_added of the newest model, read as UTC as SQLite's CURRENT_TIMESTAMP writes it."+cached),
		cacheEntries:      d("cache_entries", "Entries of the model cache database by cache level."+cached, "level"),
		cacheBytes:        d("cache_size_bytes", "Size of the model cache's entries by cache level, as the application recorded it."+cached, "level"),
		backups:           d("backups", "Library backup files matching the backup globs."),
		backupTime:        d("backup_last_timestamp_seconds", "Time of the newest backup, from its name (candy_cadence_backup_YYYYmmdd_HHMMSS, local time) or else its modification time."),
		backupSize:        d("backup_last_size_bytes", "Size of the newest backup file."),
	}
}

// New returns the sqlite collector; env is where the databases are discovered when cfg names
// none. Close stops its background work.
func New(cfg Config, env appdirs.Env, logger *slog.Logger) (*Collector, error) {
	layouts := appdirs.Layouts(env)
	return newCollector(cfg, candidates(cfg.LibraryPath, appdirs.LibraryDBs(layouts)),
		candidates(cfg.CachePath, appdirs.CacheDBs(layouts)), logger)
}

func newCollector(cfg Config, libraryPaths, cachePaths []string, logger *slog.Logger) (*Collector, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	opts := sqliteSourceOptions{
		BusyTimeout:       cfg.BusyTimeout,
		KeepOpen:          cfg.KeepOpen,
		StatsInterval:     cfg.StatsInterval,
		IntegrityInterval: cfg.IntegrityInterval,
		Now:               cfg.Now,
	}
	c := &Collector{cfg: cfg, cancel: cancel, descs: newSQLiteDescs()}
	c.library = newDBSource(ctx, dbLibrary, libraryPaths, opts, logger, c.libraryStats)
	c.cache = newDBSource(ctx, dbCache, cachePaths, opts, logger, c.cacheStats)
	c.backups = newBackupScanner(cfg.BackupGlobs, logger)
	return c, nil
}

// Close stops the background refreshes and checks and closes the connections.
func (c *Collector) Close() {
	c.cancel()
	c.library.close()
	c.cache.close()
}

// Update reads both databases concurrently, then the backups.
func (c *Collector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	var lib, cache dbSample
	var wg sync.WaitGroup
	wg.Go(func() { lib = c.library.scrape(ctx) })
	wg.Go(func() { cache = c.cache.scrape(ctx) })
	wg.Wait()
	c.emitDB(ch, dbLibrary, lib)
	c.emitDB(ch, dbCache, cache)
	if lib.stats != nil {
		c.emitGroups(ch, c.descs.models, c.descs.modelBytes, lib.stats.groups)
		if !lib.stats.newestModel.IsZero() {
			ch <- c.descs.lastModelAdded.Metric(sqliteUnix(lib.stats.newestModel))
		}
	}
	if cache.stats != nil {
		c.emitGroups(ch, c.descs.cacheEntries, c.descs.cacheBytes, cache.stats.groups)
	}
	c.emitBackups(ch, c.backups.scan(lib.path))
	return ctx.Err()
}

func (c *Collector) emitDB(ch chan<- prometheus.Metric, db string, s dbSample) {
	d := c.descs
	ch <- d.info.Metric(1, db, s.path, s.journal)
	ch <- d.up.Metric(sqliteBool(s.up), db)
	if s.files.DB.Exists {
		ch <- d.size.Metric(float64(s.files.DB.Size), db)
		ch <- d.walSize.Metric(float64(s.files.WAL.Size), db)
		ch <- d.lastModified.Metric(sqliteUnix(s.files.LastModified()), db)
	}
	if s.up {
		ch <- d.pageSize.Metric(float64(s.facts.pageSize), db)
		ch <- d.pages.Metric(float64(s.facts.pages), db)
		ch <- d.freelist.Metric(float64(s.facts.freelistPages), db)
		ch <- d.tables.Metric(float64(s.facts.tables), db)
	}
	if s.stats != nil {
		for _, t := range slices.Sorted(maps.Keys(s.stats.rows)) {
			ch <- d.rows.Metric(float64(s.stats.rows[t]), db, t)
		}
		if s.stats.hasProbe {
			ch <- d.probe.Metric(s.stats.probeDuration.Seconds(), db)
		}
	}
	if s.integ != nil {
		ch <- d.integrityOK.Metric(sqliteBool(s.integ.ok), db)
		ch <- d.integrityTime.Metric(sqliteUnix(s.integ.finished), db)
		ch <- d.integrityDuration.Metric(s.integ.took.Seconds(), db)
	}
}

func (c *Collector) emitGroups(ch chan<- prometheus.Metric, count, bytes collector.TypedDesc, groups []labelGroup) {
	for _, g := range groups {
		ch <- count.Metric(float64(g.count), g.label)
		ch <- bytes.Metric(g.bytes, g.label)
	}
}

func (c *Collector) emitBackups(ch chan<- prometheus.Metric, b backupSummary) {
	ch <- c.descs.backups.Metric(float64(b.count))
	if b.count > 0 {
		ch <- c.descs.backupTime.Metric(sqliteUnix(b.newest))
		ch <- c.descs.backupSize.Metric(float64(b.newestSize))
	}
}

// cheapFactsQuery reads page 1 and the schema: its cost does not grow with the library.
const cheapFactsQuery = `SELECT
	(SELECT page_size FROM pragma_page_size),
	(SELECT page_count FROM pragma_page_count),
	(SELECT freelist_count FROM pragma_freelist_count),
	(SELECT count(*) FROM sqlite_schema WHERE type = 'table')`

func queryCheapFacts(ctx context.Context, db *sqlitero.DB) (cheapFacts, error) {
	var f cheapFacts
	err := db.QueryRowContext(ctx, cheapFactsQuery).Scan(&f.pageSize, &f.pages, &f.freelistPages, &f.tables)
	return f, err
}

// existingTables returns which of sqliteKnownTables the database has.
func existingTables(ctx context.Context, db *sqlitero.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if slices.Contains(sqliteKnownTables, name) {
			out = append(out, name)
		}
	}
	return out, rows.Err()
}

// countRows counts the rows of the known tables; the probe table's count is timed.
func countRows(ctx context.Context, db *sqlitero.DB, probe string) (*dbStats, error) {
	tables, err := existingTables(ctx, db)
	if err != nil {
		return nil, err
	}
	st := &dbStats{rows: make(map[string]int64, len(tables))}
	for _, t := range tables {
		begin := time.Now()
		var n int64
		// t comes from sqliteKnownTables, never from the database.
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+t+`"`).Scan(&n); err != nil {
			return nil, fmt.Errorf("count rows of %s: %w", t, err)
		}
		if t == probe {
			st.probeDuration, st.hasProbe = time.Since(begin), true
		}
		st.rows[t] = n
	}
	return st, nil
}

// libraryStats counts rows and aggregates models by format in one pass over the format index.
// GROUP BY format walks idx_models_format in order: no sort, no temporary b-tree, so the memory
// it takes does not grow with the library.
func (c *Collector) libraryStats(ctx context.Context, db *sqlitero.DB) (*dbStats, error) {
	return c.groupStats(ctx, db, "models", "models by format",
		`SELECT format, COUNT(*), TOTAL(file_size), MAX(date_added) FROM models GROUP BY format`)
}

// cacheStats counts rows and the cache's entries and bytes by level.
func (c *Collector) cacheStats(ctx context.Context, db *sqlitero.DB) (*dbStats, error) {
	return c.groupStats(ctx, db, "cache_entries", "cache entries by level",
		`SELECT cache_level, COUNT(*), TOTAL(size_bytes), NULL FROM cache_entries GROUP BY cache_level`)
}

// groupStats counts the rows of the known tables, timing the probe table, and when the probe
// table exists reads query's (label, count, bytes, newest date_added or NULL) rows into
// bounded label groups.
func (c *Collector) groupStats(ctx context.Context, db *sqlitero.DB, probe, what, query string) (*dbStats, error) {
	st, err := countRows(ctx, db, probe)
	if err != nil {
		return nil, err
	}
	if _, ok := st.rows[probe]; !ok {
		return st, nil
	}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	groups := map[string]*labelGroup{}
	for rows.Next() {
		var label sql.NullString
		var count int64
		var bytes float64
		var newest any
		if err := rows.Scan(&label, &count, &bytes, &newest); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		g := groupFor(groups, label.String)
		g.count += count
		g.bytes += bytes
		if t, ok := parseSQLiteTime(newest); ok && t.After(st.newestModel) {
			st.newestModel = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	st.groups = boundGroups(groups, c.cfg.MaxLabelValues)
	return st, nil
}

// labelGroup is a count and a byte total under one bounded label value.
type labelGroup struct {
	label string
	count int64
	bytes float64
}

func groupFor(groups map[string]*labelGroup, raw string) *labelGroup {
	label := sqliteLabelValue(raw)
	g, ok := groups[label]
	if !ok {
		g = &labelGroup{label: label}
		groups[label] = g
	}
	return g
}

// labelValue turns a format or level from the database into a label value: lower-cased and
// trimmed; empty is "unknown"; anything that cannot be a real format is "other".
func sqliteLabelValue(raw string) string {
	if !utf8.ValidString(raw) {
		return sqliteOtherLabel
	}
	v := strings.ToLower(strings.TrimSpace(raw))
	switch {
	case v == "":
		return "unknown"
	case len(v) > sqliteMaxLabelLen || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }):
		return sqliteOtherLabel
	}
	return v
}

// boundGroups keeps the n largest groups by count (ties by name) and merges the rest into other.
func boundGroups(groups map[string]*labelGroup, n int) []labelGroup {
	all := make([]labelGroup, 0, len(groups))
	var other *labelGroup
	for _, g := range groups {
		if g.label == sqliteOtherLabel {
			other = g
			continue
		}
		all = append(all, *g)
	}
	slices.SortFunc(all, func(a, b labelGroup) int {
		return cmp.Or(cmp.Compare(b.count, a.count), strings.Compare(a.label, b.label))
	})
	if len(all) > n {
		if other == nil {
			other = &labelGroup{label: sqliteOtherLabel}
		}
		for _, g := range all[n:] {
			other.count += g.count
			other.bytes += g.bytes
		}
		all = all[:n]
	}
	if other != nil {
		all = append(all, *other)
	}
	return all
}

// sqliteTimeLayouts are the ways a date_added is found written: SQLite's CURRENT_TIMESTAMP and
// Python's sqlite3 datetime adapter, with or without fractions, a T or a zone.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02",
}

// parseSQLiteTime reads a timestamp as SQLite or go-sqlite3 hands it over. Times without a
// zone are UTC, as CURRENT_TIMESTAMP writes them.
func parseSQLiteTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case int64:
		return time.Unix(t, 0), t > 0
	case float64:
		return time.Unix(0, int64(t*1e9)), t > 0
	case []byte:
		return parseSQLiteTime(string(t))
	case string:
		for _, layout := range sqliteTimeLayouts {
			if p, err := time.ParseInLocation(layout, t, time.UTC); err == nil {
				return p, true
			}
		}
	}
	return time.Time{}, false
}

func sqliteBool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sqliteUnix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
