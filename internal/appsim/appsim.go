// Package appsim builds and writes Candy-Cadence databases the way the application does, so that
// tests and benchmarks read real files: the library (3dmm.db) with the schema of the
// application's DatabaseOperations and SearchEngine (tables, indexes, migrations, the five
// seeded categories, FTS5 tables and their triggers) in WAL mode, and the model cache (cache.db).
//
// The API is small:
//   - CreateLibrary and CreateCache make new databases holding N rows;
//   - OpenLibrary returns a Library, a writer connection configured as the application's;
//     Library.AddModel imports one model and Library.WriteAtRate keeps importing at a steady rate;
//   - Main is a command line (create, write, lock) so that a test can run a writer in another
//     process: cmd/appsim wraps it, and a test binary can re-exec itself into it.
//
// FTS5 must be compiled into SQLite: build with -tags sqlite_fts5 (the Makefile does).
package appsim

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// FormatShare is one model format and its weight in a generated library.
type FormatShare struct {
	Format string
	Weight int
}

// DefaultFormats are the formats the application imports, weighted like a typical library.
var DefaultFormats = []FormatShare{{"stl", 60}, {"obj", 20}, {"3mf", 12}, {"step", 8}}

// Categories are the five categories the application seeds, with their description, colour
// and sort order.
var Categories = []struct {
	Name, Description, Color string
	SortOrder                int
}{
	{"Characters", "Character models", "#FF6B6B", 0},
	{"Buildings", "Architecture and structures", "#4ECDC4", 1},
	{"Vehicles", "Cars, planes, ships", "#45B7D1", 2},
	{"Nature", "Plants, animals, landscapes", "#96CEB4", 3},
	{"Objects", "Miscellaneous objects", "#FFEAA7", 4},
}

// LibraryOptions describe a library to create.
type LibraryOptions struct {
	Models  int           // number of models, each with its metadata row
	Formats []FormatShare // nil means DefaultFormats
	// Searches, when positive, creates the lazily created search_history and saved_searches
	// tables with that many rows (and a tenth as many saved searches, at least one).
	Searches int
	// Newest is the date_added of the last model; the models before it are one second apart.
	// Zero means 2025-01-01 00:00:00 UTC.
	Newest time.Time
	Seed   uint64 // seed of the generator of names, sizes and hashes
}

// DefaultNewest is the date_added of the newest model when LibraryOptions.Newest is zero.
var DefaultNewest = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// sqliteTime is how SQLite's CURRENT_TIMESTAMP writes a time (UTC).
const sqliteTime = "2006-01-02 15:04:05"

// schema is the application's DatabaseOperations.initialize_schema: the models table as first
// created, then its migrations, which is how every installed library got its columns.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS models (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		filename TEXT NOT NULL,
		format TEXT NOT NULL,
		file_path TEXT NOT NULL,
		file_size INTEGER,
		file_hash TEXT,
		thumbnail_path TEXT,
		date_added DATETIME DEFAULT CURRENT_TIMESTAMP,
		last_modified DATETIME DEFAULT CURRENT_TIMESTAMP
	)`,
	`CREATE TABLE IF NOT EXISTS model_metadata (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		model_id INTEGER REFERENCES models(id),
		title TEXT,
		description TEXT,
		keywords TEXT,
		category TEXT,
		source TEXT,
		rating INTEGER CHECK(rating >= 0 AND rating <= 5),
		view_count INTEGER DEFAULT 0,
		last_viewed DATETIME DEFAULT CURRENT_TIMESTAMP,
		camera_position_x REAL,
		camera_position_y REAL,
		camera_position_z REAL,
		camera_focal_x REAL,
		camera_focal_y REAL,
		camera_focal_z REAL,
		camera_view_up_x REAL,
		camera_view_up_y REAL,
		camera_view_up_z REAL,
		UNIQUE(model_id)
	)`,
	`CREATE TABLE IF NOT EXISTS categories (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT NOT NULL UNIQUE,
		description TEXT,
		color TEXT,
		icon TEXT,
		sort_order INTEGER DEFAULT 0
	)`,
	`CREATE TABLE IF NOT EXISTS projects (
		id TEXT PRIMARY KEY,
		name TEXT UNIQUE NOT NULL,
		base_path TEXT,
		import_tag TEXT,
		original_path TEXT,
		structure_type TEXT,
		import_date DATETIME,
		created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
		updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
	)`,
	`CREATE TABLE IF NOT EXISTS files (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		project_id TEXT NOT NULL,
		file_path TEXT NOT NULL,
		file_name TEXT NOT NULL,
		file_size INTEGER,
		file_hash TEXT,
		status TEXT DEFAULT 'pending',
		link_type TEXT,
		original_path TEXT,
		created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
		updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
		FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE
	)`,
	`CREATE INDEX IF NOT EXISTS idx_models_filename ON models(filename)`,
	`CREATE INDEX IF NOT EXISTS idx_models_format ON models(format)`,
	`CREATE INDEX IF NOT EXISTS idx_models_file_hash ON models(file_hash)`,
	`CREATE INDEX IF NOT EXISTS idx_models_thumbnail_path ON models(thumbnail_path)`,
	`CREATE INDEX IF NOT EXISTS idx_metadata_category ON model_metadata(category)`,
	`CREATE INDEX IF NOT EXISTS idx_projects_name ON projects(name)`,
	`CREATE INDEX IF NOT EXISTS idx_projects_import_tag ON projects(import_tag)`,
	`CREATE INDEX IF NOT EXISTS idx_files_project_id ON files(project_id)`,
	`CREATE INDEX IF NOT EXISTS idx_files_status ON files(status)`,
	`CREATE INDEX IF NOT EXISTS idx_files_file_hash ON files(file_hash)`,
	// Migration 4: deduplication links.
	`ALTER TABLE models ADD COLUMN linked_model_id INTEGER REFERENCES models(id)`,
	`CREATE INDEX IF NOT EXISTS idx_models_linked_model_id ON models(linked_model_id)`,
}

// ftsSchema is the application's SearchEngine._initialize_fts_tables and _create_fts_triggers.
var ftsSchema = []string{
	`CREATE VIRTUAL TABLE IF NOT EXISTS models_fts USING fts5(
		filename, format, file_path, content='models', content_rowid='id')`,
	`CREATE VIRTUAL TABLE IF NOT EXISTS model_metadata_fts USING fts5(
		title, description, keywords, category, source, content='model_metadata', content_rowid='model_id')`,
	`CREATE TRIGGER IF NOT EXISTS models_ai AFTER INSERT ON models BEGIN
		INSERT INTO models_fts(rowid, filename, format, file_path)
		VALUES (new.id, new.filename, new.format, new.file_path);
	END`,
	`CREATE TRIGGER IF NOT EXISTS models_ad AFTER DELETE ON models BEGIN
		INSERT INTO models_fts(models_fts, rowid, filename, format, file_path)
		VALUES ('delete', old.id, old.filename, old.format, old.file_path);
	END`,
	`CREATE TRIGGER IF NOT EXISTS models_au AFTER UPDATE ON models BEGIN
		INSERT INTO models_fts(models_fts, rowid, filename, format, file_path)
		VALUES ('delete', old.id, old.filename, old.format, old.file_path);
		INSERT INTO models_fts(rowid, filename, format, file_path)
		VALUES (new.id, new.filename, new.format, new.file_path);
	END`,
	`CREATE TRIGGER IF NOT EXISTS model_metadata_ai AFTER INSERT ON model_metadata BEGIN
		INSERT INTO model_metadata_fts(rowid, title, description, keywords, category, source)
		VALUES (new.model_id, new.title, new.description, new.keywords, new.category, new.source);
	END`,
	`CREATE TRIGGER IF NOT EXISTS model_metadata_ad AFTER DELETE ON model_metadata BEGIN
		INSERT INTO model_metadata_fts(model_metadata_fts, rowid, title, description, keywords, category, source)
		VALUES ('delete', old.model_id, old.title, old.description, old.keywords, old.category, old.source);
	END`,
	`CREATE TRIGGER IF NOT EXISTS model_metadata_au AFTER UPDATE ON model_metadata BEGIN
		INSERT INTO model_metadata_fts(model_metadata_fts, rowid, title, description, keywords, category, source)
		VALUES ('delete', old.model_id, old.title, old.description, old.keywords, old.category, old.source);
		INSERT INTO model_metadata_fts(rowid, title, description, keywords, category, source)
		VALUES (new.model_id, new.title, new.description, new.keywords, new.category, new.source);
	END`,
}

var searchSchema = []string{
	`CREATE TABLE IF NOT EXISTS search_history (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		query TEXT NOT NULL,
		filters TEXT,
		result_count INTEGER,
		timestamp DATETIME DEFAULT CURRENT_TIMESTAMP
	)`,
	`CREATE TABLE IF NOT EXISTS saved_searches (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT UNIQUE NOT NULL,
		query TEXT NOT NULL,
		filters TEXT,
		created_at DATETIME DEFAULT CURRENT_TIMESTAMP
	)`,
}

// appDSN opens path as the application's DatabaseOperations.get_connection does: foreign keys
// on, WAL, synchronous NORMAL, a 10000-page cache, temporary tables in memory. busyTimeout is
// Python's sqlite3.connect timeout (30 s in the application).
func appDSN(path string, busyTimeout time.Duration, wal bool) string {
	q := url.Values{}
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "NORMAL")
	q.Set("_cache_size", "10000")
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	if wal {
		q.Set("_journal_mode", "WAL")
	}
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// ErrNoFTS5 means SQLite was built without FTS5, which the application's schema needs.
var ErrNoFTS5 = errors.New("SQLite lacks FTS5: build with -tags sqlite_fts5 (make test does)")

// CheckFTS5 returns ErrNoFTS5 when this build's SQLite cannot create the application's FTS5
// tables, so that tests needing a library can skip with that message instead of failing.
func CheckFTS5() error {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE VIRTUAL TABLE probe USING fts5(a)`); err != nil {
		if strings.Contains(err.Error(), "no such module: fts5") {
			return ErrNoFTS5
		}
		return err
	}
	return nil
}

// CreateLibrary creates a new library database at path (which must not exist) holding
// opts.Models models. It returns with the database closed, as the application leaves it when it
// exits: no -wal or -shm beside it.
func CreateLibrary(path string, opts LibraryOptions) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("create library %s: file exists", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create library %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", appDSN(path, 30*time.Second, true))
	if err != nil {
		return fmt.Errorf("create library %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := createLibrary(db, opts); err != nil {
		db.Close()
		return fmt.Errorf("create library %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close library %s: %w", path, err)
	}
	return nil
}

func createLibrary(db *sql.DB, opts LibraryOptions) error {
	if err := execAll(db, schema); err != nil {
		return err
	}
	for _, c := range Categories {
		if _, err := db.Exec(`INSERT OR IGNORE INTO categories (name, description, color, sort_order) VALUES (?, ?, ?, ?)`,
			c.Name, c.Description, c.Color, c.SortOrder); err != nil {
			return err
		}
	}
	if err := execAll(db, ftsSchema); err != nil {
		if strings.Contains(err.Error(), "no such module: fts5") {
			return ErrNoFTS5
		}
		return err
	}
	if opts.Searches > 0 {
		if err := execAll(db, searchSchema); err != nil {
			return err
		}
		if err := addSearches(db, opts.Searches); err != nil {
			return err
		}
	}
	return addModels(db, opts)
}

func execAll(db *sql.DB, stmts []string) error {
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			return fmt.Errorf("%w in %.60q", err, s)
		}
	}
	return nil
}

// batch is how many models one transaction of CreateLibrary inserts.
const batch = 5000

func addModels(db *sql.DB, opts LibraryOptions) error {
	newest := opts.Newest
	if newest.IsZero() {
		newest = DefaultNewest
	}
	gen := newGenerator(opts.Seed, opts.Formats)
	first := newest.Add(-time.Duration(max(opts.Models-1, 0)) * time.Second)
	for start := 0; start < opts.Models; start += batch {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		for i := start; i < min(start+batch, opts.Models); i++ {
			m := gen.model(i)
			added := first.Add(time.Duration(i) * time.Second).UTC().Format(sqliteTime)
			if err := insertModel(tx, m, added); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// model is one generated model and its metadata.
type model struct {
	filename, format, path, hash, title, category string
	size                                          int64
	rating                                        int
}

type generator struct {
	rng     *rand.Rand
	formats []FormatShare
	total   int
}

func newGenerator(seed uint64, formats []FormatShare) *generator {
	if len(formats) == 0 {
		formats = DefaultFormats
	}
	total := 0
	for _, f := range formats {
		total += f.Weight
	}
	return &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), formats: formats, total: total}
}

func (g *generator) format() string {
	n := g.rng.IntN(g.total)
	for _, f := range g.formats {
		if n < f.Weight {
			return f.Format
		}
		n -= f.Weight
	}
	return g.formats[len(g.formats)-1].Format
}

func (g *generator) model(i int) model {
	format := g.format()
	category := Categories[g.rng.IntN(len(Categories))].Name
	name := fmt.Sprintf("part_%07d", i)
	return model{
		filename: name + "." + strings.ToLower(format),
		format:   format,
		path:     fmt.Sprintf("C:/Users/maker/Models/%s/%s.%s", category, name, strings.ToLower(format)),
		hash:     fmt.Sprintf("%016x%016x", g.rng.Uint64(), g.rng.Uint64()),
		title:    strings.ReplaceAll(name, "_", " "),
		category: category,
		size:     1024 + g.rng.Int64N(50<<20),
		rating:   g.rng.IntN(6),
	}
}

// execer is a transaction or a connection.
type execer interface {
	Exec(query string, args ...any) (sql.Result, error)
}

// insertModel imports one model as the application's repositories do: the model row (its
// trigger fills models_fts), then its metadata row (which fills model_metadata_fts). An empty
// added means CURRENT_TIMESTAMP, the column's default.
func insertModel(tx execer, m model, added string) error {
	var res sql.Result
	var err error
	if added == "" {
		res, err = tx.Exec(`INSERT INTO models (filename, format, file_path, file_size, file_hash, last_modified)
			VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP)`, m.filename, m.format, m.path, m.size, m.hash)
	} else {
		res, err = tx.Exec(`INSERT INTO models (filename, format, file_path, file_size, file_hash, date_added, last_modified)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, m.filename, m.format, m.path, m.size, m.hash, added, added)
	}
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO model_metadata (model_id, title, keywords, category, source, rating)
		VALUES (?, ?, ?, ?, 'import', ?)`, id, m.title, m.format+","+strings.ToLower(m.category), m.category, m.rating)
	return err
}

func addSearches(db *sql.DB, n int) error {
	for i := range n {
		if _, err := db.Exec(`INSERT INTO search_history (query, filters, result_count) VALUES (?, NULL, ?)`,
			fmt.Sprintf("part %d", i), i%50); err != nil {
			return err
		}
	}
	for i := range max(n/10, 1) {
		if _, err := db.Exec(`INSERT INTO saved_searches (name, query, filters) VALUES (?, ?, '{"format": "stl"}')`,
			fmt.Sprintf("saved %d", i), fmt.Sprintf("part %d", i)); err != nil {
			return err
		}
	}
	return nil
}

// CacheLevels are the application's ModelCache levels.
var CacheLevels = []string{"metadata", "geometry_low", "geometry_full"}

// CacheOptions describe a model cache database to create.
type CacheOptions struct {
	Entries int
	Seed    uint64
}

// CreateCache creates the application's model cache database (cache.db) at path with
// opts.Entries entries spread over the cache levels. Like the application's ModelCache it uses
// SQLite's default rollback journal.
func CreateCache(path string, opts CacheOptions) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("create cache %s: file exists", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create cache %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", appDSN(path, 5*time.Second, false))
	if err != nil {
		return fmt.Errorf("create cache %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	err = execAll(db, []string{
		`CREATE TABLE IF NOT EXISTS cache_entries (
			file_path TEXT PRIMARY KEY,
			file_hash TEXT NOT NULL,
			cache_level TEXT NOT NULL,
			data BLOB NOT NULL,
			size_bytes INTEGER NOT NULL,
			access_count INTEGER DEFAULT 1,
			last_access_time REAL NOT NULL,
			creation_time REAL NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS idx_file_hash ON cache_entries(file_hash)`,
		`CREATE INDEX IF NOT EXISTS idx_cache_level ON cache_entries(cache_level)`,
	})
	if err != nil {
		return fmt.Errorf("create cache %s: %w", path, err)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed+1))
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	now := float64(DefaultNewest.Unix())
	for i := range opts.Entries {
		level := CacheLevels[i%len(CacheLevels)]
		size := 512 + rng.Int64N(8<<20)
		if _, err := tx.Exec(`INSERT OR REPLACE INTO cache_entries
			(file_path, file_hash, cache_level, data, size_bytes, access_count, last_access_time, creation_time)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			fmt.Sprintf("C:/Users/maker/Models/part_%07d.stl:%s", i, level), fmt.Sprintf("%032x", rng.Uint64()),
			level, []byte{0x80, 0x05, byte(i)}, size, 1+rng.IntN(20), now, now-float64(i)); err != nil {
			tx.Rollback()
			return fmt.Errorf("create cache %s: %w", path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create cache %s: %w", path, err)
	}
	return db.Close()
}

// Library is a writer connection to a library, configured as the application's connections.
type Library struct {
	db  *sql.DB
	gen *generator
	n   int
}

// OpenLibrary opens an existing library for writing. busyTimeout is how long a write waits for
// a lock before it fails with SQLITE_BUSY: the application waits 30 s; tests that must see
// every conflict use 0.
func OpenLibrary(path string, busyTimeout time.Duration, seed uint64) (*Library, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open library %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", appDSN(path, busyTimeout, true))
	if err != nil {
		return nil, fmt.Errorf("open library %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open library %s: %w", path, err)
	}
	return &Library{db: db, gen: newGenerator(seed, nil)}, nil
}

// AddModel imports one model (its row and its metadata row, in one transaction) with the
// current time as date_added.
func (l *Library) AddModel(ctx context.Context) error {
	m := l.gen.model(l.n)
	m.filename = "live_" + m.filename
	l.n++
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := insertModel(tx, m, ""); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// SetWALAutocheckpoint sets PRAGMA wal_autocheckpoint (0 disables checkpoints, so that the WAL
// grows without bound, as it does behind a long-running reader).
func (l *Library) SetWALAutocheckpoint(pages int) error {
	_, err := l.db.Exec("PRAGMA wal_autocheckpoint = " + strconv.Itoa(pages))
	return err
}

// Close closes the connection; as the last connection it checkpoints and removes the WAL.
func (l *Library) Close() error { return l.db.Close() }

// DB returns the writer's connection pool (one connection), for the other statements the
// application runs on it: searches, view counts, search history.
func (l *Library) DB() *sql.DB { return l.db }
