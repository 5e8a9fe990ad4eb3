package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
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
	facts     cachedFacts
	reads     int // reads of the cheap facts through a connection, as opposed to reuses

	statsBasis statsBasis
	statsReads atomic.Int64 // stats refreshes that read the database, as opposed to keeping
	upState    collector.FailureLog
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
	state   dbState
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
	// impossibleDates counts models added more than a day in the future; hasDates says the
	// aggregate reads dates at all (the library's does, the cache's does not).
	impossibleDates int64
	hasDates        bool
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

// scrape reads the cheap facts now, or takes them from the last read while the files have not
// changed, and returns the cached expensive ones with them, starting background refreshes when
// they are due. It never waits for the integrity check.
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
		err = s.factsNowOrCached(ctx, &sample)
	}
	if !s.opts.KeepOpen {
		s.closeConn()
	}
	sample.state = classify(err)
	if err != nil && sample.state == stateUnreadable && sample.files.WAL.Exists && !sample.files.SHM.Exists {
		err = fmt.Errorf("%w: %s", err, missingSHMExplanation)
	}
	s.upState.Update(s.logger, slog.LevelWarn, "database cannot be read", "database readable again", err,
		"path", sample.path, "state", string(sample.state))
	if !files.DB.Exists {
		return sample
	}
	if sample.up {
		sample.stats = s.currentStats(ctx, sample.path, files.DB.ID)
	}
	sample.integ, _ = s.integrityCheck.poll(sample.path, files.DB.ID)
	return sample
}

// missingSHMExplanation is logged when a WAL lies beside the database without its index: the
// application was killed and the -shm removed afterwards. Reading the WAL needs the index, and
// a reader that may not create files cannot rebuild it; the application rebuilds it the next
// time it opens the database, and the database reads again from then on.
const missingSHMExplanation = "the WAL file has no WAL index (-shm) beside it; the exporter never creates files, " +
	"so it cannot read the database until the application opens it again and rebuilds the index"

// cachedFacts are the cheap facts of the last successful read and the state of the files they
// were read from. Its own mutex guards it: the background stats refresh invalidates it.
type cachedFacts struct {
	mu      sync.Mutex
	valid   bool
	files   sqlitero.Files
	header  sqlitero.Header
	facts   cheapFacts
	journal string
}

// invalidate makes the next scrape read the database again.
func (c *cachedFacts) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.valid = false
}

// factsNowOrCached fills the sample's facts. A read opens the database, which parses its whole
// schema and, when the application was killed and left its WAL, rebuilds the WAL index from
// the whole WAL: while the files, and the header's change counter and schema cookie, are as
// they were at the last read, the facts cannot have changed, and that read's facts are reused.
// Only for a WAL database: there a writer's transaction never blocks a reader, and a
// connection that locks readers out (exclusive locking mode) writes the WAL as it does, so an
// unchanged WAL database cannot have become locked. A rollback-journal database can
// (BEGIN EXCLUSIVE changes no file), so it is always read. As a safeguard, a background stats
// refresh that fails (a lock, a change SQLite saw and stat did not) drops the reused facts; as
// refreshes of an unchanged database read it every tenth time (see readStats), anything the
// files' state missed is seen within ten stats intervals.
func (s *dbSource) factsNowOrCached(ctx context.Context, sample *dbSample) error {
	abs, err := filepath.Abs(sample.path)
	if err != nil {
		return err
	}
	header, herr := sqlitero.ReadHeader(abs)
	reusable := herr == nil && header.Journal == sqlitero.JournalWAL
	c := &s.facts
	c.mu.Lock()
	if reusable && c.valid && header == c.header && sameFiles(c.files, sample.files) {
		sample.facts, sample.journal, sample.up = c.facts, c.journal, true
		c.mu.Unlock()
		return nil
	}
	c.valid = false
	c.mu.Unlock()
	if err := s.readFacts(ctx, sample); err != nil {
		return err
	}
	if reusable {
		c.mu.Lock()
		c.valid, c.files, c.header, c.facts, c.journal = true, sample.files, header, sample.facts, sample.journal
		c.mu.Unlock()
	}
	return nil
}

// sameFiles reports whether two looks at a database's files saw the same files, unchanged.
func sameFiles(a, b sqlitero.Files) bool {
	same := func(x, y sqlitero.FileState) bool {
		return x.Exists == y.Exists && x.ID == y.ID && x.Size == y.Size && x.ModTime.Equal(y.ModTime)
	}
	return same(a.DB, b.DB) && same(a.WAL, b.WAL) && same(a.SHM, b.SHM)
}

// readFacts reads the cheap facts through the connection, (re)opening it when needed. A read
// of an immutable snapshot that raced with a writer is retried once in the new mode.
func (s *dbSource) readFacts(ctx context.Context, sample *dbSample) error {
	s.reads++
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

// statsBasis is the state of the files the last stats were read from, and how many refreshes
// since found them unchanged and kept those stats. Only readStats uses it, and the refresher
// runs one readStats at a time.
type statsBasis struct {
	valid   bool
	files   sqlitero.Files
	header  sqlitero.Header
	skipped int
}

// maxKeptRefreshes bounds how many refreshes in a row keep the stats of an unchanged WAL
// database: every tenth reads it anyway, the safeguard of the reused cheap facts.
const maxKeptRefreshes = 9

// walFilesState is the state of a WAL database's files and header, which tells an unchanged
// database (see factsNowOrCached); ok is false for any other database or when it cannot be read.
func walFilesState(path string) (files sqlitero.Files, header sqlitero.Header, ok bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return files, header, false
	}
	if files, err = sqlitero.StatFiles(abs); err != nil {
		return files, header, false
	}
	header, err = sqlitero.ReadHeader(abs)
	return files, header, err == nil && header.Journal == sqlitero.JournalWAL
}

// readStats gathers the expensive facts on a connection of their own, so that a slow refresh
// never holds up a scrape. The stats of an unchanged WAL database are kept rather than read
// again: a read parses the whole schema and, after a killed writer, rebuilds the WAL index from
// the whole WAL, which for a hostile or stale library costs a second of CPU each time.
func (s *dbSource) readStats(ctx context.Context, path string, id sqlitero.FileID) (dbStats, error) {
	files, header, wal := walFilesState(path)
	b := &s.statsBasis
	if wal && b.valid && header == b.header && sameFiles(files, b.files) && b.skipped < maxKeptRefreshes {
		if prev := s.statsRefresh.resultFor(id); prev != nil {
			b.skipped++
			return *prev, nil
		}
	}
	b.valid = false
	s.statsReads.Add(1)
	db, err := s.openMatching(path, id)
	if err != nil {
		s.facts.invalidate()
		return dbStats{}, err
	}
	defer db.Close()
	var stats *dbStats
	err = sqlitero.Retry(ctx, func() (err error) {
		stats, err = s.stats(ctx, db)
		return err
	})
	if err == nil {
		err = checkNotStale(db)
	}
	if err != nil {
		s.facts.invalidate()
		return dbStats{}, err
	}
	if wal {
		*b = statsBasis{valid: true, files: files, header: header}
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
