package health

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

// Paths is what the exporter reads, as its flags and discovery resolve them.
type Paths struct {
	LibraryDB          string   // the library database, configured or the first that exists
	LibraryCandidates  []string // where discovery looked (empty when configured)
	CacheDB            string
	CacheCandidates    []string
	LogGlobs           []string // the log files followed
	LogGlobsConfigured bool
	DataDir            string // the application's data directory
}

// PathFlags are the command's path flags; empty means discover.
type PathFlags struct {
	LibraryDB, CacheDB, DataDir string
	LogGlobs                    []string
}

// Discover resolves flags against the application's known locations in env, as the
// collectors do. discoveredLogGlobs are the logs collector's default patterns.
func Discover(env appdirs.Env, flags PathFlags, discoveredLogGlobs []string) Paths {
	layouts := appdirs.Layouts(env)
	p := Paths{LibraryDB: flags.LibraryDB, CacheDB: flags.CacheDB, DataDir: flags.DataDir, LogGlobs: flags.LogGlobs}
	if p.LibraryDB == "" {
		p.LibraryCandidates = appdirs.LibraryDBs(layouts)
		p.LibraryDB, _ = appdirs.FirstExisting(p.LibraryCandidates, appdirs.FileExists)
	}
	if p.CacheDB == "" {
		p.CacheCandidates = appdirs.CacheDBs(layouts)
		p.CacheDB, _ = appdirs.FirstExisting(p.CacheCandidates, appdirs.FileExists)
	}
	if p.DataDir == "" {
		p.DataDir = appdirs.DataDir(env, layouts)
	}
	p.LogGlobsConfigured = len(p.LogGlobs) > 0
	if !p.LogGlobsConfigured {
		p.LogGlobs = discoveredLogGlobs
	}
	return p
}

// logFiles returns the existing files the globs match, and the directories holding them.
func (p Paths) logFiles() (files, dirs []string) {
	seenDir := map[string]bool{}
	for _, g := range p.LogGlobs {
		matches, _ := filepath.Glob(g)
		for _, m := range matches {
			if !appdirs.FileExists(m) || slices.Contains(files, m) {
				continue
			}
			files = append(files, m)
			if d := filepath.Dir(m); !seenDir[d] {
				seenDir[d] = true
				dirs = append(dirs, d)
			}
		}
	}
	return files, dirs
}

// logDirs returns the existing directories of the log globs.
func (p Paths) logDirs() []string {
	var out []string
	for _, g := range p.LogGlobs {
		d := filepath.Dir(g)
		if appdirs.DirExists(d) && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// checkConfiguration reports what was found where and what is missing.
func checkConfiguration(p Paths) Check {
	j := newJudgement(CheckConfiguration)
	var parts []string
	describe := func(what, path string, candidates []string) bool {
		how := "configured"
		if len(candidates) > 0 {
			how = "discovered"
		}
		if appdirs.FileExists(path) {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", what, path, how))
			return true
		}
		if len(candidates) > 0 {
			parts = append(parts, fmt.Sprintf("%s not found (looked in %s)", what, strings.Join(candidates, ", ")))
		} else {
			parts = append(parts, fmt.Sprintf("%s %s not found (configured)", what, path))
		}
		return false
	}
	if !describe("library", p.LibraryDB, p.LibraryCandidates) {
		j.critical("the library database was not found: nothing of the application's data can be checked")
		j.recommend("start the application once, or pass --collector.sqlite.library-db (and --app.working-dir for a source checkout)")
	}
	if !describe("cache", p.CacheDB, p.CacheCandidates) {
		j.recommend("no model cache database yet: normal until the application caches a model; otherwise pass --collector.sqlite.cache-db")
	}
	files, dirs := p.logFiles()
	j.value("log_files", float64(len(files)))
	switch {
	case len(files) > 0:
		parts = append(parts, fmt.Sprintf("%d log file(s) in %s", len(files), strings.Join(dirs, ", ")))
	case len(p.logDirs()) > 0:
		parts = append(parts, "no log files yet in "+strings.Join(p.logDirs(), ", "))
		j.warn("the log directory holds no log files the exporter follows")
		j.recommend("check that the application writes its logs there; pass --collector.logs.path otherwise")
	default:
		parts = append(parts, "no log directory found")
		j.warn("no log directory was found, so errors and durations cannot be followed")
		j.recommend("pass --collector.logs.path with the glob of the application's log files")
	}
	parts = append(parts, "data directory "+p.DataDir)
	return j.done(strings.Join(parts, "; "))
}

// checkPermissions checks that this user can read what the exporter reads and that the
// application's data directory is writable by its user, without writing anything.
func checkPermissions(p Paths) Check {
	j := newJudgement(CheckPermissions)
	var parts []string
	readable := func(what, path string, isDir bool, critical bool) {
		err := canRead(path, isDir)
		switch {
		case err == nil:
			parts = append(parts, what+" readable")
		case errors.Is(err, fs.ErrNotExist):
			parts = append(parts, what+" absent")
		case critical:
			j.critical("the %s %s cannot be read by this user: %v", what, path, err)
			j.recommend("run the exporter as the desktop user who runs the application, or give that user read access to %s", path)
		default:
			j.warn("the %s %s cannot be read by this user: %v", what, path, err)
			j.recommend("give the user running the exporter read access to %s", path)
		}
	}
	readable("library", p.LibraryDB, false, true)
	readable("cache", p.CacheDB, false, false)
	dirs := p.logDirs()
	for _, d := range dirs {
		readable("log directory", d, true, false)
	}
	if len(dirs) == 0 {
		parts = append(parts, "no log directory")
	}
	if p.LibraryDB != "" && appdirs.FileExists(p.LibraryDB) {
		dir := filepath.Dir(p.LibraryDB)
		// SQLite in WAL mode creates -wal and -shm beside the database: the application needs
		// to write the directory, not only the file.
		if err := canWrite(dir); err != nil {
			j.critical("the library's directory %s is not writable: the application cannot save changes (%v)", dir, err)
			j.recommend("give the desktop user write access to %s", dir)
		} else if err := canWrite(p.LibraryDB); err != nil {
			j.critical("the library %s is not writable: the application cannot save changes (%v)", p.LibraryDB, err)
			j.recommend("clear the read-only attribute of %s, or give the desktop user write access", p.LibraryDB)
		} else {
			parts = append(parts, "data directory writable")
		}
	}
	return j.done(strings.Join(parts, ", "))
}

// canRead opens path for reading (a directory: lists one entry) and closes it at once.
func canRead(path string, isDir bool) error {
	if path == "" {
		return fs.ErrNotExist
	}
	if _, err := os.Stat(path); err != nil {
		return err
	}
	if !isDir {
		return accessRead(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
