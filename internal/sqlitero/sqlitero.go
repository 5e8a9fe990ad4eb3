// Package sqlitero reads another program's SQLite database without disturbing it.
//
// The rules it keeps, and why:
//   - Every file of the application is opened read-only and none is ever created: SQLite opens
//     a WAL file with O_CREAT even on a read-only connection, so connections go through a VFS
//     that strips the create and write flags from the application's files.
//   - The WAL index (-shm) is opened read-only (readonly_shm=1): no reader mark is written, no
//     recovery is run, and the file is never truncated by us.
//   - A WAL database whose -wal file is absent has no live writer (every writer creates the WAL
//     when it opens the database), so it is read as immutable: no lock, no -wal, no -shm. The
//     caller checks Stale after each read, because a writer may start at any time.
//   - A rollback-journal database gets an ordinary read-only connection, whose SHARED lock
//     lasts only as long as each read.
//
// A connection in WAL mode holds a SHARED lock on the database file for as long as it is open,
// and while any other process holds one the application's last connection cannot checkpoint
// and delete its WAL when it closes. Callers should therefore close a DB when they are done
// with a batch of reads rather than keep it open for minutes.
package sqlitero

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// Mode is how a database was opened.
type Mode string

const (
	// ModeShared reads a WAL database that has a -wal file, through the writer's WAL index.
	ModeShared Mode = "shared"
	// ModeSnapshot reads a WAL database without a -wal file as an immutable file.
	ModeSnapshot Mode = "snapshot"
	// ModeRollback reads a rollback-journal database with an ordinary read-only connection.
	ModeRollback Mode = "rollback"
)

// pageCacheKiB is the page cache of each connection.
const pageCacheKiB = 512

// Options tune a connection.
type Options struct {
	// BusyTimeout is how long a read waits for a lock held by the application before it fails
	// with SQLITE_BUSY. Keep it short: the busy handler cannot be interrupted by a context.
	BusyTimeout time.Duration
}

// DB is one read-only connection to a database, with the state of its files when it opened.
type DB struct {
	path   string
	mode   Mode
	header Header
	files  Files
	db     *sql.DB
}

// ErrNotExist means the database file does not exist.
var ErrNotExist = errors.New("database file does not exist")

// Open opens the database at path for reading. It fails without creating anything when the
// file is missing, is not a database, or cannot be read.
func Open(path string, opts Options) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := registerOnce(); err != nil {
		return nil, err
	}
	files, err := StatFiles(abs)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	if !files.DB.Exists {
		return nil, fmt.Errorf("open %s: %w", abs, ErrNotExist)
	}
	header, err := ReadHeader(abs)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	mode := chooseMode(header, files)
	db, err := sql.Open("sqlite3", DSN(abs, mode, opts))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	// One connection: reads on one DB are sequential, and each extra connection would hold
	// its own lock and page cache.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return &DB{path: abs, mode: mode, header: header, files: files, db: db}, nil
}

func chooseMode(h Header, f Files) Mode {
	switch {
	case h.Journal != JournalWAL:
		return ModeRollback
	case f.WAL.Exists:
		return ModeShared
	default:
		return ModeSnapshot
	}
}

// DSN is the go-sqlite3 data source name for reading path in mode.
func DSN(absPath string, mode Mode, opts Options) string {
	p := filepath.ToSlash(absPath)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive path: file:///C:/...
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("vfs", vfsName)
	q.Set("_query_only", "1")
	q.Set("_busy_timeout", strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10))
	// A small page cache: the reads are a header and schema per scrape, and scans in the
	// background that the operating system's cache serves as well. SQLite's default is 2 MiB
	// per connection.
	q.Set("_cache_size", strconv.Itoa(-pageCacheKiB))
	switch mode {
	case ModeSnapshot:
		q.Set("immutable", "1")
	case ModeShared:
		q.Set("readonly_shm", "1")
	}
	return (&url.URL{Scheme: "file", Path: p}).String() + "?" + q.Encode()
}

// Retry runs read until it succeeds, fails for a reason that is not transient (see
// IsTransient), or has failed transiently ten times. The pauses grow from 0.1 ms to 1 ms.
func Retry(ctx context.Context, read func() error) error {
	var err error
	for attempt := range 10 {
		if err = read(); err == nil || !IsTransient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 100 * time.Microsecond):
		}
	}
	return err
}

// Path is the absolute path of the database.
func (d *DB) Path() string { return d.path }

// Mode is how the database was opened.
func (d *DB) Mode() Mode { return d.mode }

// Header is the database header as read when the database was opened.
func (d *DB) Header() Header { return d.header }

// Files is the state of the database files when it was opened.
func (d *DB) Files() Files { return d.files }

// QueryContext runs a query; ctx cancels it (go-sqlite3 interrupts the statement).
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.db.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.db.QueryRowContext(ctx, query, args...)
}

// Close closes the connection. It waits for a running query to finish; cancel its context first.
func (d *DB) Close() error { return d.db.Close() }

// Stale compares the files now with the files when the database was opened, and says why the
// connection no longer reads the current database, or "" when it still does. Checked after a
// read in snapshot mode, it also says whether that read can be trusted: an immutable read is
// only right if nothing wrote the file meanwhile.
func (d *DB) Stale() (string, error) {
	now, err := StatFiles(d.path)
	if err != nil {
		return "", err
	}
	return staleReason(d.mode, d.files, now), nil
}

// StaleAgainst is Stale for files the caller has just stat'ed.
func (d *DB) StaleAgainst(now Files) string { return staleReason(d.mode, d.files, now) }

func staleReason(mode Mode, then, now Files) string {
	switch {
	case !now.DB.Exists:
		return "database file removed"
	case now.DB.ID != then.DB.ID:
		return "database file replaced"
	}
	switch mode {
	case ModeSnapshot:
		switch {
		case now.WAL.Exists:
			return "a writer opened the database (WAL file appeared)"
		case now.DB.Size != then.DB.Size || !now.DB.ModTime.Equal(then.DB.ModTime):
			return "database file written"
		}
	case ModeShared:
		switch {
		case !now.WAL.Exists || now.WAL.ID != then.WAL.ID:
			return "WAL file removed or replaced"
		case !now.SHM.Exists || now.SHM.ID != then.SHM.ID:
			return "WAL index (-shm) removed or replaced"
		}
	case ModeRollback:
		if now.WAL.Exists {
			return "database switched to WAL mode"
		}
	}
	return ""
}
