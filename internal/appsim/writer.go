package appsim

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"
)

// WriteReport is what a steady writer saw.
type WriteReport struct {
	Inserts    int           `json:"inserts"`     // models imported
	Errors     int           `json:"errors"`      // failed imports, of any kind
	Busy       int           `json:"busy"`        // failed imports whose error was SQLITE_BUSY or SQLITE_LOCKED
	FirstError string        `json:"first_error"` // the first failure's message
	P50        time.Duration `json:"p50_ns"`      // import latency percentiles
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
}

// WriteAtRate imports models at rate per second until ctx is done, and reports what happened.
// It does not catch up after a slow import: the next one starts at its own tick.
func (l *Library) WriteAtRate(ctx context.Context, rate float64) WriteReport {
	var rep WriteReport
	var lat []time.Duration
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			rep.summarize(lat)
			return rep
		case <-tick.C:
		}
		begin := time.Now()
		// The import itself is not cancelled: a real application finishes what it started.
		err := l.AddModel(context.WithoutCancel(ctx))
		lat = append(lat, time.Since(begin))
		if err == nil {
			rep.Inserts++
			continue
		}
		rep.Errors++
		if isBusy(err) {
			rep.Busy++
		}
		if rep.FirstError == "" {
			rep.FirstError = err.Error()
		}
	}
}

func (r *WriteReport) summarize(lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[min(int(q*float64(len(lat))), len(lat)-1)] }
	r.P50, r.P99, r.Max = at(0.50), at(0.99), lat[len(lat)-1]
}

// isBusy matches SQLite's "database is locked" and "database table is locked" by message, so
// that this file needs no cgo types.
func isBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "database is locked") || strings.Contains(s, "database table is locked")
}

// Main runs the appsim command line and returns its exit code:
//
//	appsim create -library PATH [-models N] [-searches N] [-cache PATH -cache-entries N]
//	appsim write  -library PATH [-rate 100] [-duration 10s] [-busy-timeout 30s] [-wal-autocheckpoint N]
//	appsim lock   -db PATH [-hold 30s] [-wal]
//
// write prints "ready" once its connection is open, then a JSON WriteReport when it stops
// (after -duration, on SIGINT, or when its standard input closes). lock prints "locked" once it
// holds an EXCLUSIVE lock and releases it after -hold.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: appsim create|write|lock [flags]")
		return 2
	}
	var err error
	switch args[0] {
	case "create":
		err = runCreate(args[1:], stderr)
	case "write":
		err = runWrite(args[1:], stdin, stdout, stderr)
	case "lock":
		err = runLock(args[1:], stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q: want create, write or lock", args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "appsim:", err)
		return 1
	}
	return 0
}

func runCreate(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	library := fs.String("library", "", "path of the library database to create")
	models := fs.Int("models", 1000, "number of models")
	searches := fs.Int("searches", 0, "rows of search_history (0: the table is not created)")
	cache := fs.String("cache", "", "path of a cache database to create as well")
	entries := fs.Int("cache-entries", 100, "entries of the cache database")
	seed := fs.Uint64("seed", 1, "seed of the generated names and sizes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *library == "" {
		return fmt.Errorf("create: -library is required")
	}
	if err := CreateLibrary(*library, LibraryOptions{Models: *models, Searches: *searches, Seed: *seed}); err != nil {
		return err
	}
	if *cache != "" {
		return CreateCache(*cache, CacheOptions{Entries: *entries, Seed: *seed})
	}
	return nil
}

func runWrite(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("write", flag.ContinueOnError)
	fs.SetOutput(stderr)
	library := fs.String("library", "", "path of an existing library database")
	rate := fs.Float64("rate", 100, "imports per second")
	duration := fs.Duration("duration", 0, "how long to write (0: until SIGINT or end of standard input)")
	busy := fs.Duration("busy-timeout", 30*time.Second, "SQLite busy timeout of the writer (the application's is 30s)")
	seed := fs.Uint64("seed", 2, "seed of the generated names and sizes")
	autockpt := fs.Int("wal-autocheckpoint", -1, "PRAGMA wal_autocheckpoint pages (0: never checkpoint; -1: SQLite's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *library == "" || *rate <= 0 {
		return fmt.Errorf("write: -library and a positive -rate are required")
	}
	lib, err := OpenLibrary(*library, *busy, *seed)
	if err != nil {
		return err
	}
	if *autockpt >= 0 {
		if err := lib.SetWALAutocheckpoint(*autockpt); err != nil {
			lib.Close()
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	if stdin != nil && *duration == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() { io.Copy(io.Discard, stdin); cancel() }() //nolint:errcheck // any end of input stops the writer
	}
	fmt.Fprintln(stdout, "ready")
	rep := lib.WriteAtRate(ctx, *rate)
	if err := lib.Close(); err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(rep)
}

func runLock(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("db", "", "path of an existing database")
	hold := fs.Duration("hold", 30*time.Second, "how long to hold the lock")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("lock: -db is required")
	}
	release, err := HoldExclusiveLock(context.Background(), *path)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "locked")
	time.Sleep(*hold)
	return release()
}

// HoldExclusiveLock takes an EXCLUSIVE lock on the database at path, as a program that
// locked the library would, and returns the function that releases it. Readers and writers
// get SQLITE_BUSY meanwhile.
func HoldExclusiveLock(ctx context.Context, path string) (release func() error, err error) {
	// locking_mode=EXCLUSIVE makes a WAL-mode writer take and keep the EXCLUSIVE lock on the
	// database file that a rollback-mode writer takes at BEGIN EXCLUSIVE; readers of either
	// then get SQLITE_BUSY.
	db, err := sql.Open("sqlite3", "file:"+path+"?_locking_mode=EXCLUSIVE&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	fail := func(err error) (func() error, error) {
		conn.Close()
		db.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return fail(err)
	}
	// A write makes the lock real in WAL mode too.
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS appsim_lock(x); DROP TABLE appsim_lock"); err != nil {
		return fail(err)
	}
	return func() error {
		_, err := conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		db.Close()
		if err != nil {
			return fmt.Errorf("unlock %s: %w", path, err)
		}
		return nil
	}, nil
}
