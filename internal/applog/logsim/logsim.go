// Package logsim writes log files the way the Candy-Cadence application does, for tests and
// benchmarks of the log collector: JSON lines in "Log - MMDDYY-HH-MM-SS LEVEL.txt" files, a new
// file whenever a record's level differs from the previous record's or the file has passed the
// size cap, every file opened with mode 'w' (so two rotations to the same name within one
// second overwrite the first file), and only the newest files kept.
//
// The Writer tells which file incarnation each record went into and which incarnations were
// destroyed by an overwrite or deleted, so a test can say exactly which records any reader
// could still have read.
package logsim

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The application's rotation parameters.
const (
	DefaultMaxBytes = 10 << 20
	DefaultKeep     = 5
)

// FileName returns the application's name for a log file started at t for level.
func FileName(t time.Time, level string) string {
	return "Log - " + t.Format("010206-15-04-05") + " " + level + ".txt"
}

// Writer writes records into dir. It is not safe for concurrent use.
type Writer struct {
	dir      string
	maxBytes int64
	keep     int
	now      func() time.Time

	f      *os.File
	name   string
	level  string
	size   int64
	gen    int            // incarnation of the open file; 0 before the first
	byName map[string]int // the incarnation each name holds now

	// Overwritten lists the incarnations destroyed by a reopen of their name with mode 'w',
	// Deleted those removed as older than the newest Keep.
	Overwritten []int
	Deleted     []int
	// NamePrevious names a new file after the level of the record before it, as the
	// application's handler does; the first file, with no record before it, is named NOTSET
	// (Python's level 0). Off, a file is named after its own records' level.
	NamePrevious bool
}

// New returns a writer with the application's parameters; now may be nil for time.Now.
func New(dir string, maxBytes int64, keep int, now func() time.Time) *Writer {
	if now == nil {
		now = time.Now
	}
	return &Writer{dir: dir, maxBytes: maxBytes, keep: keep, now: now, byName: map[string]int{}}
}

// Write appends one line (without its newline) of the given level, rotating first when the
// level changed or the file is full, and returns the incarnation it went into.
func (w *Writer) Write(level string, line []byte) (int, error) {
	if w.f == nil || level != w.level || w.size >= w.maxBytes {
		if err := w.rotate(level); err != nil {
			return 0, err
		}
	}
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
	n, err := w.f.Write(buf) // one write per record, as the handler's flush does
	w.size += int64(n)
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", w.name, err)
	}
	return w.gen, nil
}

// rotate closes the current file, deletes all but the newest files, then opens the next with
// mode 'w' (the handler's order: a file reopened within its second is truncated right before
// its first new record is written).
func (w *Writer) rotate(level string) error {
	if w.f != nil {
		w.f.Close()
	}
	if err := w.prune(); err != nil {
		return err
	}
	nameLevel := level
	if w.NamePrevious {
		nameLevel = cmp.Or(w.level, "NOTSET")
	}
	name := FileName(w.now(), nameLevel)
	if old, ok := w.byName[name]; ok {
		if _, err := os.Stat(filepath.Join(w.dir, name)); err == nil {
			w.Overwritten = append(w.Overwritten, old)
		}
	}
	f, err := os.Create(filepath.Join(w.dir, name)) // O_TRUNC: mode 'w'
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	w.gen++
	w.f, w.name, w.level, w.size = f, name, level, 0
	w.byName[name] = w.gen
	return nil
}

// prune deletes the application's log files beyond the newest keep, by modification time.
func (w *Writer) prune() error {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("list log directory: %w", err)
	}
	type logFile struct {
		name string
		mod  time.Time
	}
	var files []logFile
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "Log - ") || !strings.HasSuffix(e.Name(), ".txt") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, logFile{e.Name(), info.ModTime()})
	}
	if len(files) <= w.keep {
		return nil
	}
	slices.SortFunc(files, func(a, b logFile) int {
		if c := b.mod.Compare(a.mod); c != 0 {
			return c
		}
		if a.name == w.name { // the open file is the newest whatever the clock's resolution
			return -1
		}
		if b.name == w.name {
			return 1
		}
		return strings.Compare(b.name, a.name)
	})
	for _, f := range files[w.keep:] {
		if err := os.Remove(filepath.Join(w.dir, f.name)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("delete old log file: %w", err)
		}
		if gen, ok := w.byName[f.name]; ok {
			w.Deleted = append(w.Deleted, gen)
			delete(w.byName, f.name)
		}
	}
	return nil
}

// Close closes the open file.
func (w *Writer) Close() error {
	if w.f == nil {
		return nil
	}
	return w.f.Close()
}
