package host

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// fakeHost is a host with fixed figures; failing names the sources that return an error.
type fakeHost struct {
	failing     map[string]bool
	noLoad      bool
	mountpoints []string
	usageCalls  []string
	mountCalls  int
}

var errFake = errors.New("fake failure")

func (f *fakeHost) err(what string) error {
	if f.failing[what] {
		return errFake
	}
	return nil
}

func (f *fakeHost) CPUs(context.Context) (int, error) { return 8, f.err("cpus") }

func (f *fakeHost) CPUTimes(context.Context) (map[string]float64, error) {
	return map[string]float64{"user": 1000.5, "system": 250.25, "idle": 90000, "iowait": 12}, f.err("cpu")
}

func (f *fakeHost) Memory(context.Context) (float64, float64, error) {
	return 16 << 30, 6 << 30, f.err("memory")
}

func (f *fakeHost) Load(context.Context) (float64, float64, float64, bool, error) {
	return 1.5, 0.75, 0.5, !f.noLoad, f.err("load")
}

func (f *fakeHost) BootTime(context.Context) (float64, error) { return 1_699_990_000, f.err("boot") }

func (f *fakeHost) Mountpoints(context.Context) ([]string, error) {
	f.mountCalls++
	return f.mountpoints, f.err("mounts")
}

func (f *fakeHost) Usage(_ context.Context, mp string) (fsUsage, error) {
	f.usageCalls = append(f.usageCalls, mp)
	return fsUsage{Size: 500 << 30, Free: 120 << 30, Avail: 100 << 30}, f.err("usage")
}

func (f *fakeHost) Network(context.Context) ([]netCounters, error) {
	return []netCounters{
		{Device: "lo", RxBytes: 1, TxBytes: 1},
		{Device: "eth0", RxBytes: 123456789, TxBytes: 98765, RxPackets: 1000, TxPackets: 900, RxErrors: 2, TxErrors: 1},
		{Device: "docker0", RxBytes: 5},
		{Device: "wlan0", RxBytes: 4096, TxBytes: 2048, RxPackets: 4, TxPackets: 2},
	}, f.err("net")
}

func newTestHostCollector(t *testing.T, src *fakeHost, now func() time.Time) *Collector {
	t.Helper()
	// The same filesystem twice is reported once; nil devices means the default filter.
	c, err := newCollector([]string{"/", "/"}, nil, src, now, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHostCollectorGolden(t *testing.T) {
	src := &fakeHost{mountpoints: []string{"/", "/boot"}}
	collectortest.AssertGolden(t, newTestHostCollector(t, src, time.Now), "host")
}

func TestHostCollectorPartialFailure(t *testing.T) {
	src := &fakeHost{mountpoints: []string{"/"}, failing: map[string]bool{"memory": true, "net": true}}
	c := newTestHostCollector(t, src, time.Now)
	ch := make(chan prometheus.Metric, 200)
	err := c.Update(context.Background(), ch)
	close(ch)
	if err == nil || !strings.Contains(err.Error(), "memory") || !strings.Contains(err.Error(), "network") {
		t.Fatalf("Update error = %v, want one naming memory and network", err)
	}
	got := map[string]bool{}
	for m := range ch {
		got[collectortest.Key(t, m)] = true
	}
	if !got[`candy_cadence_host_cpu_seconds_total{mode="idle"}`] || !got["candy_cadence_host_load1"] {
		t.Fatalf("working sources were not reported next to the failing ones: %v", got)
	}
	if got["candy_cadence_host_memory_total_bytes"] {
		t.Fatal("memory reported although its source failed")
	}
}

func TestHostCollectorNoLoadAverage(t *testing.T) {
	src := &fakeHost{mountpoints: []string{"/"}, noLoad: true}
	ms := collectortest.Collect(t, newTestHostCollector(t, src, time.Now))
	if _, ok := ms["candy_cadence_host_load1"]; ok {
		t.Fatal("load average exported on a platform without one")
	}
}

func TestHostCollectorCachesMountpoints(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	src := &fakeHost{mountpoints: []string{"/"}}
	c := newTestHostCollector(t, src, func() time.Time { return now })
	collectortest.Collect(t, c)
	collectortest.Collect(t, c)
	if src.mountCalls != 1 {
		t.Fatalf("mount table read %d times in two scrapes, want 1", src.mountCalls)
	}
	now = now.Add(mountRefresh)
	collectortest.Collect(t, c)
	if src.mountCalls != 2 {
		t.Fatalf("mount table read %d times after %v, want 2", src.mountCalls, mountRefresh)
	}
}

func TestMountpointFor(t *testing.T) {
	linux := []string{"/", "/home", "/home/ana/mnt", "/boot/efi"}
	windows := []string{"C:", "D:", `D:\Mounted`}
	cases := []struct {
		path     string
		mounts   []string
		caseless bool
		want     string
	}{
		{"/home/ana/.local/share/DigitalWorkshop", linux, false, "/home"},
		{"/home/ana/mnt/x", linux, false, "/home/ana/mnt"},
		{"/home/anamnt", linux, false, "/home"},
		{"/var/lib", linux, false, "/"},
		{"/home", linux, false, "/home"},
		{`C:\Users\ana\AppData\Local\DigitalWorkshop`, windows, true, "C:"},
		{`c:\users\ana`, windows, true, "C:"},
		{`D:\Mounted\Library`, windows, true, `D:\Mounted`},
		{`E:\x`, windows, true, ""},
	}
	for _, tc := range cases {
		if got := mountpointFor(tc.path, tc.mounts, tc.caseless); got != tc.want {
			t.Errorf("mountpointFor(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestDefaultNetdevExclude(t *testing.T) {
	re := regexp.MustCompile(DefaultNetdevExclude)
	for _, dev := range []string{"lo", "docker0", "veth1234", "br-9f2", "virbr0", "tun0", "wg0", "Loopback Pseudo-Interface 1", "vEthernet (WSL)", "VirtualBox Host-Only Network", "ifb0"} {
		if !re.MatchString(dev) {
			t.Errorf("%q is not excluded by default", dev)
		}
	}
	for _, dev := range []string{"eth0", "enp3s0", "wlan0", "wlp2s0", "Ethernet", "Wi-Fi", "Ethernet 2", "bond0"} {
		if re.MatchString(dev) {
			t.Errorf("%q is excluded by default", dev)
		}
	}
}
