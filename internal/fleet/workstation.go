package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
)

// WorkstationConfig describes one simulated workstation.
type WorkstationConfig struct {
	Name         string
	Dir          string   // created; everything of the workstation lives under it
	Sim          string   // the simulator's executable (the application's executable links to it)
	Exporter     string   // the exporter's executable
	ExporterAddr string   // host:port the workstation's exporter listens on
	ExporterArgs []string // further exporter flags
	Seed         uint64
	Rate         float64 // user operations per second while the application runs
	Models       int     // models in the library at creation
	// Day is the length of one compressed day: night (exporter stopped), log-on, sessions of
	// the application opened and closed, log-off. 0: always logged on, application always open.
	Day time.Duration
	// RestartAfterCrash is how long the user takes to start the application again after it
	// crashed (crash-loop restarts within 2 s regardless).
	RestartAfterCrash time.Duration
	// DataFSBytes, when positive, mounts a tmpfs of that size on the application's data
	// directory so that disk-full can fill it. Needs root (or CAP_SYS_ADMIN) on Linux.
	DataFSBytes int64
	// LeakBytesPerSecond is how fast memory-leak grows the application's memory; 0:
	// DefaultLeakBytesPerSecond.
	LeakBytesPerSecond int
	Faults             []Fault // active from the start
	Logf               func(format string, args ...any)
}

// Workstation is a running simulated workstation.
type Workstation struct {
	cfg    WorkstationConfig
	layout Layout
	start  time.Time
	rng    *rand.Rand

	mu          sync.Mutex
	exporter    *exec.Cmd
	exporterOut *os.File
	app         *appProcess
	nextStart   time.Time // the application is not started before this
	active      []Fault   // lasting faults now active
	lockRelease func() error
	mountErr    error // why the data directory has no filesystem of its own, if it has none
	// pendingOneShots are one-shot faults given at start, carried out once the application
	// has run for oneShotDelay.
	pendingOneShots []Fault
	mounted         bool
	stop            context.CancelFunc
	done            chan struct{}
}

// appProcess is one run of the application.
type appProcess struct {
	cmd     *exec.Cmd
	started time.Time
	stdin   io.WriteCloser
	closing atomic.Bool   // the user asked it to close
	exited  chan struct{} // closed when it has exited
	crashed bool          // exited other than by closing
}

// AppCmdlineRegex is the exporter flag value that selects this workstation's application only:
// every workstation's application has the same name, so the name and executable patterns are
// emptied and the command line must start with this workstation's executable.
func (l Layout) AppCmdlineRegex() string {
	return "^" + regexp.QuoteMeta(l.AppBin) + "( |$)"
}

// StartWorkstation creates the workstation's files and starts its day.
func StartWorkstation(cfg WorkstationConfig) (*Workstation, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 2
	}
	if cfg.Models <= 0 {
		cfg.Models = 2000
	}
	if cfg.RestartAfterCrash <= 0 {
		cfg.RestartAfterCrash = time.Minute
	}
	w := &Workstation{cfg: cfg, layout: NewLayout(cfg.Dir), rng: rand.New(rand.NewPCG(cfg.Seed, 7)), done: make(chan struct{})}
	if err := os.MkdirAll(w.layout.Base, 0o755); err != nil {
		return nil, fmt.Errorf("workstation %s: %w", cfg.Name, err)
	}
	if cfg.DataFSBytes > 0 {
		if err := mountTmpfs(w.layout.Base, cfg.DataFSBytes); err != nil {
			w.mountErr = err
			cfg.Logf("%s: no filesystem of its own for the data directory (disk-full cannot be simulated): %v", cfg.Name, err)
		} else {
			w.mounted = true
		}
	} else {
		w.mountErr = errors.New("the workstation was started without a data filesystem of its own")
	}
	if err := w.layout.create(cfg.Models, cfg.Seed, cfg.Sim); err != nil {
		w.unmount()
		return nil, fmt.Errorf("workstation %s: %w", cfg.Name, err)
	}
	for _, f := range cfg.Faults {
		switch {
		case isAppFault(f) && IsOneShot(f):
			w.pendingOneShots = append(w.pendingOneShots, f)
		case isAppFault(f):
			w.active = append(w.active, f)
		}
	}
	// A day starts at log-on, so that the first thing the exporter sees is a normal morning.
	w.start = time.Now().Add(-time.Duration(logOnAt * float64(cfg.Day)))
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	for _, f := range cfg.Faults {
		if isAppFault(f) {
			continue
		}
		if err := w.Inject(f); err != nil {
			cancel()
			w.unmount()
			return nil, fmt.Errorf("workstation %s: %w", cfg.Name, err)
		}
	}
	go w.loop(ctx)
	return w, nil
}

// Name is the workstation's name.
func (w *Workstation) Name() string { return w.cfg.Name }

// Layout is where the workstation keeps the application's files.
func (w *Workstation) Layout() Layout { return w.layout }

// ExporterAddr is the address of the workstation's exporter.
func (w *Workstation) ExporterAddr() string { return w.cfg.ExporterAddr }

// oneShotDelay is how long the application runs before a one-shot fault given at start
// happens, so that the exporter has seen it running first.
const oneShotDelay = 15 * time.Second

// The day, as fractions of its length: logged on from logOnAt to logOffAt, with the
// application opened for three sessions in between.
const (
	logOnAt  = 0.15
	logOffAt = 0.95
)

var sessions = [][2]float64{{0.2, 0.45}, {0.5, 0.65}, {0.7, 0.9}}

// schedule says whether the user is logged on and wants the application open now.
func (w *Workstation) schedule(now time.Time) (loggedOn, appOpen bool) {
	if w.cfg.Day <= 0 {
		return true, true
	}
	f := float64(now.Sub(w.start)%w.cfg.Day) / float64(w.cfg.Day)
	loggedOn = f >= logOnAt && f < logOffAt
	for _, s := range sessions {
		if f >= s[0] && f < s[1] {
			appOpen = true
		}
	}
	return loggedOn, appOpen && loggedOn
}

func (w *Workstation) loop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.shutdown()
			return
		case <-t.C:
		}
		w.step(time.Now())
	}
}

// step moves the workstation towards what the schedule wants: the application is closed
// before log-off stops the exporter, and started only after log-on.
func (w *Workstation) step(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	loggedOn, appOpen := w.schedule(now)
	if w.app != nil {
		select {
		case <-w.app.exited:
			if w.app.crashed {
				w.cfg.Logf("%s: application exited without closing", w.cfg.Name)
				delay := w.cfg.RestartAfterCrash
				if slices.Contains(w.active, FaultCrashLoop) {
					delay = 2 * time.Second
				}
				w.nextStart = now.Add(delay)
			}
			w.app = nil
		default:
		}
	}
	switch {
	case w.app != nil && !appOpen:
		w.closeApp()
	case w.app == nil && appOpen && !now.Before(w.nextStart):
		if err := w.startApp(); err != nil {
			w.cfg.Logf("%s: start the application: %v", w.cfg.Name, err)
			w.nextStart = now.Add(5 * time.Second)
		}
	}
	if w.app != nil && !w.app.closing.Load() && len(w.pendingOneShots) > 0 && now.Sub(w.app.started) >= oneShotDelay {
		f := w.pendingOneShots[0]
		w.pendingOneShots = w.pendingOneShots[1:]
		w.cfg.Logf("%s: %s (given at start)", w.cfg.Name, f)
		_, _ = io.WriteString(w.app.stdin, "fault "+string(f)+"\n")
	}
	switch {
	case loggedOn && w.exporter == nil:
		if err := w.startExporter(); err != nil {
			w.cfg.Logf("%s: start the exporter: %v", w.cfg.Name, err)
		}
	case !loggedOn && w.exporter != nil && w.app == nil:
		w.stopExporter()
	}
}

func (w *Workstation) startApp() error {
	var faults []Fault
	for _, f := range w.active {
		if isAppFault(f) && !IsOneShot(f) {
			faults = append(faults, f)
		}
	}
	var crashAfter time.Duration
	if slices.Contains(w.active, FaultCrashLoop) {
		crashAfter = 3*time.Second + time.Duration(w.rng.Int64N(int64(12*time.Second)))
	}
	cmd := exec.Command(w.layout.AppBin, appArgs(w.cfg.Dir, w.rng.Uint64(), w.cfg.Rate, w.cfg.LeakBytesPerSecond, faults, crashAfter)...)
	cmd.Dir = w.cfg.Dir
	ownProcessGroup(cmd)
	out, err := os.OpenFile(filepath.Join(w.cfg.Dir, "application.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		out.Close()
		return err
	}
	if err := cmd.Start(); err != nil {
		out.Close()
		return err
	}
	p := &appProcess{cmd: cmd, started: time.Now(), stdin: stdin, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		out.Close()
		p.crashed = err != nil || !p.closing.Load()
		close(p.exited)
	}()
	w.app = p
	w.cfg.Logf("%s: application started (pid %d)", w.cfg.Name, cmd.Process.Pid)
	return nil
}

// closeApp is the user closing the main window; a hung application is killed after 10 s,
// as a user ends it in the task manager.
func (w *Workstation) closeApp() {
	p := w.app
	if p.closing.Swap(true) {
		return
	}
	_, _ = io.WriteString(p.stdin, "close\n")
	p.stdin.Close()
	go func() {
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	}()
}

// closeAppAndWait closes the application, if it runs, and waits until it has exited; the
// schedule opens it again at its next step. w.mu is held on entry and on return.
func (w *Workstation) closeAppAndWait() {
	p := w.app
	if p == nil {
		return
	}
	w.closeApp()
	w.mu.Unlock()
	<-p.exited
	w.mu.Lock()
	if w.app == p {
		w.app = nil
	}
}

func (w *Workstation) startExporter() error {
	args := append([]string{
		"--web.listen-address=" + w.cfg.ExporterAddr,
		"--collector.process.name-regex=",
		"--collector.process.exe-regex=",
		"--collector.process.cmdline-regex=" + w.layout.AppCmdlineRegex(),
		"--collector.sqlite.library-db=" + w.layout.Library,
		"--collector.sqlite.cache-db=" + w.layout.Cache,
		"--collector.sqlite.backup-glob=" + filepath.Join(w.layout.Backups, "candy_cadence_backup_*.db.gz"),
		"--collector.logs.path=" + filepath.Join(w.layout.LogDir, "Log - *.txt"),
		"--collector.host.data-dir=" + w.layout.Base,
		"--app.working-dir=" + w.cfg.Dir,
	}, w.cfg.ExporterArgs...)
	cmd := exec.Command(w.cfg.Exporter, args...)
	cmd.Dir = w.cfg.Dir
	ownProcessGroup(cmd)
	out, err := os.OpenFile(filepath.Join(w.cfg.Dir, "exporter.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return err
	}
	w.exporter, w.exporterOut = cmd, out
	w.cfg.Logf("%s: logged on, exporter started on %s", w.cfg.Name, w.cfg.ExporterAddr)
	return nil
}

func (w *Workstation) stopExporter() {
	cmd := w.exporter
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	w.exporterOut.Close()
	w.exporter, w.exporterOut = nil, nil
	w.cfg.Logf("%s: logged off, exporter stopped", w.cfg.Name)
}

// Stop ends the workstation: the application is closed (killed if it does not close), the
// exporter stopped, a held lock released and the data filesystem unmounted. The files stay.
func (w *Workstation) Stop() {
	w.stop()
	<-w.done
}

func (w *Workstation) shutdown() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.app != nil {
		w.closeApp()
		select {
		case <-w.app.exited:
		case <-time.After(3 * time.Second):
			_ = w.app.cmd.Process.Kill()
			<-w.app.exited
		}
		w.app = nil
	}
	if w.exporter != nil {
		w.stopExporter()
	}
	if w.lockRelease != nil {
		_ = w.lockRelease()
		w.lockRelease = nil
	}
	w.unmount()
}

func (w *Workstation) unmount() {
	if w.mounted {
		if err := unmount(w.layout.Base); err != nil {
			w.cfg.Logf("%s: unmount %s: %v", w.cfg.Name, w.layout.Base, err)
		}
		w.mounted = false
	}
}

// Status is what the control interface reports about a workstation.
type Status struct {
	Name           string   `json:"name"`
	Dir            string   `json:"dir"`
	Exporter       string   `json:"exporter"`
	ExporterUp     bool     `json:"exporter_running"`
	AppRunning     bool     `json:"application_running"`
	AppPID         int      `json:"application_pid,omitempty"`
	ActiveFaults   []Fault  `json:"active_faults"`
	DiskFullReason string   `json:"disk_full_unavailable,omitempty"`
	Faults         []string `json:"faults_available"`
}

// Status reports the workstation's state now.
func (w *Workstation) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := Status{
		Name: w.cfg.Name, Dir: w.cfg.Dir, Exporter: "http://" + w.cfg.ExporterAddr + "/metrics",
		ExporterUp: w.exporter != nil, AppRunning: w.app != nil,
		ActiveFaults: append([]Fault{}, w.active...),
	}
	if w.app != nil {
		s.AppPID = w.app.cmd.Process.Pid
	}
	if !w.mounted && w.mountErr != nil {
		s.DiskFullReason = w.mountErr.Error()
	}
	for _, f := range Faults {
		s.Faults = append(s.Faults, string(f))
	}
	return s
}

// Inject starts fault f. An error means nothing changed.
func (w *Workstation) Inject(f Fault) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if slices.Contains(w.active, f) {
		return fmt.Errorf("%s is already active on %s", f, w.cfg.Name)
	}
	if isAppFault(f) {
		if IsOneShot(f) {
			if w.app == nil || w.app.closing.Load() {
				return fmt.Errorf("%s needs the application running on %s, and it is not", f, w.cfg.Name)
			}
			_, err := io.WriteString(w.app.stdin, "fault "+string(f)+"\n")
			return err
		}
		if w.app != nil && !w.app.closing.Load() {
			if _, err := io.WriteString(w.app.stdin, "fault "+string(f)+"\n"); err != nil {
				return err
			}
		}
		w.active = append(w.active, f)
		return nil
	}
	if err := w.injectWorkstationFault(f); err != nil {
		return err
	}
	w.active = append(w.active, f)
	return nil
}

// Clear ends fault f. An error means nothing changed.
func (w *Workstation) Clear(f Fault) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if IsOneShot(f) {
		return fmt.Errorf("%s happens once and cannot be cleared", f)
	}
	i := slices.Index(w.active, f)
	if i < 0 {
		return fmt.Errorf("%s is not active on %s", f, w.cfg.Name)
	}
	if isAppFault(f) {
		if w.app != nil && !w.app.closing.Load() {
			if _, err := io.WriteString(w.app.stdin, "clear "+string(f)+"\n"); err != nil {
				return err
			}
		}
	} else if err := w.clearWorkstationFault(f); err != nil {
		return err
	}
	w.active = slices.Delete(w.active, i, i+1)
	return nil
}

const missingSuffix = ".sim-missing"

// injectWorkstationFault carries out the faults that happen around the application rather
// than inside it.
func (w *Workstation) injectWorkstationFault(f Fault) error {
	l := w.layout
	switch f {
	case FaultCrashLoop:
		if w.app != nil && !w.app.closing.Load() {
			_, _ = io.WriteString(w.app.stdin, "fault crash\n")
		}
		return nil
	case FaultDBLocked:
		// While the application has the library open in WAL mode it holds a shared lock
		// that no other program can get past; a program (a sync or backup tool) locks the
		// library while the application is closed, and the application then finds it
		// locked. So the user closes the application, the lock is taken, and the
		// application is opened again.
		w.closeAppAndWait()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		release, err := appsim.HoldExclusiveLock(ctx, l.Library)
		if err != nil {
			return err
		}
		w.lockRelease = release
		return nil
	case FaultDBCorrupt:
		return corruptLibrary(l)
	case FaultDBMissing:
		return renameAll(l.Library, []string{"", "-wal", "-shm"}, "", missingSuffix)
	case FaultCacheMissing:
		return renameAll(l.Cache, []string{"", "-journal"}, "", missingSuffix)
	case FaultLogsMissing:
		return os.RemoveAll(l.LogDir)
	case FaultDiskFull:
		if !w.mounted {
			return fmt.Errorf("disk-full needs the data directory on a small filesystem of its own, and %s has none: %v", w.cfg.Name, w.mountErr)
		}
		return fillFilesystem(l.Base, filepath.Join(l.Base, "disk-full.filler"), 0.03)
	}
	return fmt.Errorf("fault %s is not a workstation fault", f)
}

func (w *Workstation) clearWorkstationFault(f Fault) error {
	l := w.layout
	switch f {
	case FaultCrashLoop:
		return nil
	case FaultDBLocked:
		err := w.lockRelease()
		w.lockRelease = nil
		return err
	case FaultDBCorrupt:
		// The user restores the library from the copy taken before the damage: the
		// application is closed first, as the restore needs.
		w.closeAppAndWait()
		return restoreLibrary(l)
	case FaultDBMissing:
		return renameAll(l.Library, []string{"", "-wal", "-shm"}, missingSuffix, "")
	case FaultCacheMissing:
		return renameAll(l.Cache, []string{"", "-journal"}, missingSuffix, "")
	case FaultLogsMissing:
		return os.MkdirAll(l.LogDir, 0o755)
	case FaultDiskFull:
		return os.Remove(filepath.Join(l.Base, "disk-full.filler"))
	}
	return fmt.Errorf("fault %s is not a workstation fault", f)
}

// renameAll renames path+suffix+from to path+suffix+to for each suffix that exists; the
// first (the database itself) must exist.
func renameAll(path string, suffixes []string, from, to string) error {
	for i, s := range suffixes {
		err := os.Rename(path+s+from, path+s+to)
		if err != nil && (i == 0 || !errors.Is(err, os.ErrNotExist)) {
			return err
		}
	}
	return nil
}

// corruptLibrary keeps a consistent copy of the library (VACUUM INTO, as a backup tool
// would), then overwrites every other page after the first with noise, as a failing disk
// or an interrupted copy leaves a file: the header still says SQLite, the b-trees do not.
func corruptLibrary(l Layout) error {
	snapshot := l.Library + ".before-corrupt"
	_ = os.Remove(snapshot)
	db, err := sql.Open("sqlite3", "file:"+l.Library+"?_busy_timeout=10000")
	if err != nil {
		return err
	}
	_, err = db.Exec(`VACUUM INTO ?`, snapshot)
	if err == nil {
		// Move the application's recent pages into the file, so the damage is not hidden
		// behind newer copies of the same pages in the WAL.
		_, err = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	db.Close()
	if err != nil {
		return fmt.Errorf("db-corrupt: %w", err)
	}
	f, err := os.OpenFile(l.Library, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	const page = 4096
	noise := make([]byte, page)
	rng := rand.New(rand.NewPCG(uint64(info.Size()), 3))
	for off := int64(page); off < info.Size(); off += 2 * page {
		for i := range noise {
			noise[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(noise, off); err != nil {
			return err
		}
	}
	return f.Sync()
}

// restoreLibrary puts back the copy corruptLibrary kept.
func restoreLibrary(l Layout) error {
	for _, s := range []string{"-wal", "-shm"} {
		if err := os.Remove(l.Library + s); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.Rename(l.Library+".before-corrupt", l.Library)
}
