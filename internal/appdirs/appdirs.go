// Package appdirs knows where the Candy-Cadence application keeps its files on each platform
// and in each of its generations (older 3D-MM builds, newer Digital Workshop builds, the
// operations manual's layout), so that every collector discovers them the same way.
package appdirs

import (
	"os"
	"path/filepath"
)

// Env is what discovery depends on. Tests fill it in by hand to check both platforms'
// rules on any machine.
type Env struct {
	GOOS         string // "windows" or anything else (treated as a Unix desktop)
	HomeDir      string // the user's home directory
	AppData      string // %APPDATA% (Windows)
	LocalAppData string // %LOCALAPPDATA% (Windows)
	XDGDataHome  string // $XDG_DATA_HOME, empty for ~/.local/share
	WorkDir      string // the application's working directory, for its relative paths
}

// Layout is one place a generation of the application keeps its files.
type Layout struct {
	Name      string // short name for logs: "newer", "newer-dev", "older", "manual", "workdir"
	Base      string // the directory everything else hangs off
	LibraryDB string
	CacheDB   string
	LogDir    string
}

// CurrentEnv reads the environment of this process. workDir is the application's working
// directory; empty means the exporter's own.
func CurrentEnv(goos, workDir string) Env {
	home, _ := os.UserHomeDir()
	if workDir == "" {
		workDir, _ = os.Getwd()
	}
	return Env{
		GOOS:         goos,
		HomeDir:      home,
		AppData:      os.Getenv("APPDATA"),
		LocalAppData: os.Getenv("LOCALAPPDATA"),
		XDGDataHome:  os.Getenv("XDG_DATA_HOME"),
		WorkDir:      workDir,
	}
}

// Layouts lists the places to look, most likely first: newer builds, then older builds,
// then the layouts relative to the application's working directory (the operations manual's
// data/candy_cadence.db before the plain data/3dmm.db).
func Layouts(env Env) []Layout {
	var out []Layout
	newer := func(name, base string) Layout {
		return Layout{
			Name:      name,
			Base:      base,
			LibraryDB: filepath.Join(base, "cache", "data", "3dmm.db"),
			CacheDB:   filepath.Join(base, "cache", "cache.db"),
			LogDir:    filepath.Join(base, "cache", "logs"),
		}
	}
	older := func(base string) Layout {
		return Layout{
			Name:      "older",
			Base:      base,
			LibraryDB: filepath.Join(base, "3dmm.db"),
			// Older builds keep the cache database relative to the working directory.
			CacheDB: filepath.Join(env.WorkDir, "cache", "cache.db"),
			LogDir:  filepath.Join(base, "logs"),
		}
	}
	if env.GOOS == "windows" {
		if env.LocalAppData != "" {
			out = append(out,
				newer("newer", filepath.Join(env.LocalAppData, "DigitalWorkshop")),
				newer("newer-dev", filepath.Join(env.LocalAppData, "DigitalWorkshop-Dev")))
		}
		if env.AppData != "" {
			out = append(out, older(filepath.Join(env.AppData, "3D-MM Development Team", "3D-MM")))
		}
	} else {
		share := env.XDGDataHome
		if share == "" && env.HomeDir != "" {
			share = filepath.Join(env.HomeDir, ".local", "share")
		}
		if share != "" {
			out = append(out,
				newer("newer", filepath.Join(share, "DigitalWorkshop")),
				newer("newer-dev", filepath.Join(share, "DigitalWorkshop-Dev")),
				older(filepath.Join(share, "3D-MM Development Team", "3D-MM")))
		}
	}
	if env.WorkDir != "" {
		out = append(out,
			Layout{
				Name:      "manual",
				Base:      env.WorkDir,
				LibraryDB: filepath.Join(env.WorkDir, "data", "candy_cadence.db"),
				CacheDB:   filepath.Join(env.WorkDir, "cache", "cache.db"),
				LogDir:    filepath.Join(env.WorkDir, "logs"),
			},
			Layout{
				Name:      "workdir",
				Base:      env.WorkDir,
				LibraryDB: filepath.Join(env.WorkDir, "data", "3dmm.db"),
				CacheDB:   filepath.Join(env.WorkDir, "cache", "cache.db"),
				LogDir:    filepath.Join(env.WorkDir, "logs"),
			})
	}
	return out
}

// FirstExisting returns the first path for which exists reports true, and whether one did.
// With none, it returns the first path so that callers can report what they looked for.
func FirstExisting(paths []string, exists func(string) bool) (string, bool) {
	for _, p := range paths {
		if exists(p) {
			return p, true
		}
	}
	if len(paths) == 0 {
		return "", false
	}
	return paths[0], false
}

// FileExists reports whether path names an existing regular file.
func FileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// DirExists reports whether path names an existing directory.
func DirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// LibraryDBs lists the candidate library database paths in order.
func LibraryDBs(ls []Layout) []string {
	return collect(ls, func(l Layout) string { return l.LibraryDB })
}

// CacheDBs lists the candidate cache database paths in order.
func CacheDBs(ls []Layout) []string {
	return collect(ls, func(l Layout) string { return l.CacheDB })
}

// LogDirs lists the candidate log directories in order.
func LogDirs(ls []Layout) []string {
	return collect(ls, func(l Layout) string { return l.LogDir })
}

// DataDir returns the directory holding the application's data: the base of the first
// layout whose library database exists, else the first existing base, else the home directory.
func DataDir(env Env, ls []Layout) string {
	for _, l := range ls {
		if FileExists(l.LibraryDB) {
			return filepath.Dir(l.LibraryDB)
		}
	}
	for _, l := range ls {
		if DirExists(l.Base) {
			return l.Base
		}
	}
	return env.HomeDir
}

func collect(ls []Layout, f func(Layout) string) []string {
	seen := make(map[string]bool, len(ls))
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		p := f(l)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}
