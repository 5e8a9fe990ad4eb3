// Package tailer follows the files that match a set of glob patterns and hands their complete
// lines to a consumer, through every way a log file is replaced: rotation by rename, a new file
// per rotation (the Candy-Cadence application starts one on every change of level), deletion,
// copytruncate, and the application's reopening of the same name with mode 'w' within one second.
//
// Files are known by identity (device and inode, or volume and file index), not by name, so a
// renamed file is followed under its new name. A file whose content was replaced in place is
// read again from its start. Where the system reports it (inotify on Linux), a writer's reopen
// of a file it had closed is seen as it happens; for files whose writer only ever reopens them
// with mode 'w' (Config.TruncatingReopen) that starts a new incarnation even when the new
// content is byte for byte what was there. Elsewhere, and as a fallback, content replacement is
// noticed when the file is smaller than what was read, or its first bytes or the bytes just
// before the read offset differ.
//
// Reading is driven by file events with polling as the fallback; Poll does one full pass and
// is what tests call. Each file gets a bounded slice per pass, so one huge file cannot hold up
// the others. Loss is counted where it is known: bytes seen in a file that was replaced or
// removed before they were read, and files that had unread writes when they were replaced or
// vanished before they could be read.
package tailer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
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
	// MaxFiles bounds the files followed at once, and so the descriptors held; 0 means
	// DefaultMaxFiles. Matching files past the bound are reported, not followed.
	MaxFiles int
	// KeepOpen holds each file open between reads, so the rest of a renamed or deleted file can
	// still be read. It is off on Windows, where an open handle could stop the application from
	// reusing a name it deleted: there each read opens and closes the file.
	KeepOpen bool
	// FileEvents reacts to file system events between polls.
	FileEvents bool
	// TruncatingReopen are base-name patterns of files whose writer opens them only with mode
	// 'w': when such a file's writer closes it and writes to it again, its content is new
	// however alike it looks (the application's "Log - *.txt").
	TruncatingReopen []string
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

// DefaultMaxFiles is MaxFiles' default: the application keeps 5 main log files and a few
// others per directory, so a hundred leaves room for every directory it uses.
const DefaultMaxFiles = 100

const (
	headLen     = 256      // first bytes of a file compared to notice its content was replaced
	tailLen     = 64       // bytes before the read offset compared likewise
	readBufSize = 64 << 10 // one read
	sliceReads  = 16       // reads per file per pass: 1 MiB, then the other files get their turn
	startWindow = 64 << 10 // how far back from the end a file found at start-up looks for a line start
	// minScanGap is the shortest time between two full scans that file events ask for; a scan
	// that took long waits ten times its duration, so a flood of files costs a bounded share of
	// a core.
	minScanGap = 50 * time.Millisecond
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
	for _, g := range c.TruncatingReopen {
		if _, err := filepath.Match(g, ""); err != nil {
			return fmt.Errorf("truncating-reopen pattern %q: %w", g, err)
		}
	}
	if c.PollInterval <= 0 {
		return fmt.Errorf("poll interval %v must be positive", c.PollInterval)
	}
	if c.MaxLineBytes <= 0 {
		return fmt.Errorf("maximum line length %d must be positive", c.MaxLineBytes)
	}
	if c.MaxFiles < 0 {
		return fmt.Errorf("maximum number of files %d must not be negative", c.MaxFiles)
	}
	if c.NewSink == nil {
		return errors.New("no line consumer")
	}
	return nil
}

// Stats are the tailer's own counters. They are safe to read while the tailer runs.
type Stats struct {
	Files       atomic.Int64  // files followed now
	BytesRead   atomic.Uint64 // bytes read from all files (holes of sparse files skipped are not read)
	Rotations   atomic.Uint64 // new files found after the first scan
	Truncations atomic.Uint64 // files whose content was replaced in place and read again from the start
	// LostBytes are bytes known to have been in a file (its size was seen) that was replaced
	// or removed before they were read.
	LostBytes atomic.Uint64
	// LostFiles are files, or in-place incarnations of a file, known to have had data that
	// was never read: replaced or removed with writes unread, or gone before they could be
	// opened. Zero means the counts are complete; otherwise they are a lower bound.
	LostFiles atomic.Uint64
	// Unreadable are matching files that could not be opened at the last scan.
	Unreadable atomic.Int64
	// UnlistedDirs are directories of the patterns that could not be listed at the last scan
	// (a directory that does not exist is not counted: the application has not made it yet).
	UnlistedDirs atomic.Int64
	// OverLimit are matching files not followed at the last scan because MaxFiles were.
	OverLimit atomic.Int64
	// Scans are full scans of the patterns, counted when each is over.
	Scans atomic.Uint64
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
	verify   []byte
	scratch  []byte
	stats    Stats

	events   eventSource // nil without file events (and in Poll-only use)
	toRead   []*file     // files with news or data left, each once (file.queued)
	scanDue  bool        // an event asked for a full scan
	lastScan time.Time
	scanCost time.Duration

	// Reported problems, each logged once when it starts and once when it ends.
	unreadable map[string]bool // path -> it was there at the first scan
	unlisted   map[string]bool
	overLimit  bool

	readDir   func(string) ([]os.DirEntry, error) // os.ReadDir; tests make it fail
	open      func(string) (*os.File, error)      // openShared; likewise
	afterRead func()                              // tests change the file between a read and its check
}

type file struct {
	id         fileID
	path       string
	truncating bool     // its writer reopens it only with mode 'w'
	handle     *os.File // kept between reads only with KeepOpen
	offset     int64
	size       int64 // the largest size seen of this incarnation
	head       []byte
	tail       [tailLen]byte
	tailN      int
	partial    []byte
	skipping   bool      // inside a line over the limit, until its newline
	lastData   time.Time // when data last came (or the file was first seen)
	seen       uint64
	sink       FileSink
	queued     bool // in toRead

	// From file events, in the order the system saw them.
	tracked      bool // every open for writing since it was created is known: created, or closed, under watch
	unreadWrite  bool // a write was reported that no read has covered yet
	writerClosed bool // its writer closed it; a later write comes through a new open
	reopened     bool // its writer opened it again since the last read: read anew from the start
	oldUnread    bool // the incarnation the reopen ended had writes not read
}

// New returns a tailer for cfg, which must be valid.
func New(cfg Config) (*Tailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dirs, wild := groupPatterns(cfg.Globs)
	return &Tailer{
		dirs:       dirs,
		wildDirs:   wild,
		cfg:        cfg,
		log:        logger,
		files:      make(map[fileID]*file),
		byPath:     make(map[string]*file),
		buf:        make([]byte, readBufSize),
		verify:     make([]byte, readBufSize),
		scratch:    make([]byte, max(headLen, tailLen)),
		unreadable: map[string]bool{},
		unlisted:   map[string]bool{},
		readDir:    os.ReadDir,
		open:       openShared,
	}, nil
}

// Stats returns the tailer's counters.
func (t *Tailer) Stats() *Stats { return &t.stats }

// Poll takes the file events that are waiting, scans the patterns and reads every file to its
// end, oldest content first: files already followed, then the rest of those no longer found
// (with KeepOpen; they are then finished), then new files. Files take turns by slices.
func (t *Tailer) Poll() {
	t.takeEvents()
	t.scan()
	for len(t.toRead) > 0 {
		t.readPass()
	}
	t.idle()
}

// idle tells the sinks of files without data for a poll interval.
func (t *Tailer) idle() {
	now := t.cfg.Now()
	for _, f := range t.files {
		// A writer may split one record over several writes: a record is complete only after
		// a full poll interval without data, however often polls come.
		if now.Sub(f.lastData) >= t.cfg.PollInterval {
			f.sink.Idle()
		}
	}
}

// scan lists the patterns, follows new files, finishes the ones known to be gone and queues
// every followed file for a read.
func (t *Tailer) scan() {
	began := time.Now()
	t.scanDue = false
	t.gen++
	paths, failedDirs := t.expand()
	var fresh []string
	var freshIDs []fileID
	for _, path := range paths {
		id, err := identify(path)
		if err != nil {
			f := t.byPath[path]
			switch {
			case f != nil && !errors.Is(err, fs.ErrNotExist):
				f.seen = t.gen // cannot look at it now (permissions, descriptors): still the same file
			case f == nil && errors.Is(err, fs.ErrNotExist) && t.scanned:
				t.vanished(path)
			}
			continue
		}
		f := t.files[id]
		if f == nil {
			fresh, freshIDs = append(fresh, path), append(freshIDs, id)
			continue
		}
		if f.seen != t.gen { // a second name (hard link) of a file seen already is not a rename
			t.rename(f, path)
		}
		f.seen = t.gen
		t.queue(f)
	}
	for id, f := range t.files {
		if f.seen == t.gen {
			continue
		}
		if failedDirs[filepath.Dir(f.path)] {
			f.seen = t.gen // its directory could not be listed: a file not seen is not gone
			t.queue(f)
			continue
		}
		t.finish(f)
		delete(t.files, id)
		if t.byPath[f.path] == f {
			delete(t.byPath, f.path)
		}
	}
	fresh, freshIDs = t.withinLimit(fresh, freshIDs)
	unreadable := map[string]bool{}
	for i, path := range fresh {
		if t.files[freshIDs[i]] != nil {
			continue // a second name (hard link) of a file started above
		}
		f, err := t.start(freshIDs[i], path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			t.vanished(path)
		case err != nil:
			unreadable[path] = true
			t.noteUnreadable(path, err)
		}
		if f != nil {
			f.seen = t.gen
			t.queue(f)
		}
	}
	for path := range t.unreadable {
		if !unreadable[path] {
			delete(t.unreadable, path)
			t.log.Info("log file readable again, or gone", "path", path)
		}
	}
	t.stats.Unreadable.Store(int64(len(t.unreadable)))
	t.scanned = true
	t.stats.Files.Store(int64(len(t.files)))
	t.lastScan = time.Now()
	t.scanCost = t.lastScan.Sub(began)
	t.stats.Scans.Add(1) // counted once done: a caller that sees it knows the listing is over
}

// withinLimit keeps the new files that fit under MaxFiles, the most recently modified first,
// and reports the rest.
func (t *Tailer) withinLimit(paths []string, ids []fileID) ([]string, []fileID) {
	room := t.cfg.MaxFiles - len(t.files)
	over := max(0, len(paths)-max(room, 0))
	t.stats.OverLimit.Store(int64(over))
	if over == 0 {
		if t.overLimit {
			t.overLimit = false
			t.log.Info("log files within the limit again", "max_files", t.cfg.MaxFiles)
		}
		return paths, ids
	}
	if !t.overLimit {
		t.overLimit = true
		t.log.Warn("more log files match than the exporter follows; the newest are followed, the rest are not counted",
			"max_files", t.cfg.MaxFiles, "not_followed", over)
	}
	if room <= 0 {
		return nil, nil
	}
	type cand struct {
		path string
		id   fileID
		mod  time.Time
	}
	cands := make([]cand, len(paths))
	for i, p := range paths {
		cands[i] = cand{path: p, id: ids[i]}
		if fi, err := os.Stat(p); err == nil {
			cands[i].mod = fi.ModTime()
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return b.mod.Compare(a.mod) })
	paths, ids = paths[:0], ids[:0]
	for _, c := range cands[:room] {
		paths, ids = append(paths, c.path), append(ids, c.id)
	}
	return paths, ids
}

// vanished counts a file that appeared and was gone before it could be read.
func (t *Tailer) vanished(path string) {
	t.stats.LostFiles.Add(1)
	t.log.Debug("log file gone before it could be read", "path", path)
}

// noteUnreadable logs a file that cannot be opened, once until it can be.
func (t *Tailer) noteUnreadable(path string, err error) {
	if _, known := t.unreadable[path]; known {
		return
	}
	t.unreadable[path] = !t.scanned
	t.log.Warn("log file cannot be read; its lines are not counted", "path", path, "err", err)
}

// rename records a followed file's new name.
func (t *Tailer) rename(f *file, path string) {
	if f.path == path {
		return
	}
	t.log.Debug("log file renamed", "from", f.path, "to", path)
	if t.byPath[f.path] == f {
		delete(t.byPath, f.path)
	}
	f.path = path
	t.byPath[path] = f
}

// Close finishes every file and releases its handle.
func (t *Tailer) Close() {
	for id, f := range t.files {
		t.finish(f)
		delete(t.files, id)
	}
	clear(t.byPath)
	t.toRead = nil
	t.stats.Files.Store(0)
}

// expand returns the files the patterns match now, each once, in a stable order, and the
// directories that exist but could not be listed. Patterns whose directory part is literal are
// grouped, so each directory is listed once per scan however many patterns name it.
func (t *Tailer) expand() (paths []string, failed map[string]bool) {
	failed = map[string]bool{}
	for _, d := range t.dirs {
		entries, err := t.readDir(d.dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				failed[d.dir] = true
				if !t.unlisted[d.dir] {
					t.unlisted[d.dir] = true
					t.log.Warn("log directory cannot be listed; files already followed are kept", "dir", d.dir, "err", err)
				}
			}
			continue // not there (yet): the application has not started, or the directory went away
		}
		if t.unlisted[d.dir] {
			delete(t.unlisted, d.dir)
			t.log.Info("log directory can be listed again", "dir", d.dir)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			for _, p := range d.patterns {
				if ok, _ := filepath.Match(p, e.Name()); ok {
					paths = append(paths, filepath.Join(d.dir, e.Name()))
					break
				}
			}
		}
	}
	for dir := range t.unlisted {
		if !failed[dir] {
			delete(t.unlisted, dir) // gone altogether
		}
	}
	t.stats.UnlistedDirs.Store(int64(len(failed)))
	for _, g := range t.wildDirs {
		matches, _ := filepath.Glob(g) // patterns were validated: the only error is ErrBadPattern
		paths = append(paths, matches...)
	}
	slices.Sort(paths)
	return slices.Compact(paths), failed
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

// hasMeta reports whether a path has pattern characters; escapes count where the platform
// has them (not on Windows, where \ separates), since an escaped directory must be matched by Glob.
func hasMeta(path string) bool {
	return strings.ContainsAny(path, globMeta)
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

// truncating reports whether a file's writer reopens it only with mode 'w'.
func (t *Tailer) truncating(path string) bool {
	name := filepath.Base(path)
	for _, g := range t.cfg.TruncatingReopen {
		if ok, _ := filepath.Match(g, name); ok {
			return true
		}
	}
	return false
}

// start begins following a file. Files of the first scan start at their end unless
// FromStart; later ones are new and start at the beginning.
func (t *Tailer) start(id fileID, path string) (*file, error) {
	h, err := t.open(path)
	if err != nil {
		return nil, err
	}
	if hid, err := handleID(h); err != nil || hid != id {
		h.Close() // replaced since it was looked at: the next scan sees the new one
		return nil, nil
	}
	f := &file{id: id, path: path, sink: t.cfg.NewSink(), lastData: t.cfg.Now(), truncating: t.truncating(path)}
	t.files[id] = f
	t.byPath[path] = f
	atStart, known := t.unreadable[path]
	if known {
		delete(t.unreadable, path)
		t.log.Info("log file readable again", "path", path)
	}
	if t.scanned && !atStart {
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
	return f, nil
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
	f.size = size
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

// queue puts a file on the list of files to read, once.
func (t *Tailer) queue(f *file) {
	if !f.queued {
		f.queued = true
		t.toRead = append(t.toRead, f)
	}
}

// readPass gives every queued file one slice; files with more data stay queued.
func (t *Tailer) readPass() {
	batch := t.toRead
	t.toRead = nil
	for _, f := range batch {
		f.queued = false
	}
	for _, f := range batch {
		if t.files[f.id] != f {
			continue // finished meanwhile
		}
		if t.read(f, sliceReads) {
			t.queue(f)
		}
	}
}

// read reads up to reads buffers of a file and reports whether data is left.
func (t *Tailer) read(f *file, reads int) (more bool) {
	h := f.handle
	if h == nil {
		var err error
		if h, err = t.open(f.path); err != nil {
			return false
		}
		defer h.Close()
		// Without a kept handle the name may now hold another file.
		if id, err := handleID(h); err != nil || id != f.id {
			return false
		}
	}
	return t.readFrom(f, h, reads)
}

// readFrom reads through h. A read is checked after the fact: against the file events that
// came meanwhile (a reopen of this file) and against its content (replaced while it was read).
func (t *Tailer) readFrom(f *file, h *os.File, reads int) (more bool) {
	t.takeEvents() // what happened to the file so far is known before it is read
	if f.reopened {
		t.reopen(f)
	}
	// This read covers every write reported so far. If it finds the content replaced with no
	// reopen reported, writes reported before were to the old content, and are lost.
	unreadBefore := f.unreadWrite && f.truncating && f.tracked && t.events != nil
	f.unreadWrite = false
	fi, err := h.Stat()
	if err != nil {
		return false
	}
	size := fi.Size()
	if !t.unchanged(f, h, size) {
		if unreadBefore && f.size <= f.offset {
			t.lost(f, "unread writes")
		}
		t.replaced(f)
		// The size was taken before the check and may be the old content's: a size the new
		// content never had would later count as its unread, lost bytes.
		if fi, err = h.Stat(); err != nil {
			return false
		}
		size = fi.Size()
	}
	f.size = max(f.size, size)
	for restarts := 0; reads > 0 && restarts < 3; reads-- {
		if f.skipping {
			t.skipHole(f, h, size)
		}
		n, err := h.ReadAt(t.buf, f.offset)
		if t.afterRead != nil {
			t.afterRead()
		}
		if n > 0 && t.events != nil {
			t.takeEvents()
			if f.reopened {
				t.settleReopen(f, h, t.buf[:n])
				restarts++
				continue
			}
		}
		if n > 0 && f.offset > 0 && !t.unchanged(f, h, f.offset) {
			t.replaced(f)
			restarts++
			continue
		}
		if n > 0 {
			t.consume(f, t.buf[:n])
			f.size = max(f.size, f.offset)
		}
		if err != nil || n < len(t.buf) {
			if err != nil && !errors.Is(err, io.EOF) {
				t.log.Debug("reading log file failed", "path", f.path, "err", err)
			}
			return false
		}
	}
	return reads == 0
}

// settleReopen decides whose bytes a read got when a reopen of the file was reported during
// it. If the file now holds other bytes at that offset, what was read was the old
// incarnation's, and is counted; if it holds the same bytes, they are taken as the new
// incarnation's, which is read from its start: never count a byte twice.
func (t *Tailer) settleReopen(f *file, h *os.File, got []byte) {
	m, _ := h.ReadAt(t.verify[:len(got)], f.offset)
	if m < len(got) || !bytes.Equal(t.verify[:len(got)], got) {
		t.consume(f, got)
	}
	f.size = f.offset // whatever the size seen was, it may have been the new incarnation's
	t.reopen(f)
}

// reopen starts a file's new incarnation after its writer reopened it, counting what the old
// one is known to have lost.
func (t *Tailer) reopen(f *file) {
	f.reopened = false
	if f.oldUnread || f.size > f.offset {
		t.lost(f, "reopen")
	}
	f.oldUnread = false
	t.restart(f)
}

// replaced starts over a file whose content was found replaced, counting the bytes it was
// seen to have beyond what was read.
func (t *Tailer) replaced(f *file) {
	if f.size > f.offset {
		t.lost(f, "replaced")
	}
	t.restart(f)
}

// lost counts an incarnation that had data nobody read.
func (t *Tailer) lost(f *file, why string) {
	t.stats.LostFiles.Add(1)
	if f.size > f.offset {
		t.stats.LostBytes.Add(uint64(f.size - f.offset))
	}
	t.log.Debug("log data lost: replaced or removed before it was read", "path", f.path, "read", f.offset, "size_seen", f.size,
		"why", why, "old_unread", f.oldUnread)
}

// restart reads a file again from its start: its content was replaced in place.
func (t *Tailer) restart(f *file) {
	t.stats.Truncations.Add(1)
	t.log.Debug("log file content replaced; reading it from the start", "path", f.path, "offset", f.offset)
	t.endContent(f)
	f.sink = t.cfg.NewSink()
	f.offset = 0
	f.size = 0
	f.head = f.head[:0]
	f.tailN = 0
	f.skipping = false
}

// skipHole moves a file's offset past a hole (a run of NUL bytes a sparse file does not
// store) while inside a line over the limit, without reading it.
func (t *Tailer) skipHole(f *file, h *os.File, size int64) {
	next, ok := nextData(h, f.offset, size)
	if !ok || next <= f.offset {
		return
	}
	f.offset = next
	f.tailN = copy(f.tail[:], make([]byte, tailLen)) // the hole reads as zeros
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
		for t.readFrom(f, f.handle, sliceReads) {
		}
		f.handle.Close()
		f.handle = nil
	} else if f.unreadWrite || f.size > f.offset {
		t.lost(f, "gone")
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
