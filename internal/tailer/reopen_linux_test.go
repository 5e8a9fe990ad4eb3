package tailer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// newEventFixture is a fixture whose Poll first takes the inotify events queued so far, as Run
// does, so that a test decides exactly what the tailer has seen when it reads.
func newEventFixture(t *testing.T, truncating ...string) *fixture {
	t.Helper()
	f := newFixture(t, true, true, "*.txt", "*.log")
	f.tl.cfg.TruncatingReopen = truncating
	f.tl.cfg.MaxLineBytes = 1 << 10
	src, err := newEventSource(f.tl.log)
	if err != nil {
		t.Fatal(err)
	}
	src.watch([]string{f.dir})
	f.tl.events = src
	t.Cleanup(src.close)
	f.tl.Poll()
	return f
}

// writeClose opens a name with the given flags, writes and closes it, as the application's
// handler does with each file (mode 'w': O_TRUNC).
func (f *fixture) writeClose(name, text string, flags int) {
	f.t.Helper()
	fh, err := os.OpenFile(f.path(name), os.O_WRONLY|os.O_CREATE|flags, 0o644)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := fh.WriteString(text); err != nil {
		f.t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		f.t.Fatal(err)
	}
}

// record is a line as the application writes it in one second: the same bytes every time.
const record = `{"timestamp": "2025-03-14T09:26:53", "level": "DEBUG", "message": "Cache miss: gear.stl"}`

// The known hole of content checks: a file reopened with mode 'w' whose new content starts
// with the same bytes and has the same bytes before the old offset looks like an append. The
// reopen is seen through the writer's close and next write, and the new content read whole.
func TestTruncatingReopenSeen(t *testing.T) {
	f := newEventFixture(t, "*.txt")
	f.writeClose("Log.txt", record+"\n", os.O_TRUNC)
	f.expect(record)
	f.writeClose("Log.txt", record+"\n"+record+"\n", os.O_TRUNC) // longer, same bytes before the old offset
	f.expect(record, record)
	f.writeClose("Log.txt", record+"\n", os.O_TRUNC) // one record, shorter
	f.expect(record)
	f.writeClose("Log.txt", record+"\n", os.O_TRUNC) // one record, the same length: identical content
	f.expect(record)
	if s := f.tl.Stats(); s.LostFiles.Load() != 0 || s.LostBytes.Load() != 0 {
		t.Errorf("lost %d files, %d bytes; nothing was lost", s.LostFiles.Load(), s.LostBytes.Load())
	}
}

// A file not listed as truncating-reopen is appended to through new opens: content decides,
// and nothing is read twice.
func TestAppendingReopenNotReadTwice(t *testing.T) {
	f := newEventFixture(t, "*.txt")
	f.writeClose("errors.log", record+"\n", os.O_APPEND)
	f.expect(record)
	f.writeClose("errors.log", record+"\n", os.O_APPEND)
	f.expect(record)
	if _, _, trunc := f.stats(); trunc != 0 {
		t.Errorf("%d restarts of a file only appended to", trunc)
	}
}

// openWriter opens a name with mode 'w' and keeps it open, as the application's handler does
// until its next rotation.
func (f *fixture) openWriter(name string) *os.File {
	f.t.Helper()
	fh, err := os.OpenFile(f.path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { fh.Close() })
	return fh
}

// An incarnation the writer replaced before it was read is counted as lost.
func TestReopenLossCounted(t *testing.T) {
	f := newEventFixture(t, "*.txt")
	w := f.openWriter("Log.txt")
	w.WriteString("a1\n")
	f.expect("a1")
	w.WriteString("b2\n") // the incarnation grows, unread...
	w.Close()
	f.writeClose("Log.txt", "c3\n", os.O_TRUNC) // ...and is replaced
	f.expect("c3")
	if lost := f.tl.Stats().LostFiles.Load(); lost != 1 {
		t.Errorf("lost files %d, want 1", lost)
	}
}

// A read that raced with a reopen: the bytes it got are checked against the file's new
// content. Different bytes were the old incarnation's and are counted; the same bytes are
// taken as the new incarnation's, which is read once from its start.
func TestReadRacingReopen(t *testing.T) {
	for _, tc := range []struct {
		name, replacement string
		want              []string
	}{
		{"different", "x1\nx2\nx3\n", []string{"b2", "x1", "x2", "x3"}},
		{"identical", "a1\nb2\n", []string{"a1", "b2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newEventFixture(t, "*.txt")
			w := f.openWriter("Log.txt")
			w.WriteString("a1\n")
			f.expect("a1")
			w.WriteString("b2\n")
			f.tl.takeEvents() // the write is known; the reopen comes during the read
			done := false
			f.tl.afterRead = func() {
				if !done {
					done = true
					w.Close()
					f.writeClose("Log.txt", tc.replacement, os.O_TRUNC)
				}
			}
			f.tl.readPass()
			f.tl.afterRead = nil
			f.tl.Poll()
			if got := f.out.take(); !slices.Equal(got, tc.want) {
				t.Errorf("lines %q, want %q", got, tc.want)
			}
		})
	}
}

// A file that appears and is deleted before the tailer gets to it is counted as lost.
func TestVanishedUnreadCounted(t *testing.T) {
	f := newEventFixture(t)
	f.write("gone.log", "x\n")
	if err := os.Remove(f.path("gone.log")); err != nil {
		t.Fatal(err)
	}
	f.expect()
	if lost := f.tl.Stats().LostFiles.Load(); lost != 1 {
		t.Errorf("lost files %d, want 1", lost)
	}
}

// Item 7: a sparse file's hole inside an over-long line is jumped over, not read.
func TestSparseHoleSkipped(t *testing.T) {
	f := newFixture(t, true, true)
	f.write("big.log", "start\n")
	if err := os.Truncate(f.path("big.log"), 1<<30); err != nil {
		t.Fatal(err)
	}
	f.write("big.log", "end\nafter\n")
	f.write("small.log", "small\n")
	f.expect("start", "after", "small")
	if read := f.tl.Stats().BytesRead.Load(); read > 4<<20 {
		t.Errorf("read %d bytes of a 1 GiB file that is one hole", read)
	}
	if f.out.malformed != 1 {
		t.Errorf("malformed %d, want 1 (the line the hole is in)", f.out.malformed)
	}
}

// Item 6: a flood of new files costs a bounded number of scans and descriptors.
func TestCreateFloodCoalesced(t *testing.T) {
	dir := t.TempDir()
	out := &lines{}
	tl, err := New(Config{
		Globs: []string{filepath.Join(dir, "*.log")}, PollInterval: time.Hour, MaxLineBytes: 1 << 10,
		MaxFiles: 50, KeepOpen: true, FileEvents: true, NewSink: func() FileSink { return sink{out} },
	})
	if err != nil {
		t.Fatal(err)
	}
	fdsBefore := openFDs(t)
	stop := runInBackground(t, tl)
	defer stop()
	began := time.Now()
	for i := range 2000 {
		if err := os.WriteFile(filepath.Join(dir, strings.Repeat("f", 1+i%7)+itoa(i)+".log"), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for tl.Stats().OverLimit.Load() != 1950 || tl.Stats().Files.Load() != 50 {
		if time.Now().After(deadline) {
			t.Fatalf("followed %d, over the limit %d; want 50 and 1950", tl.Stats().Files.Load(), tl.Stats().OverLimit.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(began)
	scans := tl.Stats().Scans.Load()
	if bound := uint64(elapsed/minScanGap) + 3; scans > bound {
		t.Errorf("%d scans in %v for 2,000 new files; coalesced, at most %d", scans, elapsed, bound)
	}
	if held := openFDs(t) - fdsBefore; held > 50+10 {
		t.Errorf("%d more descriptors open while following at most 50 files", held)
	}
	t.Logf("%d scans in %v", scans, elapsed)
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// Without kept handles a followed file that is deleted frees its inode, and the application's
// next new file may get it: the tailer then finds a created name whose identity it already
// follows. Writes after a create are not a reopen, even though the deleted file's writer had
// closed it, or the new file's first records would be read twice. The kernel's reuse cannot be
// forced, so links make the same events: the followed inode leaves the watched directory under
// another name, is given new content there (its write events are not the watched
// directory's), and comes back as a new name.
func TestCreatedOnReusedIdentityReadOnce(t *testing.T) {
	f := newEventFixture(t, "*.txt")
	f.tl.cfg.KeepOpen = false // the Windows strategy: no handle keeps the inode from reuse
	f.writeClose("Log - 1 DEBUG.txt", "a1\n", os.O_TRUNC)
	f.expect("a1") // its writer closed it

	elsewhere := filepath.Join(t.TempDir(), "new.txt")
	if err := os.Link(f.path("Log - 1 DEBUG.txt"), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.path("Log - 1 DEBUG.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(elsewhere, []byte("x1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(elsewhere, f.path("Log - 2 INFO.txt")); err != nil {
		t.Fatal(err)
	}
	f.expect("x1")
	w, err := os.OpenFile(f.path("Log - 2 INFO.txt"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("x2\n") // the new file's writer goes on: no reopen
	w.Close()
	f.expect("x2")
}
