package dashboards

import (
	"bytes"
	"compress/gzip"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/applog/logsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/servertest"
)

// workstation is one simulated desktop: its application's files, the stand-in process of the
// application and the real exporter that reads them.
type simWorkstation struct {
	name     string // the application's process name, which only this exporter matches
	dir      string
	logDir   string
	library  string
	exporter string // address
	app      *exec.Cmd
	logs     *logsim.Writer
	seq      int
	mu       sync.Mutex // guards logs and seq
}

// startAppsimFleet starts three scrape targets:
//   - ws1 (site north) plays Running: a library of real models that grows, a cache, a
//     backup, the application running and logging at DEBUG (operations, cache lookups, model
//     loads, a malformed line now and then), closed cleanly once and opened again;
//   - ws2 (site south) plays DatabaseDown (its library is not a database: db_state says so), Errors and
//     AlertFiring (errors of several types, a performance alert, a critical MemoryError) and
//     Crash (the application exits right after the critical record);
//   - a third target (site south) where no exporter listens plays ExporterDown.
func startAppsimFleet(t *testing.T, dir string) liveFleet {
	t.Helper()
	exporter := buildExporter(t, dir)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command to stand in for the application's process")
	}

	ws1 := newSimWorkstation(t, dir, "candy_ws1")
	if err := appsim.CreateLibrary(ws1.library, appsim.LibraryOptions{Models: 500, Searches: 20, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	writeBackup(t, filepath.Join(filepath.Dir(ws1.library), "candy_cadence_backup_20261201_220000.db.gz"))
	ws1.start(t, exporter)

	ws2 := newSimWorkstation(t, dir, "candy_ws2")
	if err := os.WriteFile(ws2.library, bytes.Repeat([]byte("not a database "), 300), 0o644); err != nil {
		t.Fatal(err)
	}
	ws2.start(t, exporter)

	down := servertest.FreeAddress(t) // nothing listens there
	targets := []scrapeTarget{
		{ws1.exporter, map[string]string{"site": "north"}},
		{ws2.exporter, map[string]string{"site": "south"}},
		{down, map[string]string{"site": "south"}},
	}
	play := func(t *testing.T, prom *promAPI) map[Scenario]string {
		for _, ws := range []*simWorkstation{ws1, ws2} {
			prom.waitUntil(t, 60*time.Second, ws.name+"'s exporter is scraped", `up{instance="`+ws.exporter+`"} == 1`)
		}
		// The applications start after the exporters have seen them absent, so that their
		// starts count, and log for the rest of the run.
		ws1.startApp(t, sleep)
		ws2.startApp(t, sleep)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		t.Cleanup(func() { cancel(); wg.Wait() })
		wg.Add(3)
		go func() { defer wg.Done(); ws1.logBusyDesktop(ctx, true) }()
		go func() { defer wg.Done(); ws2.logBusyDesktop(ctx, false) }()
		go func() { defer wg.Done(); growLibrary(ctx, t, ws1.library) }()

		// Errors and the crash happen once the counters were scraped before them, so that
		// increase() sees them.
		prom.waitUntil(t, 60*time.Second, "ws2's application is seen running", `candy_cadence_up{instance="`+ws2.exporter+`"} == 1`)
		prom.waitUntil(t, 60*time.Second, "ws2's critical records are counted", `candy_cadence_log_messages_total{instance="`+ws2.exporter+`", level="critical"} == 0`)
		prom.waitUntil(t, 60*time.Second, "ws2's operations are counted", `candy_cadence_operation_duration_seconds_count{instance="`+ws2.exporter+`"} > 0`)
		ws2.logTroubles(t)
		prom.waitUntil(t, 60*time.Second, "ws2's critical record is counted", `candy_cadence_log_messages_total{instance="`+ws2.exporter+`", level="critical"} > 0`)
		ws2.crash(t)
		// ws1's user closes the application and opens it again: a clean close, and ws1 still
		// runs at the end.
		prom.waitUntil(t, 60*time.Second, "ws1's application is seen running", `candy_cadence_up{instance="`+ws1.exporter+`"} == 1`)
		ws1.closeCleanly(t)
		ws1.startApp(t, sleep)

		for what, expr := range map[string]string{
			"ws1 has operations in its mean":       `instance:candy_cadence_operation_duration_seconds:mean1h{instance="` + ws1.exporter + `"}`,
			"ws1 has a cache hit ratio":            `instance:candy_cadence_cache_hit:ratio_rate1h{instance="` + ws1.exporter + `"}`,
			"ws1's library is integrity checked":   `candy_cadence_db_integrity_ok{instance="` + ws1.exporter + `", db="library"}`,
			"ws1's models are counted":             `candy_cadence_library_models{instance="` + ws1.exporter + `"}`,
			"ws1's host CPU is recorded":           `instance:candy_cadence_host_cpu_utilisation:rate5m{instance="` + ws1.exporter + `"}`,
			"ws1's backups are seen":               `candy_cadence_backups{instance="` + ws1.exporter + `"} > 0`,
			"ws2's library is down":                `candy_cadence_db_up{instance="` + ws2.exporter + `", db="library"} == 0`,
			"ws2's library is not a database":      `candy_cadence_db_state{instance="` + ws2.exporter + `", db="library", state="not_a_database"} == 1`,
			"ws2's crash is counted":               `candy_cadence_app_exits_total{instance="` + ws2.exporter + `", reason="crashed"} > 0`,
			"ws1's clean close is counted":         `candy_cadence_app_exits_total{instance="` + ws1.exporter + `", reason="closed"} > 0`,
			"ws1's application runs again":         `candy_cadence_up{instance="` + ws1.exporter + `"} == 1 and on (instance) candy_cadence_app_starts_total > 1`,
			"ws2's crash alert fires":              `ALERTS{alertname="CandyCadenceAppCrashed", alertstate="firing", instance="` + ws2.exporter + `"}`,
			"ws2's critical-error alert fires":     `ALERTS{alertname="CandyCadenceCriticalError", alertstate="firing", instance="` + ws2.exporter + `"}`,
			"ws2's performance alert is counted":   `candy_cadence_performance_alerts_total{instance="` + ws2.exporter + `"} > 0`,
			"the silent target is scraped as down": `up{instance="` + down + `"} == 0`,
		} {
			prom.waitUntil(t, 90*time.Second, what, expr)
		}
		// One more rate window, so that the last events lie inside every panel's range.
		time.Sleep(3 * time.Second)
		return map[Scenario]string{
			Running:      ws1.exporter,
			Errors:       ws2.exporter,
			Crash:        ws2.exporter,
			DatabaseDown: ws2.exporter,
			AlertFiring:  ws2.exporter,
			ExporterDown: down,
		}
	}
	return liveFleet{targets: targets, play: play}
}

func newSimWorkstation(t *testing.T, dir, name string) *simWorkstation {
	t.Helper()
	ws := &simWorkstation{name: name, dir: filepath.Join(dir, name)}
	ws.logDir = filepath.Join(ws.dir, "logs")
	ws.library = filepath.Join(ws.dir, "data", "3dmm.db")
	for _, d := range []string{ws.logDir, filepath.Dir(ws.library)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := appsim.CreateCache(filepath.Join(ws.dir, "cache", "cache.db"), appsim.CacheOptions{Entries: 90, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	ws.logs = logsim.New(ws.logDir, logsim.DefaultMaxBytes, logsim.DefaultKeep, nil)
	t.Cleanup(func() { ws.logs.Close() })
	return ws
}

// start runs the exporter for this workstation: its own files, its own process name, short
// background intervals so that a short run sees stats and integrity checks, every network
// device (the test machine may have only loopback).
func (ws *simWorkstation) start(t *testing.T, binary string) {
	t.Helper()
	ws.exporter = servertest.FreeAddress(t)
	var stderr bytes.Buffer
	cmd := exec.Command(binary,
		"--web.listen-address="+ws.exporter,
		"--app.working-dir="+ws.dir,
		"--collector.process.name-regex=^"+ws.name+"$",
		"--collector.process.exe-regex=",
		"--collector.process.cmdline-regex=",
		"--collector.host.data-dir="+ws.dir,
		"--collector.host.netdev-exclude=^$",
		"--collector.sqlite.library-db="+ws.library,
		"--collector.sqlite.cache-db="+filepath.Join(ws.dir, "cache", "cache.db"),
		"--collector.sqlite.stats-interval=1s",
		"--collector.sqlite.integrity-interval=2s",
		"--collector.logs.path="+filepath.Join(ws.logDir, "Log - *.txt"),
		"--collector.logs.poll-interval=100ms",
	)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("exporter of %s:\n%s", ws.name, stderr.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if conn, err := net.DialTimeout("tcp", ws.exporter, 100*time.Millisecond); err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter of %s did not listen on %s: %s", ws.name, ws.exporter, stderr.String())
		}
	}
}

// startApp runs the stand-in of the application: sleep, copied under the process name that
// only this workstation's exporter matches.
func (ws *simWorkstation) startApp(t *testing.T, sleep string) {
	t.Helper()
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(ws.dir, ws.name)
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	ws.app = exec.Command(bin, "3600")
	if err := ws.app.Start(); err != nil {
		t.Fatal(err)
	}
	app := ws.app
	t.Cleanup(func() {
		_ = app.Process.Kill()
		_ = app.Wait()
	})
}

func (ws *simWorkstation) crash(t *testing.T) {
	t.Helper()
	if err := ws.app.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = ws.app.Wait()
}

// closeCleanly ends the application as a user closing its window does: the close records
// of its process first, then the exit.
func (ws *simWorkstation) closeCleanly(t *testing.T) {
	t.Helper()
	recs := logsim.CloseRecords(ws.app.Process.Pid, time.Now(), time.Now())
	ws.mu.Lock()
	for _, r := range recs {
		_, _ = ws.logs.Write("INFO", r)
	}
	ws.mu.Unlock()
	time.Sleep(300 * time.Millisecond) // the logs collector reads within its poll interval
	if err := ws.app.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = ws.app.Wait()
}

// write logs records of a level as the application writes them.
func (ws *simWorkstation) write(level string, n int) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for range n {
		line, _ := logsim.Record(ws.seq, level, time.Now())
		ws.seq++
		_, _ = ws.logs.Write(level, line)
	}
}

// logBusyDesktop logs a desktop at work every second until ctx ends: operations at INFO and,
// at DEBUG, cache lookups; now and then a line that is not a record.
func (ws *simWorkstation) logBusyDesktop(ctx context.Context, debug bool) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		if debug {
			ws.write("DEBUG", 6)
		}
		ws.write("INFO", 10)
		if debug && i%5 == 0 {
			ws.mu.Lock()
			_, _ = ws.logs.Write("INFO", []byte("Traceback (most recent call last): not a record"))
			ws.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// logTroubles logs errors of every variant the application writes (a corrupted file, a locked
// database, an unknown plugin error, an untyped error, a ValueError), a performance alert and
// the global exception hook's critical MemoryError.
func (ws *simWorkstation) logTroubles(t *testing.T) {
	t.Helper()
	// A record's variant changes every 7 records: 14 WARNING records hold a PERFORMANCE ALERT
	// and 35 ERROR records every error variant, wherever the sequence stands.
	ws.write("WARNING", 14)
	ws.write("ERROR", 35)
	ws.mu.Lock()
	for (ws.seq/7)%2 != 0 { // the CRITICAL variants alternate every 7 records: MemoryError first
		ws.seq++
	}
	ws.mu.Unlock()
	ws.write("CRITICAL", 1)
}

// growLibrary imports a model every half second, as a user adding files does.
func growLibrary(ctx context.Context, t *testing.T, path string) {
	lib, err := appsim.OpenLibrary(path, 5*time.Second, 3)
	if err != nil {
		t.Error(err)
		return
	}
	defer lib.Close()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := lib.AddModel(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("add a model: %v", err)
				return
			}
		}
	}
}

func writeBackup(t *testing.T, path string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(bytes.Repeat([]byte("SQLite format 3\x00"), 1000))
	_ = zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
