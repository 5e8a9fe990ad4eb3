package tailer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// lines collects what the sinks of one tailer receive.
type lines struct {
	mu        sync.Mutex
	got       []string
	malformed int
	idle      int
	closed    int
	sinks     int
}

type sink struct{ l *lines }

func (s sink) Line(b []byte) { s.l.mu.Lock(); s.l.got = append(s.l.got, string(b)); s.l.mu.Unlock() }
func (s sink) Malformed()    { s.l.mu.Lock(); s.l.malformed++; s.l.mu.Unlock() }
func (s sink) Idle()         { s.l.mu.Lock(); s.l.idle++; s.l.mu.Unlock() }
func (s sink) Close()        { s.l.mu.Lock(); s.l.closed++; s.l.mu.Unlock() }

func (l *lines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

type fixture struct {
	t     *testing.T
	dir   string
	tl    *Tailer
	out   *lines
	clock time.Time
}

// modes runs a test with handles kept open (Unix's default) and with a handle per read
// (Windows' default), so that both strategies are proven on any machine.
func modes(t *testing.T, test func(t *testing.T, keepOpen bool)) {
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("keepOpen=%v", keep), func(t *testing.T) { test(t, keep) })
	}
}

func newFixture(t *testing.T, keepOpen, fromStart bool, globs ...string) *fixture {
	t.Helper()
	dir := t.TempDir()
	out := &lines{}
	f := &fixture{t: t, dir: dir, out: out, clock: time.Date(2025, 3, 14, 9, 26, 53, 0, time.Local)}
	for i, g := range globs {
		globs[i] = filepath.Join(dir, g)
	}
	if len(globs) == 0 {
		globs = []string{filepath.Join(dir, "*.log")}
	}
	tl, err := New(Config{
		Globs: globs, FromStart: fromStart, PollInterval: time.Hour, MaxLineBytes: 64,
		KeepOpen: keepOpen,
		NewSink:  func() FileSink { out.mu.Lock(); out.sinks++; out.mu.Unlock(); return sink{out} },
		Now:      func() time.Time { return f.clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tl.Close)
	f.tl = tl
	return f
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

func (f *fixture) write(name, text string) {
	f.t.Helper()
	fh, err := os.OpenFile(f.path(name), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := fh.WriteString(text); err != nil {
		f.t.Fatal(err)
	}
	fh.Close()
}

// overwrite reopens a name with mode 'w', as the application does twice in one second.
func (f *fixture) overwrite(name, text string) {
	f.t.Helper()
	if err := os.WriteFile(f.path(name), []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) expect(want ...string) {
	f.t.Helper()
	f.tl.Poll()
	got := f.out.take()
	if !slices.Equal(got, want) {
		f.t.Fatalf("lines %q, want %q", got, want)
	}
}

func (f *fixture) stats() (files int64, rotations, truncations uint64) {
	s := f.tl.Stats()
	return s.Files.Load(), s.Rotations.Load(), s.Truncations.Load()
}

func TestStartAtEndThenFollow(t *testing.T) {
	modes(t, func(t *testing.T, keep bool) {
		f := newFixture(t, keep, false)
		f.write("a.log", "old 1\nold 2\npartial")
		f.expect()
		f.write("a.log", " line\nnew\n")
		f.expect("partial line", "new")
		f.write("b.log", "b1\n")
		f.expect("b1")
		if files, rot, _ := f.stats(); files != 2 || rot != 1 {
			t.Errorf("files %d rotations %d, want 2 and 1", files, rot)
		}
	})
}

func TestFromStart(t *testing.T) {
	f := newFixture(t, true, true)
	f.write("a.log", "one\ntwo\n")
	f.expect("one", "two")
}

func TestPartialLineWaits(t *testing.T) {
	modes(t, func(t *testing.T, keep bool) {
		f := newFixture(t, keep, true)
		f.write("a.log", `{"level": "IN`)
		f.expect()
		f.write("a.log", `FO"}`)
		f.expect()
		f.write("a.log", "\n")
		f.expect(`{"level": "INFO"}`)
	})
}

func TestLongLineSkipped(t *testing.T) {
	modes(t, func(t *testing.T, keep bool) {
		f := newFixture(t, keep, true)
		f.write("a.log", "short\n"+strings.Repeat("x", 50))
		f.expect("short")
		f.write("a.log", strings.Repeat("y", 100)) // past the 64-byte limit: dropped as it comes
		f.expect()
		for _, fl := range f.tl.files {
			if len(fl.partial) != 0 {
				t.Errorf("an over-long line is held: %d bytes", len(fl.partial))
			}
		}
		f.write("a.log", strings.Repeat("z", 100)+"\nafter\n"+strings.Repeat("w", 65)+"\nend\n")
		f.expect("after", "end")
		if f.out.malformed != 2 {
			t.Errorf("malformed %d, want 2", f.out.malformed)
		}
	})
}

func TestRenameWithinPatterns(t *testing.T) {
	modes(t, func(t *testing.T, keep bool) {
		f := newFixture(t, keep, true, "errors.log", "errors.log.1")
		f.write("errors.log", "a\n")
		f.expect("a")
		f.write("errors.log", "b\n")
		if err := os.Rename(f.path("errors.log"), f.path("errors.log.1")); err != nil {
			t.Fatal(err)
		}
		f.write("errors.log", "c\n")
		f.expect("b", "c") // the renamed file goes on where it was; the new one from its start
		if _, rot, trunc := f.stats(); rot != 1 || trunc != 0 {
			t.Errorf("rotations %d truncations %d, want 1 and 0", rot, trunc)
		}
	})
}

func TestRenameOutOfPatternsDrainsKeptHandle(t *testing.T) {
	f := newFixture(t, true, true, "errors.log")
	f.write("errors.log", "a\n")
	f.expect("a")
	f.write("errors.log", "b\nunfinished")
	if err := os.Rename(f.path("errors.log"), f.path("errors.log.1")); err != nil {
		t.Fatal(err)
	}
	f.write("errors.log", "c\n")
	f.expect("b", "c")
	if f.out.malformed != 1 {
		t.Errorf("malformed %d, want 1 for the line the renamed file ends without", f.out.malformed)
	}
}

func TestDeletion(t *testing.T) {
	modes(t, func(t *testing.T, keep bool) {
		f := newFixture(t, keep, true)
		f.write("a.log", "a\n")
		f.write("b.log", "b\n")
		f.expect("a", "b")
		closed := f.out.closed
		if err := os.Remove(f.path("a.log")); err != nil {
			t.Fatal(err)
		}
		f.expect()
		if files, _, _ := f.stats(); files != 1 || f.out.closed != closed+1 {
			t.Errorf("files %d, closed %d; want 1 and %d", files, f.out.closed, closed+1)
		}
	})
}

func TestCopyTruncate(t *testing.T) {
	modes(t, func(t *testing.T, keep bool) {
		f := newFixture(t, keep, true)
		f.write("a.log", "one\ntwo\n")
		f.expect("one", "two")
		if err := os.Truncate(f.path("a.log"), 0); err != nil {
			t.Fatal(err)
		}
		f.expect()
		f.write("a.log", "three\n")
		f.expect("three")
		if _, _, trunc := f.stats(); trunc != 1 {
			t.Errorf("truncations %d, want 1", trunc)
		}
	})
}

// The application reopens a name with mode 'w' when two rotations fall in one second. By
// the next read the new content may already be longer than the old: size alone cannot tell.
func TestSameSecondOverwriteLongerContent(t *testing.T) {
	modes(t, func(t *testing.T, keep bool) {
		f := newFixture(t, keep, true)
		f.write("app.log", "2025-03-14T09:26:53.000001 first\n")
		f.expect("2025-03-14T09:26:53.000001 first")
		f.overwrite("app.log", "2025-03-14T09:26:53.500002 second\n2025-03-14T09:26:53.500003 third\n")
		f.expect("2025-03-14T09:26:53.500002 second", "2025-03-14T09:26:53.500003 third")
		if _, _, trunc := f.stats(); trunc != 1 {
			t.Errorf("truncations %d, want 1", trunc)
		}
	})
}

// Same first bytes (beyond what the head comparison covers) but different content before the
// offset: the bytes before the offset tell.
func TestOverwriteSameHead(t *testing.T) {
	modes(t, func(t *testing.T, keep bool) {
		f := newFixture(t, keep, true)
		prefix := strings.Repeat("h", 40) + "\n"
		var old, repl strings.Builder
		for range 10 {
			old.WriteString(prefix)
			repl.WriteString(prefix)
		}
		old.WriteString("old tail\n")
		repl.WriteString("new tail\nmore\n")
		f.write("a.log", old.String())
		f.tl.Poll()
		f.out.take()
		f.overwrite("a.log", repl.String())
		got := f.out.take()
		f.tl.Poll()
		got = append(got, f.out.take()...)
		if len(got) != 12 || got[10] != "new tail" || got[11] != "more" {
			t.Errorf("after an overwrite with the same head: %q", got)
		}
	})
}

// TestIdle checks that a file is idle only after a whole poll interval without data, however
// often polls come (file events make them frequent), on a fake clock.
func TestIdle(t *testing.T) {
	f := newFixture(t, true, true)
	f.write("a.log", "a\n")
	f.expect("a")
	f.clock = f.clock.Add(30 * time.Minute)
	f.expect()
	if f.out.idle != 0 {
		t.Errorf("idle %d half a poll interval after data, want 0", f.out.idle)
	}
	f.write("a.log", "b\n")
	f.clock = f.clock.Add(59 * time.Minute)
	f.expect("b")
	if f.out.idle != 0 {
		t.Errorf("idle %d on a poll that read data", f.out.idle)
	}
	f.clock = f.clock.Add(time.Hour)
	f.expect()
	if f.out.idle != 1 {
		t.Errorf("idle %d a poll interval after the last data, want 1", f.out.idle)
	}
}

func TestValidate(t *testing.T) {
	bad := []Config{
		{},
		{Globs: []string{"[a-"}, PollInterval: time.Second, MaxLineBytes: 1, NewSink: func() FileSink { return nil }},
		{Globs: []string{"*.log"}, MaxLineBytes: 1, NewSink: func() FileSink { return nil }},
	}
	for _, c := range bad {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted a bad config", c)
		}
	}
}

// TestFileEvents checks that writes are read without waiting for a poll: the poll interval is
// an hour, so only file events can deliver the lines.
func TestFileEvents(t *testing.T) {
	dir := t.TempDir()
	out := &lines{}
	tl, err := New(Config{
		Globs: []string{filepath.Join(dir, "*.log")}, PollInterval: time.Hour, MaxLineBytes: 1 << 20,
		KeepOpen: true, FileEvents: true, NewSink: func() FileSink { return sink{out} },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Writes raise events only once Run has installed its watch, and a file its first scan
	// lists is one found at start-up, read from its end: runInBackground waits until that
	// scan is over (Run watches before it scans), which a loaded machine can delay well past
	// any fixed sleep.
	defer runInBackground(t, tl)()
	fx := &fixture{t: t, dir: dir}
	fx.write("new.log", "one\n")
	fx.write("new.log", "two\n")
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for time.Now().Before(deadline) && len(got) < 2 {
		time.Sleep(5 * time.Millisecond)
		got = append(got, out.take()...)
	}
	if !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("lines via file events %q, want one, two", got)
	}
}
