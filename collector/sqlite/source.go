package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
	"github.com/candy-cadence/candy_cadence_exporter/internal/sqlitero"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
)

// dbSource is one of the application's databases as the sqlite collector sees it across
// scrapes: which file it is, the connection, and the facts that are too expensive to gather on
// every scrape (row counts, aggregates, the integrity check), refreshed in the background.
type dbSource struct {
	name       string   // the db label: "library" or "cache"
	candidates []string // paths to look at, in order; one when set by flag
	opts       sqliteSourceOptions
	logger     *slog.Logger
	stats      func(ctx context.Context, db *sqlitero.DB) (*dbStats, error)

	bgCtx context.Context // cancelled by close; background work runs under it
	bg    sync.WaitGroup

	// statsRefresh and integrityCheck run in the background under their own lock.
	statsRefresh   *refresher[dbStats]
	integrityCheck *refresher[integrityResult]

	mu        sync.Mutex
	path      string       // the chosen file
	pathFound bool         // whether it existed when chosen
	conn      *sqlitero.DB // open between scrapes only with KeepOpen
	upState   collector.FailureLog
}

type sqliteSourceOptions struct {
	BusyTimeout       time.Duration
	KeepOpen          bool
	StatsInterval     time.Duration
	IntegrityInterval time.Duration
	Now               func() time.Time
}

// dbSample is what one scrape learnt about one database.
type dbSample struct {
	path    string
	journal string // "wal", "rollback" or "unknown"
	files   sqlitero.Files
	up      bool
	facts   cheapFacts
	stats   *dbStats
	integ   *integrityResult
}

// cheapFacts are read on every scrape: they cost a read of the first page and the schema.
type cheapFacts struct {
	pageSize, pages, freelistPages, tables int64
}

// dbStats are refreshed at most once per stats interval.
type dbStats struct {
	probeDuration time.Duration // SELECT COUNT(*) of the probe table; 0 when it does not exist
	hasProbe      bool
	rows          map[string]int64 // known application tables that exist
	groups        []labelGroup     // models by format, or cache entries by level
	newestModel   time.Time        // zero when unknown
}

type integrityResult struct {
	ok       bool
	finished time.Time
	took     time.Duration
}

func newDBSource(bgCtx context.Context, name string, candidates []string, opts sqliteSourceOptions, logger *slog.Logger,
	stats func(context.Context, *sqlitero.DB) (*dbStats, error)) *dbSource {
	s := &dbSource{
		name:       name,
		candidates: candidates,
		opts:       opts,
		logger:     logger.With("db", name),
		stats:      stats,
		bgCtx:      bgCtx,
	}
	s.statsRefresh = &refresher[dbStats]{
		interval: opts.StatsInterval, now: opts.Now, read: s.readStats,
		bgCtx: bgCtx, bg: &s.bg, logger: s.logger,
		failMsg: "database statistics could not be refreshed", okMsg: "database statistics refreshed again",
	}
	s.integrityCheck = &refresher[integrityResult]{
		interval: opts.IntegrityInterval, now: opts.Now, read: s.runQuickCheck, changed: s.logIntegrity,
		bgCtx: bgCtx, bg: &s.bg, logger: s.logger,
		failMsg: "integrity check could not run", okMsg: "integrity check runs again",
	}
	return s
}

// choosePath returns the file to read: the current choice while it exists, else the first
// candidate that exists, else the first candidate. It logs each new choice once.
func (s *dbSource) choosePath() string {
	if s.pathFound && appdirs.FileExists(s.path) {
		return s.path
	}
	p, found := appdirs.FirstExisting(s.candidates, appdirs.FileExists)
	if p != s.path || found != s.pathFound {
		s.pathFound = found
		if found {
			s.logger.Info("database file chosen", "path", p)
		} else {
			s.logger.Warn("database file not found; will keep looking", "looked_at", s.candidates)
		}
		s.path = p
	}
	return p
}

// scrape reads the cheap facts now and returns the cached ones with them, starting background
// refreshes when they are due. It never waits for the integrity check.
func (s *dbSource) scrape(ctx context.Context) dbSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	sample := dbSample{path: s.choosePath(), journal: "unknown"}
	files, err := sqlitero.StatFiles(sample.path)
	sample.files = files
	if err == nil && !files.DB.Exists {
		err = fmt.Errorf("%s: %w", sample.path, sqlitero.ErrNotExist)
	}
	if err == nil {
		err = s.readFacts(ctx, &sample)
	}
	if !s.opts.KeepOpen {
		s.closeConn()
	}
	s.upState.Update(s.logger, slog.LevelWarn, "database cannot be read", "database readable again", err, "path", sample.path)
	if !files.DB.Exists {
		return sample
	}
	if sample.up {
		sample.stats = s.currentStats(ctx, sample.path, files.DB.ID)
	}
	sample.integ, _ = s.integrityCheck.poll(sample.path, files.DB.ID)
	return sample
}

// readFacts reads the cheap facts through the connection, (re)opening it when needed. A read
// of an immutable snapshot that raced with a writer is retried once in the new mode.
func (s *dbSource) readFacts(ctx context.Context, sample *dbSample) error {
	var err error
	for range 2 {
		if err = s.ensureConn(sample.files); err != nil {
			return err
		}
		sample.journal = string(s.conn.Header().Journal)
		err = sqlitero.Retry(ctx, func() (err error) {
			sample.facts, err = queryCheapFacts(ctx, s.conn)
			return err
		})
		if err != nil {
			err = fmt.Errorf("%w (SQLite code %d, %s mode)", err, sqlitero.ErrorCode(err), s.conn.Mode())
			s.closeConn() // a failed connection is not reused
			return err
		}
		if s.conn.Mode() != sqlitero.ModeSnapshot {
			sample.up = true
			return nil
		}
		reason, serr := s.conn.Stale()
		if serr != nil {
			s.closeConn()
			return serr
		}
		if reason == "" {
			sample.up = true
			return nil
		}
		s.logger.Debug("database changed during an immutable read; reading again", "reason", reason)
		s.closeConn()
		if sample.files, err = sqlitero.StatFiles(sample.path); err != nil {
			return err
		}
	}
	return errors.New("database kept changing during immutable reads")
}

func (s *dbSource) ensureConn(files sqlitero.Files) error {
	if s.conn != nil {
		if reason := s.conn.StaleAgainst(files); reason != "" {
			s.logger.Debug("reopening database", "reason", reason)
			s.closeConn()
		}
	}
	if s.conn != nil {
		return nil
	}
	conn, err := sqlitero.Open(s.path, sqlitero.Options{BusyTimeout: s.opts.BusyTimeout})
	if err != nil {
		return err
	}
	s.conn = conn
	return nil
}

func (s *dbSource) closeConn() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// currentStats starts a background refresh when one is due and returns the stats of the file
// id. With none yet for this file it waits for the refresh, for at most half of what remains of
// the scrape, so that the first scrape is complete without risking the deadline.
func (s *dbSource) currentStats(ctx context.Context, path string, id sqlitero.FileID) *dbStats {
	stats, running := s.statsRefresh.poll(path, id)
	if stats != nil || running == nil {
		return stats
	}
	wait := 250 * time.Millisecond
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl) / 2
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-running:
	case <-timer.C:
	case <-ctx.Done():
	}
	return s.statsRefresh.resultFor(id)
}

// readStats gathers the expensive facts on a connection of their own, so that a slow refresh
// never holds up a scrape.
func (s *dbSource) readStats(ctx context.Context, path string, id sqlitero.FileID) (dbStats, error) {
	db, err := s.openMatching(path, id)
	if err != nil {
		return dbStats{}, err
	}
	defer db.Close()
	var stats *dbStats
	err = sqlitero.Retry(ctx, func() (err error) {
		stats, err = s.stats(ctx, db)
		return err
	})
	if err != nil {
		return dbStats{}, err
	}
	if err := checkNotStale(db); err != nil {
		return dbStats{}, err
	}
	return *stats, nil
}

// openMatching opens path and checks that it is still the file the caller means.
func (s *dbSource) openMatching(path string, id sqlitero.FileID) (*sqlitero.DB, error) {
	db, err := sqlitero.Open(path, sqlitero.Options{BusyTimeout: s.opts.BusyTimeout})
	if err != nil {
		return nil, err
	}
	if db.Files().DB.ID != id {
		db.Close()
		return nil, errors.New("database file replaced")
	}
	return db, nil
}

// checkNotStale fails when a read in snapshot mode may have raced with a writer.
func checkNotStale(db *sqlitero.DB) error {
	if db.Mode() != sqlitero.ModeSnapshot {
		return nil
	}
	reason, err := db.Stale()
	if err != nil {
		return err
	}
	if reason != "" {
		return fmt.Errorf("database changed while it was read (%s); will read again", reason)
	}
	return nil
}

// logIntegrity logs the first result of the integrity check and every change of its verdict.
func (s *dbSource) logIntegrity(path string, prev *integrityResult, cur integrityResult) {
	if prev != nil && prev.ok == cur.ok {
		return
	}
	if cur.ok {
		s.logger.Info("integrity check passed", "path", path, "duration_seconds", cur.took.Seconds())
	} else {
		s.logger.Error("integrity check found corruption", "path", path, "duration_seconds", cur.took.Seconds())
	}
}

func (s *dbSource) runQuickCheck(ctx context.Context, path string, id sqlitero.FileID) (integrityResult, error) {
	db, err := s.openMatching(path, id)
	if err != nil {
		if sqlitero.IsCorrupt(err) {
			return integrityResult{finished: s.opts.Now()}, nil
		}
		return integrityResult{}, err
	}
	defer db.Close()
	begin := time.Now()
	var ok bool
	err = sqlitero.Retry(ctx, func() (err error) {
		ok, err = quickCheck(ctx, db)
		return err
	})
	took := time.Since(begin)
	if err != nil && !sqlitero.IsCorrupt(err) {
		return integrityResult{}, err
	}
	if err := checkNotStale(db); err != nil {
		return integrityResult{}, err
	}
	return integrityResult{ok: ok && err == nil, finished: s.opts.Now(), took: took}, nil
}

// quickCheck runs PRAGMA quick_check, stopping at the first problem. It reports false, nil
// for a database it found corrupt, and an error when the check could not run.
func quickCheck(ctx context.Context, db *sqlitero.DB) (bool, error) {
	var first string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&first); err != nil {
		return false, err
	}
	return first == "ok", nil
}

// close stops the background work and closes the connection.
func (s *dbSource) close() {
	s.bg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeConn()
}
