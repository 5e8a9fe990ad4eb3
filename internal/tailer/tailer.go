// Package tailer follows the files that match a set of glob patterns and hands their complete
// lines to a consumer, through every way a log file is replaced: rotation by rename, a new file
// per rotation (the Candy-Cadence application starts one on every change of level), deletion,
// copytruncate, and the application's reopening of the same name with mode 'w' within one second.
//
// Files are known by identity (device and inode, or volume and file index), not by name, so a
// renamed file is followed under its new name. A file whose content was replaced in place (same
// identity, but smaller than what was read, or with different first bytes or different bytes
// just before the read offset) is read again from its start. Reading is driven by file events
// (fsnotify) with polling as the fallback; Poll does one full pass and is what tests call.
package tailer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// FileSink receives the lines of one file, in order. The line is valid only during the call.
type FileSink interface {
	// Line is one complete line without its line ending ("\n" only; a "\r" stays).
	Line(line []byte)
	// Malformed reports a line that was not read: longer than the limit, or cut off because
	// the file ended or was replaced before its newline came.
	Malformed()
	// Idle says no data came for a poll interval, so a record waiting for more lines is complete.
	Idle()
	// Close says the file (or this incarnation of its content) has ended.
	Close()
}

// Config says what to follow and how.
type Config struct {
	// Globs are filepath.Match patterns of the files to follow.
	Globs []string
	// FromStart reads the files found by the first scan from their start; by default they are
	// read from their end. Files that appear later are always read from their start.
	FromStart bool
	// PollInterval is how often all files are scanned, with or without file events.
	PollInterval time.Duration
	// MaxLineBytes is the longest line handed on; longer ones are skipped without being held.
	MaxLineBytes int
	// KeepOpen holds each file open between reads, so the rest of a renamed or deleted file can
	// still be read. It is off on Windows, where an open handle could stop the application from
	// reusing a name it deleted: there each read opens and closes the file.
	KeepOpen bool
	// FileEvents reacts to file system events between polls.
	FileEvents bool
	// NewSink returns the consumer for a file (or a new incarnation of its content).
	NewSink func() FileSink
	Logger  *slog.Logger
	// Now is the clock (time.Now when nil); tests pass a fake one.
	Now func() time.Time
}

// DefaultKeepOpen is KeepOpen's default on this platform.
const DefaultKeepOpen = defaultKeepOpen

// DefaultMaxLineBytes is the line length limit: 1 MiB.
const DefaultMaxLineBytes = 1 << 20

const (
	headLen     = 256      // first bytes of a file compared to notice its content was replaced
	tailLen     = 64       // bytes before the read offset compared likewise
	readBufSize = 64 << 10 // one read
	startWindow = 64 << 10 // how far back from the end a file found at start-up looks for a line start
)

// Validate checks the configuration.
func (c *Config) Validate() error {
	if len(c.Globs) == 0 {
		return errors.New("no log file patterns")
	}
	for _, g := range c.Globs {
		if _, err := filepath.Match(g, ""); err != nil {
			return fmt.Errorf("log file pattern %q: %w", g, err)
		}
	}
	if c.PollInterval <= 0 {
		return fmt.Errorf("poll interval %v must be positive", c.PollInterval)
	}
	if c.MaxLineBytes <= 0 {
		return fmt.Errorf("maximum line length %d must be positive", c.MaxLineBytes)
	}
	if c.NewSink == nil {
		return errors.New("no line consumer")
	}
	return nil
}

// Stats are the tailer's own counters. They are safe to read while the tailer runs.
type Stats struct {
	Files       atomic.Int64  // files followed now
	BytesRead   atomic.Uint64 // bytes read from all files
	Rotations   atomic.Uint64 // new files found after the first scan
	Truncations atomic.Uint64 // files whose content was replaced in place and read again from the start
}

// Tailer follows the files. Poll and Run must not be called concurrently; Stats may be read
// from anywhere.
type Tailer struct {
	cfg      Config
	log      *slog.Logger
	files    map[fileID]*file
	byPath   map[string]*file
	scanned  bool // the first scan is done: later files are new
	gen      uint64
	dirs     []patternDir
	wildDirs []string
	buf      []byte
	scratch  []byte
	stats    Stats
}

type file struct {
	id       fileID
	path     string
	handle   *os.File // kept between reads only with KeepOpen
	offset   int64
	head     []byte
	tail     [tailLen]byte
	tailN    int
	partial  []byte
	skipping bool      // inside a line over the limit, until its newline
	lastData time.Time // when data last came (or the file was first seen)
	seen     uint64
	sink     FileSink
}

// New returns a tailer for cfg, which must be valid.
func New(cfg Config) (*Tailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dirs, wild := groupPatterns(cfg.Globs)
	return &Tailer{
		dirs:     dirs,
		wildDirs: wild,
		cfg:      cfg,
		log:      logger,
		files:    make(map[fileID]*file),
		byPath:   make(map[string]*file),
		buf:      make([]byte, readBufSize),
		scratch:  make([]byte, max(headLen, tailLen)),
	}, nil
}

// Stats returns the tailer's counters.
func (t *Tailer) Stats() *Stats { return &t.stats }

// Poll scans the patterns and reads every file to its end, oldest content first: files
// already followed, then the rest of those no longer found (with KeepOpen; they are then
// finished), then new files.
func (t *Tailer) Poll() {
	t.gen++
	var fresh []string
	var freshIDs []fileID
	for _, path := range t.expand() {
		id, err := identify(path)
		if err != nil {
			continue // vanished or not a regular file; the next scan sees
		}
		f := t.files[id]
		if f == nil {
			fresh, freshIDs = append(fresh, path), append(freshIDs, id)
			continue
		}
		if f.path != path && f.seen != t.gen {
			t.log.Debug("log file renamed", "from", f.path, "to", path)
			f.path = path
		}
		f.seen = t.gen
		t.read(f)
	}
	for id, f := range t.files {
		if f.seen != t.gen {
			t.finish(f)
			delete(t.files, id)
		}
	}
	for i, path := range fresh {
		if t.files[freshIDs[i]] != nil {
			continue // a second name (hard link) of a file started above
		}
		if f := t.start(freshIDs[i], path); f != nil {
			f.seen = t.gen
			t.read(f)
		}
	}
	clear(t.byPath)
	now := t.cfg.Now()
	for _, f := range t.files {
		t.byPath[f.path] = f
		// A writer may split one record over several writes: a record is complete only after
		// a full poll interval without data, however often polls come.
		if now.Sub(f.lastData) >= t.cfg.PollInterval {
			f.sink.Idle()
		}
	}
	t.scanned = true
	t.stats.Files.Store(int64(len(t.files)))
}

// Close finishes every file and releases its handle.
func (t *Tailer) Close() {
	for id, f := range t.files {
		t.finish(f)
		delete(t.files, id)
	}
	clear(t.byPath)
	t.stats.Files.Store(0)
}

// expand returns the files the patterns match now, each once, in a stable order. Patterns
// whose directory part is literal are grouped, so each directory is listed once per scan
// however many patterns name it.
func (t *Tailer) expand() []string {
	var out []string
	for _, d := range t.dirs {
		entries, err := os.ReadDir(d.dir)
		if err != nil {
			continue // not there (yet): the application has not started, or the directory went away
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			for _, p := range d.patterns {
				if ok, _ := filepath.Match(p, e.Name()); ok {
					out = append(out, filepath.Join(d.dir, e.Name()))
					break
				}
			}
		}
	}
	for _, g := range t.wildDirs {
		matches, _ := filepath.Glob(g) // patterns were validated: the only error is ErrBadPattern
		out = append(out, matches...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// patternDir is a directory and the patterns of file names followed in it.
type patternDir struct {
	dir      string
	patterns []string
}

// groupPatterns splits globs into per-directory name patterns, and globs whose directory part
// has pattern characters of its own.
func groupPatterns(globs []string) (dirs []patternDir, wild []string) {
	index := map[string]int{}
	for _, g := range globs {
		dir, name := filepath.Split(g)
		if hasMeta(dir) {
			wild = append(wild, g)
			continue
		}
		dir = filepath.Clean(dir)
		i, ok := index[dir]
		if !ok {
			i = len(dirs)
			index[dir] = i
			dirs = append(dirs, patternDir{dir: dir})
		}
		dirs[i].patterns = append(dirs[i].patterns, name)
	}
	return dirs, wild
}

// hasMeta reports whether a path has pattern characters; escapes count, since an escaped
// directory must be matched by Glob.
func hasMeta(path string) bool {
	return strings.ContainsAny(path, `*?[\`) && (runtime.GOOS != "windows" || strings.ContainsAny(path, "*?["))
}

// matches reports whether path is one the patterns select.
func (t *Tailer) matches(path string) bool {
	for _, g := range t.cfg.Globs {
		if ok, _ := filepath.Match(g, path); ok {
			return true
		}
	}
	return false
}

// readPath reads a file named by a file event. An unknown path, or one that now names
// another file, takes a full scan.
func (t *Tailer) readPath(path string) {
	f := t.byPath[path]
	if f == nil {
		if t.matches(path) {
			t.Poll()
		}
		return
	}
	if !t.cfg.KeepOpen {
		if id, err := identify(path); err != nil || id != f.id {
			t.Poll()
			return
		}
	}
	t.read(f)
}

// start begins following a file. Files of the first scan start at their end unless
// FromStart; later ones are new and start at the beginning.
func (t *Tailer) start(id fileID, path string) *file {
	h, err := openShared(path)
	if err != nil {
		return nil
	}
	if hid, err := handleID(h); err != nil || hid != id {
		h.Close() // replaced since it was looked at: the next scan sees the new one
		return nil
	}
	f := &file{id: id, path: path, sink: t.cfg.NewSink(), lastData: t.cfg.Now()}
	t.files[id] = f
	if t.scanned {
		t.stats.Rotations.Add(1)
		t.log.Debug("following new log file", "path", path)
	} else {
		t.log.Debug("following log file", "path", path, "from_start", t.cfg.FromStart)
		if !t.cfg.FromStart {
			t.seekLineEnd(f, h)
		}
	}
	if t.cfg.KeepOpen {
		f.handle = h
	} else {
		h.Close()
	}
	return f
}

// seekLineEnd places a file found at start-up just after its last complete line, so that a
// line being written is read whole once its newline comes.
func (t *Tailer) seekLineEnd(f *file, h *os.File) {
	fi, err := h.Stat()
	if err != nil || fi.Size() == 0 {
		return
	}
	size := fi.Size()
	from := max(0, size-startWindow)
	buf := t.buf[:size-from]
	n, _ := h.ReadAt(buf, from)
	buf = buf[:n]
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		f.offset = from + int64(i) + 1
	} else {
		f.offset = size
		f.skipping = true // the rest of a line begun before start-up is not ours
	}
	t.remember(f, h)
}

// remember records the first bytes and the bytes before the offset, to notice later that
// the content was replaced.
func (t *Tailer) remember(f *file, h *os.File) {
	f.head = f.head[:0]
	f.tailN = 0
	if f.offset == 0 {
		return
	}
	head := make([]byte, min(int64(headLen), f.offset))
	n, _ := h.ReadAt(head, 0)
	f.head = head[:n]
	n, _ = h.ReadAt(f.tail[:min(int64(tailLen), f.offset)], f.offset-min(int64(tailLen), f.offset))
	f.tailN = n
}

// unchanged reports whether the file still holds what was read from it.
func (t *Tailer) unchanged(f *file, h *os.File, size int64) bool {
	if size < f.offset {
		return false
	}
	if len(f.head) > 0 {
		b := t.scratch[:len(f.head)]
		if n, _ := h.ReadAt(b, 0); n != len(b) || !bytes.Equal(b, f.head) {
			return false
		}
	}
	if f.tailN > 0 {
		b := t.scratch[:f.tailN]
		if n, _ := h.ReadAt(b, f.offset-int64(f.tailN)); n != len(b) || !bytes.Equal(b, f.tail[:f.tailN]) {
			return false
		}
	}
	return true
}

// read reads a file from its offset to its end.
func (t *Tailer) read(f *file) {
	h := f.handle
	if h == nil {
		var err error
		if h, err = openShared(f.path); err != nil {
			return
		}
		defer h.Close()
		// Without a kept handle the name may now hold another file.
		if id, err := handleID(h); err != nil || id != f.id {
			return
		}
	}
	t.readFrom(f, h)
}

// readFrom reads through h. A read is checked after the fact: if the content was replaced
// while it was read, what was read is dropped and the file is read again from its start.
func (t *Tailer) readFrom(f *file, h *os.File) {
	fi, err := h.Stat()
	if err != nil {
		return
	}
	if !t.unchanged(f, h, fi.Size()) {
		t.restart(f)
	}
	for restarts := 0; restarts < 3; {
		n, err := h.ReadAt(t.buf, f.offset)
		if n > 0 && f.offset > 0 && !t.unchanged(f, h, f.offset) {
			t.restart(f)
			restarts++
			continue
		}
		if n > 0 {
			t.consume(f, t.buf[:n])
		}
		if err != nil || n < len(t.buf) {
			if err != nil && !errors.Is(err, io.EOF) {
				t.log.Debug("reading log file failed", "path", f.path, "err", err)
			}
			return
		}
	}
}

// restart reads a file again from its start: its content was replaced in place.
func (t *Tailer) restart(f *file) {
	t.stats.Truncations.Add(1)
	t.log.Debug("log file content replaced; reading it from the start", "path", f.path, "offset", f.offset)
	t.endContent(f)
	f.sink = t.cfg.NewSink()
	f.offset = 0
	f.head = f.head[:0]
	f.tailN = 0
	f.skipping = false
}

// endContent closes the sink of the current content; a line left without its newline is malformed.
func (t *Tailer) endContent(f *file) {
	if len(f.partial) > 0 {
		f.sink.Malformed()
	}
	f.partial = nil
	f.sink.Close()
}

// finish ends a file that is no longer found: with a kept handle its rest is read first.
func (t *Tailer) finish(f *file) {
	if f.handle != nil {
		t.readFrom(f, f.handle)
		f.handle.Close()
		f.handle = nil
	}
	t.log.Debug("log file gone", "path", f.path)
	t.endContent(f)
}

// consume splits what was read into lines and records what the read covered.
func (t *Tailer) consume(f *file, b []byte) {
	t.stats.BytesRead.Add(uint64(len(b)))
	f.lastData = t.cfg.Now()
	if len(f.head) < headLen && f.offset == int64(len(f.head)) {
		f.head = append(f.head, b[:min(len(b), headLen-len(f.head))]...)
	}
	f.offset += int64(len(b))
	if len(b) >= tailLen {
		f.tailN = copy(f.tail[:], b[len(b)-tailLen:])
	} else {
		keep := min(f.tailN, tailLen-len(b))
		copy(f.tail[:], f.tail[f.tailN-keep:f.tailN])
		f.tailN = keep + copy(f.tail[keep:], b)
	}
	limit := t.cfg.MaxLineBytes
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.keepPartial(f, b)
			return
		}
		line := b[:i]
		b = b[i+1:]
		switch {
		case f.skipping:
			f.skipping = false
		case len(f.partial)+len(line) > limit:
			f.sink.Malformed()
			f.partial = f.partial[:0]
		case len(f.partial) > 0:
			f.partial = append(f.partial, line...)
			f.sink.Line(f.partial)
			f.partial = releaseLarge(f.partial)
		default:
			f.sink.Line(line)
		}
	}
}

// keepPartial holds the start of a line until its newline comes, up to the limit; a longer
// line is counted once and its bytes are dropped as they arrive.
func (t *Tailer) keepPartial(f *file, b []byte) {
	if f.skipping {
		return
	}
	if len(f.partial)+len(b) > t.cfg.MaxLineBytes {
		f.sink.Malformed()
		f.partial = nil
		f.skipping = true
		return
	}
	f.partial = append(f.partial, b...)
}

// releaseLarge empties a line buffer, letting go of a large one.
func releaseLarge(b []byte) []byte {
	if cap(b) > readBufSize {
		return nil
	}
	return b[:0]
}

// OpenShared opens a file for reading without keeping the application from writing, renaming
// or deleting it meanwhile (on Windows os.Open would).
func OpenShared(path string) (*os.File, error) { return openShared(path) }
