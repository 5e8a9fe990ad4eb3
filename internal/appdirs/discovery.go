package appdirs

import (
	"log/slog"
	"path/filepath"
)

// Discovery is what was found, or not, for one of the application's sources (the library,
// the cache, the backups, the logs, the data directory): start-up logs it, and the health
// check reports it. Found is never claimed for a fallback.
type Discovery struct {
	Source string // "library", "cache", "backups", "logs", "data directory"
	// Configured is true when a flag named the place: nothing was looked for.
	Configured bool
	Found      bool
	Path       string   // where it was found; empty when not found
	LookedIn   []string // the places looked at, in order (the configured one alone when Configured)
	// Fallback is what is used instead when nothing was found ("" when nothing is: the
	// source is looked for again later).
	Fallback string
}

// Log writes the discovery as one line: info when found, a warning when not.
func (d Discovery) Log(logger *slog.Logger) {
	how := "discovered"
	if d.Configured {
		how = "configured"
	}
	if d.Found {
		logger.Info(d.Source+" found", "path", d.Path, "how", how, "looked_in", d.LookedIn)
		return
	}
	args := []any{"how", how, "looked_in", d.LookedIn}
	if d.Fallback != "" {
		args = append(args, "using_fallback", d.Fallback)
	} else {
		args = append(args, "using_fallback", "none; looked for again while running")
	}
	logger.Warn(d.Source+" not found", args...)
}

// DiscoverFile looks for source at the first existing of candidates (a configured path alone
// when configured).
func DiscoverFile(source string, candidates []string, configured bool) Discovery {
	d := Discovery{Source: source, Configured: configured, LookedIn: candidates}
	if p, ok := FirstExisting(candidates, FileExists); ok {
		d.Found, d.Path = true, p
	}
	return d
}

// DiscoverGlobs looks for files matching any of globs; Path is the first match.
func DiscoverGlobs(source string, globs []string, configured bool) Discovery {
	d := Discovery{Source: source, Configured: configured, LookedIn: globs}
	for _, g := range globs {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			d.Found, d.Path = true, m[0]
			return d
		}
	}
	return d
}

// DiscoverDataDir is DataDir with what it looked at. The data directory is found when a
// layout's library exists, or the application's own directory of a layout does; the working
// directory (which always exists) and the home directory are only fallbacks.
func DiscoverDataDir(env Env, ls []Layout) Discovery {
	d := Discovery{Source: "data directory", LookedIn: collect(ls, func(l Layout) string { return l.Base })}
	for _, l := range ls {
		if FileExists(l.LibraryDB) {
			d.Found, d.Path = true, filepath.Dir(l.LibraryDB)
			return d
		}
	}
	for _, l := range ls {
		if l.Base != env.WorkDir && DirExists(l.Base) {
			d.Found, d.Path = true, l.Base
			return d
		}
	}
	d.Fallback = DataDir(env, ls)
	return d
}
