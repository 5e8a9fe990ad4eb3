package process

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
	want := procStat{comm: "Digital (W) ork", state: 'S', ppid: 1, utime: 1250, stime: 225, threads: 14, startTicks: 987654, vsize: 2147483648, rssPages: 102400}
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
	if len(refs) != 1 || refs[0] != (procRef{PID: 4242, PPID: 1, Name: "python3", Token: 50000}) {
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
	c := newCollector(Config{Match: &Patterns{Cmdline: regexp.MustCompile("^" + regexp.QuoteMeta(cmd.Path) + " ")}}, newProcessSource(), promslog.NewNopLogger())
	c.grace = 0 // no close log: an exit is unknown at once
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
	if ms["candy_cadence_up"] != 0 || exitsTotal(ms) != 1 {
		t.Fatalf("after kill: %v", ms)
	}
}

// TestProcessCountsShortLivedProcessesExactly reproduces issue 14's drift: processes spawned in
// the first second after the exporter started were not counted as starts (their start time,
// computed from /proc/stat's whole-second boot time, fell before the exporter's clock start:
// 100 processes spawned 10 ms apart gave 35 starts and 100 exits on the build machine). Half
// of the processes here are spawned before the first listing, in that second, and live until
// killed; the other half are spawned while the background poll runs and live 2 s (long enough for a poll on a loaded machine), so that
// no scrape ever sees them. Starts and exits must both equal the number spawned.
func TestProcessCountsShortLivedProcessesExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns 100 processes over about 2 s")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	bin := filepath.Join(t.TempDir(), "candy_cadence")
	if err := os.Symlink(sleep, bin); err != nil {
		t.Fatal(err)
	}
	c := newCollector(Config{Match: &Patterns{Cmdline: regexp.MustCompile("^" + regexp.QuoteMeta(bin) + " ")}}, newProcessSource(), promslog.NewNopLogger())
	c.grace = 0 // no close log: exits are unknown at once
	defer c.Close()
	const half = 50
	spawn := func(arg string) *exec.Cmd {
		cmd := exec.Command(bin, arg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		time.Sleep(10 * time.Millisecond)
		return cmd
	}
	var early []*exec.Cmd
	for range half {
		early = append(early, spawn("infinity"))
	}
	c.start(10 * time.Millisecond)
	var late []*exec.Cmd
	for range half {
		late = append(late, spawn("2"))
	}
	for _, cmd := range early {
		_ = cmd.Process.Kill()
	}
	for _, cmd := range append(early, late...) {
		_ = cmd.Wait()
	}
	var ms map[string]float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ms = collectortest.Collect(t, c); exitsTotal(ms) >= 2*half {
			break
		}
	}
	if ms["candy_cadence_app_starts_total"] != 2*half || exitsOf(ms, "unknown") != 2*half || exitsTotal(ms) != 2*half {
		t.Fatalf("%d processes spawned and ended: starts=%v exits=%v, want %d each", 2*half, ms["candy_cadence_app_starts_total"], exitsTotal(ms), 2*half)
	}
}

func TestProcfsPollReadsOnlyNewPIDs(t *testing.T) {
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
	stat := func(pid, name, state string, ppid, start int) string {
		return fmt.Sprintf("%s (%s) %s %d 1 1 0 -1 0 0 0 0 0 10 5 0 0 20 0 3 0 %d 1000 10 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n", pid, name, state, ppid, start)
	}
	write("stat", "btime 1700000000\n")
	write("10/stat", stat("10", "bash", "S", 1, 500))
	write("11/stat", stat("11", "defunct", "Z", 10, 600))
	write("11/status", "Name:\tdefunct\nUid:\t1000\t1001\t1000\t1000\n")
	src := newProcfsSource(root)
	refs, err := src.List(context.Background())
	if err != nil || len(refs) != 1 || refs[0].PID != 10 {
		t.Fatalf("List = %+v, %v; want bash alone (the zombie has exited)", refs, err)
	}
	if owner := src.Owner(context.Background(), procRef{PID: 11}); owner != "1001" {
		t.Errorf("Owner = %q, want the effective uid 1001", owner)
	}
	// A known PID older than youngTicks is not read again: its stat file may change or vanish
	// unseen until List. A young one is read again, as it may have exec'd since (uptime
	// 1000 s: 100,000 ticks).
	write("uptime", "1000.00 1900.00\n")
	write("10/stat", "garbage")
	write("12/stat", stat("12", "candy_cadence", "R", 10, 700))
	write("13/stat", stat("13", "python3", "S", 10, 99500))
	known := map[int32]procRef{10: refs[0], 13: {PID: 13, PPID: 10, Name: "bash", Token: 99500}}
	refs, err = src.Poll(context.Background(), known)
	slices.SortFunc(refs, func(a, b procRef) int { return int(a.PID - b.PID) })
	if err != nil || len(refs) != 3 || refs[0].Name != "bash" || refs[1] != (procRef{PID: 12, PPID: 10, Name: "candy_cadence", Token: 700}) || refs[2].Name != "python3" {
		t.Fatalf("Poll = %+v, %v", refs, err)
	}
}

func TestProcfsIdentityReadsCommandLineHead(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "7"), 0o755); err != nil {
		t.Fatal(err)
	}
	long := "cc1\x00" + strings.Repeat("-Ilong/include/path\x00", 1000)
	if err := os.WriteFile(filepath.Join(root, "7", "cmdline"), []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	id := newProcfsSource(root).Identity(context.Background(), procRef{PID: 7})
	if n := len(strings.Join(id.Cmdline, "\x00")); n > maxCmdline || id.Cmdline[0] != "cc1" {
		t.Fatalf("command line of %d bytes read (first %q), want its first %d bytes at most", n, id.Cmdline[0], maxCmdline)
	}
}
