package fleet

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/applog/logsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
)

// AppName is the name the application's executable has on a workstation; the simulator
// runs as the application when started under it.
const AppName = "candy_cadence"

// appVersion is what the simulated application reports in its records.
const appVersion = "1.4.2-sim"

// app is one running application: its databases, its log, the faults it is carrying out.
type app struct {
	layout  Layout
	rng     *rand.Rand
	rate    float64 // user operations per second
	leak    int     // bytes of memory leaked per second under memory-leak
	leakMax int     // bytes past which memory-leak stops leaking

	lib   *appsim.Library
	cache *sql.DB

	lookups int // cache lookups so far
	missAt  int // the lookup of the current ten that misses

	logMu sync.Mutex
	log   *logsim.Writer
	seq   int

	hung       atomic.Bool
	slowSearch atomic.Bool
	leaking    atomic.Bool
	resume     chan struct{} // closed and replaced when a hang ends
	resumeMu   sync.Mutex

	leaked      [][]byte // memory held on purpose under memory-leak
	leakedBytes int      // the sum of leaked's lengths
}

// DefaultLeakBytesPerSecond is how fast memory-leak grows the application's resident memory
// unless told otherwise: about 7 GiB an hour, as a bad leak does.
const DefaultLeakBytesPerSecond = 2 << 20

// RunApp is the simulated application process. It reads commands on stdin, one a line:
// "fault <name>" and "clear <name>" for the faults the application carries out itself,
// "close" to close as the user does (also at the end of stdin).
func RunApp(args []string, stdin io.Reader, stderr io.Writer) int {
	fs := flag.NewFlagSet(AppName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("workstation", "", "the workstation's directory")
	seed := fs.Uint64("seed", 1, "seed of the user's behaviour")
	rate := fs.Float64("rate", 2, "user operations per second")
	leak := fs.Int("leak-bytes-per-second", DefaultLeakBytesPerSecond, "memory leaked per second under memory-leak")
	leakMax := fs.Int("leak-max-bytes", 1792<<20, "memory-leak stops leaking past this, so that it never takes the machine down")
	crashAfter := fs.Duration("crash-after", 0, "crash this long after start (crash-loop); 0: never")
	var faults []string
	fs.Func("fault", "a fault active from the start (repeatable)", func(s string) error {
		f, err := ParseFault(s)
		if err != nil {
			return err
		}
		if !isAppFault(f) {
			return fmt.Errorf("fault %s is not carried out by the application", f)
		}
		faults = append(faults, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || *rate <= 0 {
		fmt.Fprintln(stderr, "candy_cadence: -workstation and a positive -rate are required")
		return 2
	}
	a := &app{
		layout:  NewLayout(*dir),
		rng:     rand.New(rand.NewPCG(*seed, uint64(os.Getpid()))),
		rate:    *rate,
		leak:    *leak,
		leakMax: *leakMax,
		log:     logsim.New(NewLayout(*dir).LogDir, logsim.DefaultMaxBytes, logsim.DefaultKeep, nil),
		resume:  make(chan struct{}),
	}
	if err := a.open(); err != nil {
		a.record("CRITICAL", "src.main", "main", "Application failed to start: "+err.Error(), `"exception_type": "DatabaseConnectionError"`)
		fmt.Fprintln(stderr, "candy_cadence:", err)
		return 1
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	for _, f := range faults {
		a.command("fault " + f)
	}
	if *crashAfter > 0 {
		time.AfterFunc(*crashAfter, func() { a.crash(true) })
	}
	go a.leakLoop(ctx)
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			if sc.Text() == "close" {
				break
			}
			a.command(sc.Text())
		}
		stop()
	}()
	a.run(ctx)
	a.close()
	return 0
}

// open opens the databases as the application does at start-up; a missing library or cache
// is created anew, as the application's schema initialisation does.
func (a *app) open() error {
	a.record("INFO", "src.main", "main", "Application starting")
	if _, err := os.Stat(a.layout.Library); errors.Is(err, os.ErrNotExist) {
		if err := appsim.CreateLibrary(a.layout.Library, appsim.LibraryOptions{}); err != nil {
			return err
		}
	}
	lib, err := appsim.OpenLibrary(a.layout.Library, 30*time.Second, a.rng.Uint64())
	if err != nil {
		return err
	}
	a.lib = lib
	if _, err := os.Stat(a.layout.Cache); errors.Is(err, os.ErrNotExist) {
		if err := appsim.CreateCache(a.layout.Cache, appsim.CacheOptions{}); err != nil {
			return err
		}
	}
	a.cache, err = sql.Open("sqlite3", "file:"+a.layout.Cache+"?_busy_timeout=30000")
	if err != nil {
		return err
	}
	a.cache.SetMaxOpenConns(1)
	a.record("INFO", "src.core.database_manager", "initialize_schema", "Database initialized")
	d := a.duration(0.4, 0.3, 3)
	time.Sleep(d)
	a.record("INFO", "src.gui.main_window", "_init_geometry", fmt.Sprintf("Window geometry initialized in %.3fs", d.Seconds()))
	return nil
}

// close is the user closing the main window: the two INFO records the application logs
// around its shutdown, with the databases closed in between.
func (a *app) close() {
	a.record("INFO", "src.gui.main_window", "closeEvent", "Application closing")
	a.lib.Close()
	a.cache.Close()
	a.record("INFO", "src.main", "main", "Application closed")
	a.log.Close()
}

// command carries out one line of the control protocol; unknown lines are ignored, since
// the workstation checked them before sending.
func (a *app) command(line string) {
	verb, name, _ := strings.Cut(line, " ")
	f, err := ParseFault(name)
	if err != nil || !isAppFault(f) {
		return
	}
	on := verb == "fault"
	switch f {
	case FaultCrash:
		if on {
			a.crash(true)
		}
	case FaultCrashSilent:
		if on {
			a.crash(false)
		}
	case FaultHang:
		a.setHung(on)
	case FaultSlowSearch:
		a.slowSearch.Store(on)
	case FaultMemoryLeak:
		a.leaking.Store(on)
	case FaultErrorBurst:
		if on {
			go a.errorBurst()
		}
	}
}

// crash ends the process at once: after the global exception hook's CRITICAL record when
// logged, without any record otherwise (as a native crash or a kill does).
func (a *app) crash(logged bool) {
	if logged {
		a.record("CRITICAL", "src.core.exception_handler", "handle_exception",
			"Unhandled exception: 'NoneType' object has no attribute 'GetRenderWindow'",
			`"exception_type": "AttributeError"`,
			`"exception": {"type": "AttributeError", "message": "'NoneType' object has no attribute 'GetRenderWindow'", "traceback": ["Traceback (most recent call last):\n", "  File \"src\\gui\\viewer_widget.py\", line 412, in _render\n", "AttributeError: 'NoneType' object has no attribute 'GetRenderWindow'\n"]}`)
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill() // no deferred function, no flush: as abrupt as a real crash
	}
	os.Exit(134)
}

func (a *app) setHung(on bool) {
	a.resumeMu.Lock()
	defer a.resumeMu.Unlock()
	if a.hung.Swap(on) && !on {
		close(a.resume)
		a.resume = make(chan struct{})
	}
}

// waitWhileHung blocks while the application hangs: operations stall and nothing is logged.
func (a *app) waitWhileHung(ctx context.Context) {
	for a.hung.Load() {
		a.resumeMu.Lock()
		ch := a.resume
		a.resumeMu.Unlock()
		if !a.hung.Load() {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if a.hung.Load() {
				// A hung application does not close: only a kill ends it.
				<-ch
			}
			return
		}
	}
}

// errorBurst logs the same error 40 times over about 20 seconds: a folder of models on a
// share that went away, opened one by one.
func (a *app) errorBurst() {
	for i := range 40 {
		path := fmt.Sprintf(`\\\\nas\\models\\batch-%02d\\part-%03d.stl`, i/10, i)
		a.record("ERROR", "src.core.model_loader", "load_model", "Error in load_model: model file not found: "+path,
			`"custom_error_type": "FileNotFoundException"`)
		time.Sleep(500 * time.Millisecond)
	}
}

func (a *app) leakLoop(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !a.leaking.Load() || a.leakedBytes >= a.leakMax {
			continue
		}
		a.leakedBytes += a.leak / 4
		b := make([]byte, a.leak/4)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // touch every page so that it is resident
		}
		a.leaked = append(a.leaked, b)
	}
}

// run is the user at work: searches, model views (served by the cache or parsed), imports,
// with think time in between, until the application is closed.
func (a *app) run(ctx context.Context) {
	for n := 0; ctx.Err() == nil; n++ {
		a.waitWhileHung(ctx)
		if ctx.Err() != nil {
			return
		}
		if a.slowSearch.Load() {
			a.search(ctx, true)
			continue
		}
		switch p := a.rng.Float64(); {
		case p < 0.25:
			a.search(ctx, false)
		case p < 0.85:
			a.view(ctx)
		default:
			a.importModel(ctx)
		}
		// Occasionally a file in the user's collection is broken: errors stay well under
		// the error-rate thresholds in normal work.
		if n%400 == 399 {
			a.record("ERROR", "src.parsers.stl_parser", "parse", "Failed to parse C:\\Users\\maker\\Models\\broken.stl",
				`"exception": {"type": "CorruptedFileError", "message": "unexpected end of file", "traceback": []}`)
		}
		think := time.Duration(a.rng.ExpFloat64() / a.rate * float64(time.Second))
		select {
		case <-ctx.Done():
		case <-time.After(think):
		}
	}
}

// search runs a full-text search on the library and logs its duration; under slow-search it
// takes 5.5 to 9 seconds.
func (a *app) search(ctx context.Context, slow bool) {
	terms := []string{"gear", "bracket", "vase", "part", "dragon", "mount", "case", "hinge"}
	q := terms[a.rng.IntN(len(terms))]
	d := a.duration(0.12, 0.7, 4)
	if slow {
		d = time.Duration((5.5 + 3.5*a.rng.Float64()) * float64(time.Second))
	}
	start := time.Now()
	var results int
	err := a.lib.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM models_fts WHERE models_fts MATCH ?`, q+"*").Scan(&results)
	if err == nil {
		_, err = a.lib.DB().ExecContext(ctx, `INSERT INTO search_history (query, filters, result_count) VALUES (?, NULL, ?)`, q, results)
	}
	if err != nil {
		a.dbError(ctx, "search", err)
		return
	}
	time.Sleep(d - time.Since(start))
	a.record("INFO", "src.core.search_engine", "search", fmt.Sprintf("Search completed in %.3fs: %d results", max(time.Since(start), d).Seconds(), results))
}

// view opens a model: a cache lookup (memory, then disk), then a load from the cache or a
// parse of the file, and the view count in the library.
func (a *app) view(ctx context.Context) {
	id := 1 + a.rng.IntN(1000)
	path := fmt.Sprintf(`C:\\Users\\maker\\Models\\project-%02d\\part_%07d.stl`, id%37, id)
	hit := a.lookup()
	switch {
	case !hit:
		a.record("DEBUG", "src.core.model_cache", "get", "Cache miss: "+path)
	case a.rng.Float64() < 0.55/0.9: // 55% of all lookups hit in memory, 35% on disk
		a.record("DEBUG", "src.core.model_cache", "get", "Cache hit (memory): "+path)
	default:
		a.record("DEBUG", "src.core.model_cache", "get", "Cache hit (disk): "+path)
	}
	if hit {
		d := a.duration(0.03, 0.5, 1)
		time.Sleep(d)
		_, err := a.cache.ExecContext(ctx, `UPDATE cache_entries SET access_count = access_count + 1, last_access_time = ? WHERE rowid = ?`,
			float64(time.Now().UnixNano())/1e9, id)
		if err != nil {
			a.dbError(ctx, "get", err)
			return
		}
		a.record("INFO", "src.core.model_loader", "load_model", "Loaded "+path+" from cache",
			`"operation": "cache_hit"`, fmt.Sprintf(`"duration": %.4f`, d.Seconds()))
	} else {
		a.parse(path)
	}
	_, err := a.lib.DB().ExecContext(ctx, `UPDATE model_metadata SET view_count = view_count + 1, last_viewed = CURRENT_TIMESTAMP WHERE model_id = ?`, id)
	if err != nil {
		a.dbError(ctx, "update_view_count", err)
	}
}

// lookup tells whether the next cache lookup hits. A warm cache: one lookup in every ten
// misses, at a random place in its ten, so any ten lookups in a row hold at most two misses.
// Drawn one by one (a 90% chance each), the ten or twenty lookups a short run's hour holds
// fell below the 70% alert threshold by chance now and then (a calm workstation's
// CandyCadenceCacheHitRatioLow in make e2e).
func (a *app) lookup() bool {
	i := a.lookups % 10
	if i == 0 {
		a.missAt = a.rng.IntN(10)
	}
	a.lookups++
	return i != a.missAt
}

func (a *app) parse(path string) {
	d := a.duration(0.3, 0.8, 4)
	time.Sleep(d)
	a.record("INFO", "src.parsers.stl_parser", "parse", "Successfully parsed "+path,
		`"operation": "parse_success"`, fmt.Sprintf(`"file_size": %d`, 20000+a.rng.IntN(8<<20)),
		fmt.Sprintf(`"duration_ms": %.1f`, d.Seconds()*1000))
}

// importModel adds a model to the library after parsing it.
func (a *app) importModel(ctx context.Context) {
	a.parse(fmt.Sprintf(`C:\\Users\\maker\\Downloads\\new_part_%05d.stl`, a.rng.IntN(100000)))
	if err := a.lib.AddModel(ctx); err != nil {
		a.dbError(ctx, "add_model", err)
		return
	}
	a.record("INFO", "src.core.database_manager", "add_model", "Model added to library")
}

// dbError logs a failed query as the application's decorated functions do, with the class
// name of the sqlite3 exception Python would have raised. A query that the user's closing of
// the application cut short is not an error: whatever the driver returned then (a cancelled
// statement, or sql.ErrTxDone from a transaction it rolled back mid-import) is not logged.
func (a *app) dbError(ctx context.Context, function string, err error) {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return
	}
	// Python raises DatabaseError for SQLITE_CORRUPT and SQLITE_NOTADB, OperationalError for
	// the rest of what a query meets here (locked, busy, I/O, missing table).
	typ := "OperationalError"
	if msg := err.Error(); strings.Contains(msg, "malformed") || strings.Contains(msg, "not a database") {
		typ = "DatabaseError"
	}
	a.record("ERROR", "src.core.database_manager", function, "Error in "+function+": "+err.Error(),
		fmt.Sprintf(`"custom_error_type": %q`, typ))
}

// duration draws an operation's duration from a log-normal distribution with the given
// median (seconds) and shape, capped: operation times are skewed, with a long tail.
func (a *app) duration(median, sigma, capSeconds float64) time.Duration {
	s := median * math.Exp(sigma*a.rng.NormFloat64())
	return time.Duration(min(s, capSeconds) * float64(time.Second))
}

// record writes one JSON line as the application's JSON formatter does. extras are
// ready-made `"key": value` members.
func (a *app) record(level, logger, function, message string, extras ...string) {
	a.logMu.Lock()
	defer a.logMu.Unlock()
	a.seq++
	msg, _ := json.Marshal(message)
	module := logger[strings.LastIndex(logger, ".")+1:]
	var b strings.Builder
	fmt.Fprintf(&b, `{"timestamp": "%s", "level": "%s", "logger": "%s", "function": "%s", "line": %d, "message": %s, "module": "%s", "thread": 140234567890, "process": %d, "app_version": "%s", "correlation_id": "%08x"`,
		time.Now().Format("2006-01-02T15:04:05.000000"), level, logger, function, 100+a.seq%900, msg, module, os.Getpid(), appVersion, uint32(a.seq)*2654435761)
	for _, e := range extras {
		b.WriteString(", ")
		b.WriteString(e)
	}
	b.WriteString("}")
	// A log directory that vanished makes Python's logging print an error and go on; so does
	// the simulated application.
	_, _ = a.log.Write(level, []byte(b.String()))
}

// appArgs is the command line the workstation starts the application with.
func appArgs(dir string, seed uint64, rate float64, leak int, faults []Fault, crashAfter time.Duration) []string {
	args := []string{"-workstation", dir, "-seed", strconv.FormatUint(seed, 10), "-rate", strconv.FormatFloat(rate, 'f', -1, 64)}
	if leak > 0 {
		args = append(args, "-leak-bytes-per-second", strconv.Itoa(leak))
	}
	for _, f := range faults {
		args = append(args, "-fault", string(f))
	}
	if crashAfter > 0 {
		args = append(args, "-crash-after", crashAfter.String())
	}
	return args
}
