package process

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appclose"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

func exitsOf(ms map[string]float64, reason string) float64 {
	return ms[`candy_cadence_app_exits_total{reason="`+reason+`"}`]
}

func exitsTotal(ms map[string]float64) float64 {
	return exitsOf(ms, "closed") + exitsOf(ms, "crashed") + exitsOf(ms, "unknown")
}

// testClock is a clock that tests move by hand.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time          { return c.t }
func (c *testClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newTestClock() *testClock               { return &testClock{t: exporterStart.Add(time.Hour)} }

// newClockedCollector builds a collector on a test clock, with the close log closes.
func newClockedCollector(src processSource, closes *appclose.Log, clock *testClock) *Collector {
	c := newCollector(Config{Closes: closes, ExitGrace: 5 * time.Second}, src, promslog.NewNopLogger())
	c.now = clock.now
	c.begun = clock.now()
	return c
}

func TestProcessSeesStartsAndExitsBetweenScrapes(t *testing.T) {
	clock := newTestClock()
	src := &fakeProcesses{procs: []fakeProc{otherProc(1, "systemd", "/sbin/init")}}
	c := newClockedCollector(src, nil, clock)
	collectortest.Collect(t, c)
	// Three short runs of the application, each begun and ended between two scrapes, one of
	// them under a PID that the next reuses; the background poll sees each of them.
	for i, pid := range []int32{300, 300, 301} {
		src.procs = append(src.procs, appProc(pid, float64(exporterStart.Unix())+100+float64(i)))
		clock.advance(time.Second)
		if err := c.poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		src.procs = src.procs[:1]
		clock.advance(time.Second)
		if err := c.poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	clock.advance(10 * time.Second)
	ms := collectortest.Collect(t, c)
	if ms["candy_cadence_app_starts_total"] != 3 || exitsOf(ms, "unknown") != 3 || exitsTotal(ms) != 3 {
		t.Fatalf("starts=%v exits=%v (unknown %v), want 3 and 3 unknown: no logs are followed",
			ms["candy_cadence_app_starts_total"], exitsTotal(ms), exitsOf(ms, "unknown"))
	}
	if ms["candy_cadence_up"] != 0 {
		t.Fatal("up while no process runs")
	}
}

// TestProcessExitReasons covers how an exit is classified: by a close record of its process
// (also one read after the exit was seen, within the grace period), as crashed when the logs
// are followed and have none, as unknown when nothing follows them; and that no exit is
// counted before its grace period ends unless its close record is there.
func TestProcessExitReasons(t *testing.T) {
	const pid = 4200
	type step struct {
		after  time.Duration // since the exit was seen
		record bool          // a close record of the process is read now
		want   [3]float64    // closed, crashed, unknown after this step's scrape
	}
	cases := []struct {
		name      string
		closes    bool // a close log exists (the logs collector is enabled)
		following bool
		otherPID  bool // the record names another process
		steps     []step
	}{
		{"record before the exit", true, true, false, []step{{-time.Second, true, [3]float64{}}, {0, false, [3]float64{1, 0, 0}}}},
		{"record read after the exit, within the grace period", true, true, false, []step{{0, false, [3]float64{}}, {3 * time.Second, true, [3]float64{1, 0, 0}}, {time.Minute, false, [3]float64{1, 0, 0}}}},
		{"no record: crashed once the grace period is over", true, true, false, []step{{0, false, [3]float64{}}, {4 * time.Second, false, [3]float64{}}, {5 * time.Second, false, [3]float64{0, 1, 0}}, {6 * time.Second, true, [3]float64{0, 1, 0}}}},
		{"a record of another process", true, true, true, []step{{-time.Second, true, [3]float64{}}, {0, false, [3]float64{}}, {5 * time.Second, false, [3]float64{0, 1, 0}}}},
		{"logs not followed", true, false, false, []step{{0, false, [3]float64{}}, {5 * time.Second, false, [3]float64{0, 0, 1}}}},
		{"logs collector disabled", false, false, false, []step{{0, false, [3]float64{}}, {5 * time.Second, false, [3]float64{0, 0, 1}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			var closes *appclose.Log
			if tc.closes {
				closes = appclose.NewLog()
				closes.Follow(func() bool { return tc.following })
			}
			src := &fakeProcesses{procs: []fakeProc{appProc(pid, float64(exporterStart.Unix())+10)}}
			c := newClockedCollector(src, closes, clock)
			collectortest.Collect(t, c)
			clock.advance(10 * time.Second)
			src.procs = nil
			exitSeen := clock.now()
			for _, s := range tc.steps {
				clock.t = exitSeen.Add(s.after)
				if s.record {
					recPID := int32(pid)
					if tc.otherPID {
						recPID = pid + 1
					}
					closes.Add(appclose.Notice{PID: recPID, At: clock.now()})
				}
				if s.after < 0 {
					continue // the record is written while the process still runs
				}
				ms := collectortest.Collect(t, c)
				got := [3]float64{exitsOf(ms, "closed"), exitsOf(ms, "crashed"), exitsOf(ms, "unknown")}
				if got != s.want {
					t.Fatalf("%s after the exit: closed, crashed, unknown = %v, want %v", s.after, got, s.want)
				}
			}
		})
	}
}

// fakeExitCodes adds Windows-like exit codes to the fake process table.
type fakeExitCodes struct {
	*fakeProcesses
	codes   map[int32]uint32
	watched map[int32]bool
}

func (f *fakeExitCodes) Watch(ref procRef) { f.watched[ref.PID] = true }

func (f *fakeExitCodes) ExitCode(ref procRef) (uint32, bool) {
	if !f.watched[ref.PID] {
		return 0, false
	}
	delete(f.watched, ref.PID)
	return exitCodeOf(f.codes[ref.PID])
}

func (f *fakeExitCodes) Close() { clear(f.watched) }

func TestProcessExitCodeDecidesWhenLogsCannot(t *testing.T) {
	for _, following := range []bool{false, true} {
		clock := newTestClock()
		closes := appclose.NewLog()
		closes.Follow(func() bool { return following })
		src := &fakeExitCodes{
			fakeProcesses: &fakeProcesses{procs: []fakeProc{appProc(10, 1), appProc(11, 1), appProc(12, 1)}},
			codes:         map[int32]uint32{10: 0, 11: 0xC0000005, 12: stillActive},
			watched:       map[int32]bool{},
		}
		c := newClockedCollector(src, closes, clock)
		collectortest.Collect(t, c)
		if len(src.watched) != 3 {
			t.Fatalf("%d processes watched, want 3", len(src.watched))
		}
		src.procs = nil
		collectortest.Collect(t, c)
		clock.advance(time.Minute)
		ms := collectortest.Collect(t, c)
		got := [3]float64{exitsOf(ms, "closed"), exitsOf(ms, "crashed"), exitsOf(ms, "unknown")}
		want := [3]float64{1, 1, 1} // 0: closed; an access violation: crashed; no code: unknown
		if following {
			want = [3]float64{0, 3, 0} // the logs tell, and they hold no close record
		}
		if got != want {
			t.Errorf("logs followed=%v: closed, crashed, unknown = %v, want %v", following, got, want)
		}
		if len(src.watched) != 0 {
			t.Errorf("%d handles still held after every exit", len(src.watched))
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		logged, following, haveCode bool
		code                        uint32
		want                        int
	}{
		{true, true, true, 1, reasonClosed},
		{true, false, false, 0, reasonClosed},
		{false, true, true, 0, reasonCrashed},
		{false, false, true, 0, reasonClosed},
		{false, false, true, 3, reasonCrashed},
		{false, false, false, 0, reasonUnknown},
	} {
		if got := classify(tc.logged, tc.following, tc.code, tc.haveCode); got != tc.want {
			t.Errorf("classify(logged=%v, following=%v, code=%d known=%v) = %s, want %s",
				tc.logged, tc.following, tc.code, tc.haveCode, reasonNames[got], reasonNames[tc.want])
		}
	}
}

func TestProcessCountsOnlyTheExportersUser(t *testing.T) {
	ana := appProc(100, 1_700_000_100)
	ben := appProc(200, 1_700_000_100)
	ben.owner = "1001"
	unreadable := appProc(300, 1_700_000_100)
	unreadable.owner = "?"
	for _, all := range []bool{false, true} {
		src := &fakeProcesses{procs: []fakeProc{ana, ben, unreadable}}
		c := newCollector(Config{AllUsers: all}, src, promslog.NewNopLogger())
		ms := collectortest.Collect(t, c)
		want := 1.0
		if all {
			want = 3
		}
		if ms["candy_cadence_processes"] != want || ms["candy_cadence_app_starts_total"] != want {
			t.Errorf("all users=%v: processes=%v starts=%v, want %v", all, ms["candy_cadence_processes"], ms["candy_cadence_app_starts_total"], want)
		}
		src.procs = src.procs[:0]
		clock := newTestClock()
		c.now = clock.now
		collectortest.Collect(t, c)
		clock.advance(time.Minute)
		if ms := collectortest.Collect(t, c); exitsTotal(ms) != want {
			t.Errorf("all users=%v: exits=%v, want %v", all, exitsTotal(ms), want)
		}
	}
}

// TestProcessStartsByTokenNotClock checks the first listing: a process counts as a start when
// its start token is above the exporter's own, compared in the listing's own units. The old
// comparison of a start time computed from /proc/stat's whole-second boot time with the
// exporter's wall clock missed processes started in the first second after the exporter.
func TestProcessStartsByTokenNotClock(t *testing.T) {
	self := uint64(exporterStart.Unix())
	src := &fakeProcesses{procs: []fakeProc{appProc(1, float64(self-1)), appProc(2, float64(self)), appProc(3, float64(self+1))}}
	for i := range src.procs {
		src.procs[i].stats.StartTime = float64(self) - 0.5 // what a truncated boot time makes of all three
	}
	c := newTestProcessCollector(src)
	if ms := collectortest.Collect(t, c); ms["candy_cadence_app_starts_total"] != 1 {
		t.Fatalf("starts = %v, want 1: only the process begun after the exporter", ms["candy_cadence_app_starts_total"])
	}
}

// TestProcessChildrenAndExecAreOneInstance: a launcher that runs the application as a child
// (a PyInstaller build's two processes, worker processes) is one start and one exit; a
// launcher that execs the application under its PID is one too; a close record of the child
// classifies the instance's exit.
func TestProcessChildrenAndExecAreOneInstance(t *testing.T) {
	clock := newTestClock()
	closes := appclose.NewLog()
	closes.Follow(func() bool { return true })
	launcher := appProc(500, 1_700_000_100)
	launcher.ref.Name = "3D-MM.exe"
	child := appProc(501, 1_700_000_101)
	child.ref.Name = "3D-MM.exe"
	child.ref.PPID = 500
	worker := appProc(502, 1_700_000_102)
	worker.ref.PPID = 501
	src := &fakeProcesses{procs: []fakeProc{launcher}}
	c := newClockedCollector(src, closes, clock)
	collectortest.Collect(t, c)
	src.procs = []fakeProc{launcher, child}
	clock.advance(time.Second)
	_ = c.poll(context.Background())
	src.procs = []fakeProc{launcher, child, worker}
	clock.advance(time.Second)
	ms := collectortest.Collect(t, c)
	if ms["candy_cadence_processes"] != 3 || ms["candy_cadence_app_starts_total"] != 1 {
		t.Fatalf("processes=%v starts=%v, want 3 processes of 1 instance", ms["candy_cadence_processes"], ms["candy_cadence_app_starts_total"])
	}
	closes.Add(appclose.Notice{PID: 501, At: clock.now()})
	src.procs = nil
	clock.advance(time.Second)
	collectortest.Collect(t, c)
	clock.advance(time.Minute)
	if ms := collectortest.Collect(t, c); exitsOf(ms, "closed") != 1 || exitsTotal(ms) != 1 {
		t.Fatalf("exits closed=%v total=%v, want the one instance closed by its child's record", exitsOf(ms, "closed"), exitsTotal(ms))
	}

	// A matched launcher script that execs the application keeps its PID and start.
	script := appProc(600, 1_700_000_200)
	script.ref.Name = "candy_cadence"
	src.procs = []fakeProc{script}
	collectortest.Collect(t, c)
	src.procs = []fakeProc{appProc(600, 1_700_000_200)}
	clock.advance(time.Second)
	if ms := collectortest.Collect(t, c); ms["candy_cadence_processes"] != 1 {
		t.Fatalf("after exec: %v processes, want 1", ms["candy_cadence_processes"])
	}
	clock.advance(time.Minute)
	ms = collectortest.Collect(t, c)
	if ms["candy_cadence_app_starts_total"] != 2 || exitsTotal(ms) != 1 || ms["candy_cadence_up"] != 1 {
		t.Fatalf("after exec: starts=%v exits=%v up=%v, want 2 1 1", ms["candy_cadence_app_starts_total"], exitsTotal(ms), ms["candy_cadence_up"])
	}
}

func TestProcessBackgroundPollStops(t *testing.T) {
	src := &countingSource{fakeProcesses: &fakeProcesses{}}
	c := newCollector(Config{}, src, promslog.NewNopLogger())
	c.start(time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for src.polls.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	n := src.polls.Load()
	if n < 3 {
		t.Fatalf("%d polls in 10 s at 1 ms", n)
	}
	time.Sleep(20 * time.Millisecond)
	if m := src.polls.Load(); m != n {
		t.Fatalf("%d polls after Close", m-n)
	}
}

// countingSource counts background polls.
type countingSource struct {
	*fakeProcesses
	polls atomic.Int64
}

func (s *countingSource) Poll(ctx context.Context, known map[int32]procRef) ([]procRef, error) {
	s.polls.Add(1)
	return s.fakeProcesses.Poll(ctx, known)
}

// TestProcessInstanceOutlivesItsLauncher: a launcher that starts the application and returns
// is not an exit; the instance ends with its last process, classified by that one's record.
func TestProcessInstanceOutlivesItsLauncher(t *testing.T) {
	clock := newTestClock()
	closes := appclose.NewLog()
	closes.Follow(func() bool { return true })
	launcher := appProc(700, 1_700_000_300)
	launcher.ref.Name = "candy_cadence"
	app := appProc(701, 1_700_000_301)
	app.ref.PPID = 700
	src := &fakeExitCodes{fakeProcesses: &fakeProcesses{}, codes: map[int32]uint32{700: 0, 701: 0}, watched: map[int32]bool{}}
	c := newClockedCollector(src, closes, clock)
	collectortest.Collect(t, c)
	src.procs = []fakeProc{launcher, app}
	clock.advance(time.Second)
	collectortest.Collect(t, c)
	src.procs = []fakeProc{app}
	clock.advance(time.Second)
	collectortest.Collect(t, c)
	clock.advance(time.Minute)
	ms := collectortest.Collect(t, c)
	if ms["candy_cadence_app_starts_total"] != 1 || exitsTotal(ms) != 0 || ms["candy_cadence_up"] != 1 {
		t.Fatalf("launcher gone, application running: starts=%v exits=%v up=%v, want 1 0 1", ms["candy_cadence_app_starts_total"], exitsTotal(ms), ms["candy_cadence_up"])
	}
	if !src.watched[701] || src.watched[700] {
		t.Fatalf("watched %v, want the application's process alone once the launcher is gone", src.watched)
	}
	closes.Add(appclose.Notice{PID: 701, At: clock.now()})
	src.procs = nil
	clock.advance(time.Second)
	ms = collectortest.Collect(t, c)
	if exitsOf(ms, "closed") != 1 || exitsTotal(ms) != 1 {
		t.Fatalf("exits closed=%v total=%v, want the instance closed once", exitsOf(ms, "closed"), exitsTotal(ms))
	}
}
