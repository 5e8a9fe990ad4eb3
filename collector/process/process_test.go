package process

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"

	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// fakeProc is one process of fakeProcesses.
type fakeProc struct {
	ref   procRef
	id    procIdentity
	stats procStats
}

// fakeProcesses is a host's process table that tests edit between scrapes.
type fakeProcesses struct {
	procs      []fakeProc
	identities int // how many identity look-ups were made
}

func (f *fakeProcesses) List(context.Context) ([]procRef, error) {
	refs := make([]procRef, len(f.procs))
	for i, p := range f.procs {
		refs[i] = p.ref
	}
	return refs, nil
}

func (f *fakeProcesses) Identity(_ context.Context, ref procRef) procIdentity {
	f.identities++
	for _, p := range f.procs {
		if p.ref == ref {
			return p.id
		}
	}
	return procIdentity{}
}

func (f *fakeProcesses) Stats(_ context.Context, ref procRef) procStats {
	for _, p := range f.procs {
		if p.ref == ref {
			return p.stats
		}
	}
	return unknownStats()
}

var exporterStart = time.Unix(1_700_000_000, 0)

func appProc(pid int32, start float64) fakeProc {
	return fakeProc{
		ref: procRef{PID: pid, Name: "python3", Token: uint64(start)},
		id: procIdentity{
			Exe:     "/usr/bin/python3.11",
			Cmdline: []string{"python3", "src/main.py"},
			Cwd:     "/home/ana/Candy-Cadence",
		},
		stats: procStats{
			CPUUser: 12.5, CPUSystem: 2.25, RSS: 400 << 20, VMS: 2 << 30,
			Threads: 14, FDs: 57, ReadBytes: 1 << 20, WriteBytes: 4096, StartTime: start,
		},
	}
}

func otherProc(pid int32, name string, cmdline ...string) fakeProc {
	return fakeProc{
		ref:   procRef{PID: pid, Name: name, Token: 1},
		id:    procIdentity{Exe: "/usr/bin/" + name, Cmdline: cmdline, Cwd: "/home/ana/other"},
		stats: unknownStats(),
	}
}

func newTestProcessCollector(src processSource) *Collector {
	return newCollector(Config{}, src, exporterStart, promslog.NewNopLogger())
}

func TestProcessCollectorGolden(t *testing.T) {
	worker := appProc(4242, 1_700_000_100)
	worker.ref.Name = "Digital Workshop.exe"
	worker.stats.StartTime = 1_700_000_050
	src := &fakeProcesses{procs: []fakeProc{
		otherProc(1, "systemd", "/sbin/init"),
		appProc(4200, 1_700_000_100),
		worker,
		otherProc(77, "python3", "python3", "/usr/bin/unattended-upgrade"),
	}}
	collectortest.AssertGolden(t, newTestProcessCollector(src), "process")
}

func TestProcessCollectorAbsentWhenNotRunning(t *testing.T) {
	src := &fakeProcesses{procs: []fakeProc{otherProc(1, "systemd", "/sbin/init")}}
	c := newTestProcessCollector(src)
	want := `
# HELP candy_cadence_up Whether the application is running (1) or not (0).
# TYPE candy_cadence_up gauge
candy_cadence_up 0
# HELP candy_cadence_processes Number of running processes of the application.
# TYPE candy_cadence_processes gauge
candy_cadence_processes 0
`
	if err := testutil.GatherAndCompare(collectortest.Registry(t, c), strings.NewReader(want),
		"candy_cadence_up", "candy_cadence_processes"); err != nil {
		t.Fatal(err)
	}
	names := collectortest.FamilyNames(t, c)
	for _, absent := range []string{"candy_cadence_process_resident_memory_bytes", "candy_cadence_process_cpu_seconds_total", "candy_cadence_process_start_time_seconds"} {
		if names[absent] {
			t.Errorf("%s is exported while the application is not running", absent)
		}
	}
	for _, present := range []string{"candy_cadence_app_starts_total", "candy_cadence_app_exits_total"} {
		if !names[present] {
			t.Errorf("%s is missing while the application is not running; counters must not vanish", present)
		}
	}
}

func TestProcessCollectorCountsRestartBetweenScrapes(t *testing.T) {
	before := float64(exporterStart.Unix()) - 60 // already running when the exporter started
	src := &fakeProcesses{procs: []fakeProc{appProc(100, before)}}
	c := newTestProcessCollector(src)

	scrape := func() (starts, exits, cpuUser float64) {
		t.Helper()
		ms := collectortest.Collect(t, c)
		return ms["candy_cadence_app_starts_total"], ms["candy_cadence_app_exits_total"], ms[`candy_cadence_process_cpu_seconds_total{mode="user"}`]
	}
	if s, e, _ := scrape(); s != 0 || e != 0 {
		t.Fatalf("first scrape: starts=%v exits=%v, want 0 0 (the process predates the exporter)", s, e)
	}
	// The application restarts between two scrapes, reusing the PID with a new start time.
	restarted := appProc(100, float64(exporterStart.Unix())+30)
	restarted.stats.CPUUser = 1
	src.procs = []fakeProc{restarted}
	s, e, cpu := scrape()
	if s != 1 || e != 1 {
		t.Fatalf("after a restart under the same PID: starts=%v exits=%v, want 1 1", s, e)
	}
	// CPU stays monotonic across the restart: 12.5 s from the old process plus 1 s of the new.
	if cpu != 13.5 {
		t.Fatalf("cpu user after restart = %v, want 13.5 (monotonic across process churn)", cpu)
	}
	src.procs = nil
	if s, e, _ := scrape(); s != 1 || e != 2 {
		t.Fatalf("after exit: starts=%v exits=%v, want 1 2", s, e)
	}
}

func TestProcessCollectorAccessDenied(t *testing.T) {
	p := appProc(9, 1_700_000_100)
	// Another user's process: CPU, file descriptors and I/O cannot be read.
	p.stats.CPUUser, p.stats.CPUSystem = math.NaN(), math.NaN()
	p.stats.FDs, p.stats.ReadBytes, p.stats.WriteBytes = math.NaN(), math.NaN(), math.NaN()
	src := &fakeProcesses{procs: []fakeProc{p}}
	c := newTestProcessCollector(src)
	ms := collectortest.Collect(t, c)
	if ms["candy_cadence_up"] != 1 || ms["candy_cadence_process_resident_memory_bytes"] != 400<<20 {
		t.Fatalf("readable fields missing: %v", ms)
	}
	for _, absent := range []string{`candy_cadence_process_cpu_seconds_total{mode="user"}`, "candy_cadence_process_open_fds", "candy_cadence_process_read_bytes_total"} {
		if _, ok := ms[absent]; ok {
			t.Errorf("%s exported although it could not be read", absent)
		}
	}
}

func TestProcessCollectorReadsIdentityOncePerProcess(t *testing.T) {
	src := &fakeProcesses{procs: []fakeProc{otherProc(1, "bash", "bash"), otherProc(2, "sshd", "sshd"), appProc(3, 1_700_000_100)}}
	c := newTestProcessCollector(src)
	for range 5 {
		collectortest.Collect(t, c)
	}
	if src.identities != 3 {
		t.Fatalf("identity read %d times over 5 scrapes of 3 processes, want 3", src.identities)
	}
}

func TestProcessMatcher(t *testing.T) {
	c := newTestProcessCollector(nil)
	cases := []struct {
		name string
		id   procIdentity
		want bool
	}{
		{"3D-MM.exe", procIdentity{Exe: `C:\Program Files\3D-MM\3D-MM.exe`}, true},
		{"Digital Workshop.exe", procIdentity{Exe: `C:\Program Files\Digital Workshop\Digital Workshop.exe`}, true},
		{"candy_cadence", procIdentity{}, true},
		{"candy-cadence", procIdentity{}, true},
		// Executable matched although the listing gave a truncated or generic name.
		{"AppRun", procIdentity{Exe: "/opt/candy-cadence/candy-cadence"}, true},
		{"python3", procIdentity{Cmdline: []string{"python3", "src/main.py"}, Cwd: "/home/ana/Candy-Cadence"}, true},
		{"python", procIdentity{Cmdline: []string{"python", "run.py"}, Cwd: "/home/ana/src/3D-MM"}, true},
		{"python.exe", procIdentity{Cmdline: []string{`C:\Program Files\Python311\python.exe`, `C:\Users\ana\Digital Workshop\run.py`}}, true},
		{"python.exe", procIdentity{Cmdline: []string{"python.exe", `src\main.py`}, Cwd: `C:\Users\ana\Candy-Cadence-main`}, true},
		{"python3.11", procIdentity{Cmdline: []string{"/usr/bin/python3.11", "-X", "dev", "/home/ana/candy_cadence/src/main.py", "--debug"}}, true},
		// Unrelated processes.
		{"python3", procIdentity{Exe: "/usr/bin/python3.11", Cmdline: []string{"python3", "src/main.py"}, Cwd: "/home/ana/other-project"}, false},
		{"python3", procIdentity{Exe: "/usr/bin/python3.11", Cmdline: []string{"/usr/bin/python3", "/usr/bin/unattended-upgrade"}}, false},
		{"python3", procIdentity{Cmdline: []string{"python3", "-m", "http.server"}, Cwd: "/home/ana/Candy-Cadence"}, false},
		{"python3", procIdentity{Cmdline: []string{"python3", "/home/ana/Candy-Cadence/tests/run_tests.py"}}, false},
		{"candy_cadence_e", procIdentity{Exe: "/usr/local/bin/candy_cadence_exporter", Cmdline: []string{"candy_cadence_exporter"}}, false},
		{"vim", procIdentity{Cmdline: []string{"vim", "/home/ana/Candy-Cadence/run.py"}}, false},
		{"bash", procIdentity{Cmdline: []string{"bash"}}, false},
	}
	for _, tc := range cases {
		src := &fakeProcesses{procs: []fakeProc{{ref: procRef{PID: 1, Name: tc.name}, id: tc.id}}}
		c.src = src
		if got := c.matches(context.Background(), procRef{PID: 1, Name: tc.name}); got != tc.want {
			t.Errorf("matches(name=%q, %+v) = %v, want %v (command line seen: %q)", tc.name, tc.id, got, tc.want, resolvedCmdline(tc.id))
		}
	}
}

func TestProcessConfigNilPatternsMatchNothing(t *testing.T) {
	src := &fakeProcesses{procs: []fakeProc{appProc(1, 1)}}
	c := newCollector(Config{Match: &Patterns{}}, src, exporterStart, promslog.NewNopLogger())
	if ms := collectortest.Collect(t, c); ms["candy_cadence_up"] != 0 {
		t.Fatal("a collector with no patterns matched a process")
	}
	if src.identities != 0 {
		t.Fatal("identity read although no pattern needs it")
	}
}

func TestProcessCollectorNoticesExec(t *testing.T) {
	// A launcher script that ends in `exec python3 src/main.py` keeps its PID and start time.
	launcher := appProc(500, 1_700_000_100)
	launcher.ref.Name = "sh"
	launcher.id = procIdentity{Exe: "/usr/bin/dash", Cmdline: []string{"/bin/sh", "./launch.sh"}, Cwd: "/home/ana/Candy-Cadence"}
	src := &fakeProcesses{procs: []fakeProc{launcher}}
	c := newTestProcessCollector(src)
	if ms := collectortest.Collect(t, c); ms["candy_cadence_up"] != 0 {
		t.Fatal("the launcher shell was matched")
	}
	src.procs = []fakeProc{appProc(500, 1_700_000_100)}
	if ms := collectortest.Collect(t, c); ms["candy_cadence_up"] != 1 {
		t.Fatal("the application exec'd from a launcher under the same PID was not noticed")
	}
}
