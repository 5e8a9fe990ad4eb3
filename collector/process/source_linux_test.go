package process

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

func TestParseProcStat(t *testing.T) {
	// A name with spaces and parentheses: fields must be counted from the last ')'.
	line := "4242 (Digital (W) ork) S 1 4242 4242 0 -1 4194560 5000 0 12 0 1250 225 0 0 20 0 14 0 987654 2147483648 102400 18446744073709551615 1 1 0 0 0 0 0 16781312 17642 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{comm: "Digital (W) ork", utime: 1250, stime: 225, threads: 14, startTicks: 987654, vsize: 2147483648, rssPages: 102400}
	if st != want {
		t.Fatalf("parseProcStat = %+v, want %+v", st, want)
	}
	for _, bad := range []string{"", "12 no parens", "12 (x) S 1 2 3", "12 (x) S 1 2 3 4 5 6 7 8 9 10 x 12 13 14 15 16 17 18 19 20 21 22"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) succeeded, want an error", bad)
		}
	}
}

func TestProcfsSourceFixture(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", "cpu  1 2 3 4\nbtime 1700000000\n")
	write("4242/stat", "4242 (python3) S 1 4242 4242 0 -1 4194560 5000 0 12 0 1250 225 0 0 20 0 14 0 50000 2147483648 1000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n")
	write("4242/cmdline", "python3\x00src/main.py\x00")
	write("4242/io", "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 8192\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n")
	write("4242/fd/0", "")
	write("4242/fd/1", "")
	write("self/stat", "not a process directory")
	if err := os.Symlink("/home/ana/Candy-Cadence", filepath.Join(root, "4242", "cwd")); err != nil {
		t.Fatal(err)
	}
	src := newProcfsSource(root)
	refs, err := src.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0] != (procRef{PID: 4242, Name: "python3", Token: 50000}) {
		t.Fatalf("List = %+v", refs)
	}
	id := src.Identity(context.Background(), refs[0])
	if id.Cwd != "/home/ana/Candy-Cadence" || len(id.Cmdline) != 2 || id.Cmdline[1] != "src/main.py" {
		t.Fatalf("Identity = %+v", id)
	}
	s := src.Stats(context.Background(), refs[0])
	want := procStats{
		CPUUser: 12.5, CPUSystem: 2.25, RSS: 1000 * float64(os.Getpagesize()), VMS: 2147483648,
		Threads: 14, FDs: 2, ReadBytes: 8192, WriteBytes: 4096, StartTime: 1_700_000_500,
	}
	if s != want {
		t.Fatalf("Stats = %+v, want %+v", s, want)
	}
	// A new process under the same PID is not mistaken for the listed one.
	stale := refs[0]
	stale.Token++
	if s := src.Stats(context.Background(), stale); !math.IsNaN(s.RSS) {
		t.Fatalf("Stats of a stale reference returned figures: %+v", s)
	}
}

func TestProcessCollectorRealProcfs(t *testing.T) {
	started := time.Now().Add(-time.Minute)
	cmd := collectortest.StartStandInApp(t)
	// Matched by its own command line: on a shared machine other tests run stand-ins too.
	c := newCollector(Config{Match: &Patterns{Cmdline: regexp.MustCompile("^" + regexp.QuoteMeta(cmd.Path) + " ")}}, newProcessSource(), started, promslog.NewNopLogger())
	ms := collectortest.Collect(t, c)
	if ms["candy_cadence_up"] != 1 || ms["candy_cadence_processes"] != 1 {
		t.Fatalf("child %d not found: %v", cmd.Process.Pid, ms)
	}
	if ms["candy_cadence_app_starts_total"] != 1 {
		t.Errorf("starts = %v, want 1 for a process started after the exporter", ms["candy_cadence_app_starts_total"])
	}
	if rss := ms["candy_cadence_process_resident_memory_bytes"]; rss <= 0 {
		t.Errorf("rss = %v", rss)
	}
	if st := ms["candy_cadence_process_start_time_seconds"]; st < float64(started.Unix()) || st > float64(time.Now().Unix()+1) {
		t.Errorf("start time %v not within the test's run (pid %s)", st, strconv.Itoa(cmd.Process.Pid))
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	ms = collectortest.Collect(t, c)
	if ms["candy_cadence_up"] != 0 || ms["candy_cadence_app_exits_total"] != 1 {
		t.Fatalf("after kill: %v", ms)
	}
}
