package tailer

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func itoa(i int) string { return strconv.Itoa(i) }

// runInBackground runs the tailer until the returned function is called, once its first scan
// is over.
func runInBackground(tb testing.TB, tl *Tailer) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tl.Run(ctx); close(done) }()
	waitStarted(tb, tl)
	return func() { cancel(); <-done }
}

// logBuffer collects a tailer's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func (f *fixture) logTo() *logBuffer {
	b := &logBuffer{}
	f.tl.log = slog.New(slog.NewTextHandler(b, nil))
	return b
}

// Issue 14 item 1: a directory that cannot be listed for a moment does not make its files new:
// nothing is read twice, the failure is logged once and shown in a metric.
func TestListingFailureKeepsFiles(t *testing.T) {
	modes(t, func(t *testing.T, keep bool) {
		f := newFixture(t, keep, true)
		logs := f.logTo()
		var lines []string
		for i := range 10 {
			lines = append(lines, "info "+itoa(i))
		}
		f.write("a.log", strings.Join(lines, "\n")+"\n")
		f.expect(lines...)
		f.tl.readDir = func(string) ([]os.DirEntry, error) {
			return nil, &fs.PathError{Op: "open", Path: f.dir, Err: fs.ErrPermission}
		}
		f.expect()
		f.expect()
		if files, unlisted := f.tl.Stats().Files.Load(), f.tl.Stats().UnlistedDirs.Load(); files != 1 || unlisted != 1 {
			t.Errorf("while unlistable: files %d, unlisted directories %d; want 1 and 1", files, unlisted)
		}
		f.write("a.log", "during\n")
		f.expect("during") // a followed file is still read
		f.tl.readDir = os.ReadDir
		f.expect()
		if n := logs.count("cannot be listed"); n != 1 {
			t.Errorf("listing failure logged %d times, want once", n)
		}
		if unlisted := f.tl.Stats().UnlistedDirs.Load(); unlisted != 0 {
			t.Errorf("unlisted directories %d after recovery", unlisted)
		}
	})
}

// The same with real permissions, as an unprivileged user meets it.
func TestListingFailureChmod(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root lists any directory")
	}
	f := newFixture(t, true, true)
	f.write("a.log", "one\ntwo\n")
	f.expect("one", "two")
	if err := os.Chmod(f.dir, 0); err != nil {
		t.Fatal(err)
	}
	f.expect()
	if err := os.Chmod(f.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.expect()
}

// Issue 14 item 12: a log file that cannot be opened is logged once and counted.
func TestUnreadableFileReported(t *testing.T) {
	f := newFixture(t, true, true)
	logs := f.logTo()
	f.write("a.log", "a\n")
	f.write("b.log", "b\n")
	denied := f.path("b.log")
	f.tl.open = func(path string) (*os.File, error) {
		if path == denied {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}
		}
		return openShared(path)
	}
	f.expect("a")
	f.expect()
	if n := f.tl.Stats().Unreadable.Load(); n != 1 {
		t.Errorf("unreadable %d, want 1", n)
	}
	if n := logs.count("cannot be read"); n != 1 {
		t.Errorf("unreadable file logged %d times, want once", n)
	}
	f.tl.open = openShared
	f.expect("b")
	if n := f.tl.Stats().Unreadable.Load(); n != 0 {
		t.Errorf("unreadable %d after it became readable", n)
	}
}

// Issue 14 item 7: files take turns by slices, so a big file does not hold up a small one.
func TestBigFileDoesNotHoldUpOthers(t *testing.T) {
	f := newFixture(t, true, true)
	line := strings.Repeat("x", 60) + "\n"
	f.write("a-big.log", strings.Repeat(line, (16<<20)/len(line)))
	f.write("b-small.log", "small\n")
	var readWhenSmall uint64
	f.tl.cfg.NewSink = func() FileSink {
		return seqSink(func(b []byte) {
			if string(b) == "small" {
				readWhenSmall = f.tl.Stats().BytesRead.Load()
			}
		})
	}
	f.tl.Poll()
	if limit := uint64(2 * sliceReads * readBufSize); readWhenSmall == 0 || readWhenSmall > limit {
		t.Errorf("the small file's line came after %d bytes of the big file, want at most %d", readWhenSmall, limit)
	}
}

// Loss is counted where it is known: a file replaced while bytes it was seen to have were unread.
func TestReplacedUnreadBytesCounted(t *testing.T) {
	f := newFixture(t, true, true)
	line := strings.Repeat("y", 60) + "\n"
	big := strings.Repeat(line, (3<<20)/len(line))
	f.write("a.log", big)
	f.tl.scan()
	f.tl.readPass() // one slice of three
	f.out.take()
	f.overwrite("a.log", "new\n")
	f.expect("new")
	s := f.tl.Stats()
	if want := uint64(len(big) - sliceReads*readBufSize); s.LostBytes.Load() != want || s.LostFiles.Load() != 1 {
		t.Errorf("lost %d bytes in %d files, want %d in 1", s.LostBytes.Load(), s.LostFiles.Load(), want)
	}
}
