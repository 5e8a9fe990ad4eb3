// Package host is the host collector: CPU, memory, load, boot time, the filesystems holding
// the application's data and the network devices, as raw counters; ratios belong in rules.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/net"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

// DefaultNetdevExclude leaves out loopback and virtual interfaces (containers, VMs, VPN
// tunnels, bridges) on Linux and Windows, keeping the interfaces that carry the user's traffic.
const DefaultNetdevExclude = `^(lo|veth.*|docker.*|br-.*|virbr.*|vnet.*|vmnet.*|vboxnet.*|tun.*|tap.*|wg.*|cni.*|flannel.*|cali.*|kube-.*|lxc.*|lxd.*|podman.*|zt.*|` +
	`ifb.*|dummy.*|sit.*|ip6tnl.*|gre.*|gretap.*|erspan.*|nlmon.*|Loopback.*|isatap.*|Teredo.*|vEthernet.*|VirtualBox.*|VMware.*|.*Virtual Adapter.*|.*Pseudo-Interface.*)$`

// mountRefresh bounds how long a filesystem's mountpoint is trusted before it is looked up
// again; mounts on a desktop change rarely, and looking one up reads the whole mount table.
const mountRefresh = 10 * time.Minute

// Config chooses the filesystems and network devices to report. The zero value reports the
// discovered data directory's filesystem and every device but loopback and virtual ones.
type Config struct {
	// DataDir is the application's data directory, whose filesystem is reported; empty means
	// the one discovered from the application's known locations.
	DataDir string
	// ExtraDirs are more directories whose filesystems are reported.
	ExtraDirs []string
	// Devices selects the network devices; nil means DefaultDeviceFilter.
	Devices *DeviceFilter
}

// DeviceFilter selects network devices by name.
type DeviceFilter struct {
	Include *regexp.Regexp // nil: every device
	Exclude *regexp.Regexp // nil: none
}

// DefaultDeviceFilter excludes DefaultNetdevExclude.
func DefaultDeviceFilter() *DeviceFilter {
	return &DeviceFilter{Exclude: regexp.MustCompile(DefaultNetdevExclude)}
}

// paths returns the directories whose filesystems are reported: the data directory first.
func (cfg Config) paths(env appdirs.Env, logger *slog.Logger) []string {
	dir := cfg.DataDir
	if dir == "" {
		dir = appdirs.DataDir(env, appdirs.Layouts(env))
		logger.Info("application data directory discovered", "path", dir)
	}
	return append([]string{dir}, cfg.ExtraDirs...)
}

// fsUsage is one filesystem's space in bytes.
type fsUsage struct{ Size, Free, Avail float64 }

// netCounters are one network device's counters.
type netCounters struct {
	Device                                 string
	RxBytes, TxBytes, RxPackets, TxPackets float64
	RxErrors, TxErrors                     float64
}

// hostSource reads the host; gopsutil in production, a fake in tests.
type hostSource interface {
	CPUs(ctx context.Context) (int, error)
	CPUTimes(ctx context.Context) (map[string]float64, error)
	Memory(ctx context.Context) (total, available float64, err error)
	// Load returns ok=false where the platform has no load average (Windows).
	Load(ctx context.Context) (l1, l5, l15 float64, ok bool, err error)
	BootTime(ctx context.Context) (float64, error)
	Mountpoints(ctx context.Context) ([]string, error)
	Usage(ctx context.Context, mountpoint string) (fsUsage, error)
	Network(ctx context.Context) ([]netCounters, error)
}

// Collector exports raw host counters; ratios belong in recording rules.
type Collector struct {
	paths   []string // the data directory first, then the extra ones
	devices DeviceFilter
	src     hostSource
	logger  *slog.Logger
	now     func() time.Time
	cpus    int

	mu         sync.Mutex
	mounts     []string // resolved mountpoints of cfg.Paths, de-duplicated
	resolvedAt time.Time

	cpusDesc, cpuDesc, memTotal, memAvail, fsSize, fsFree, fsAvail               collector.TypedDesc
	netRxBytes, netTxBytes, netRxPackets, netTxPackets, netRxErrors, netTxErrors collector.TypedDesc
	load1, load5, load15, bootTime                                               collector.TypedDesc
}

// New returns a host collector reading through gopsutil; env is where the application's data
// directory is discovered when cfg names none.
func New(cfg Config, env appdirs.Env, logger *slog.Logger) (*Collector, error) {
	return newCollector(cfg.paths(env, logger), cfg.Devices, gopsutilHost{}, time.Now, logger)
}

func newCollector(paths []string, devices *DeviceFilter, src hostSource, now func() time.Time, logger *slog.Logger) (*Collector, error) {
	cpus, err := src.CPUs(context.Background())
	if err != nil {
		return nil, fmt.Errorf("count CPUs: %w", err)
	}
	if devices == nil {
		devices = DefaultDeviceFilter()
	}
	gauge := func(name, help string, labels ...string) collector.TypedDesc {
		return collector.Gauge("host_"+name, help, labels...)
	}
	counter := func(name, help string, labels ...string) collector.TypedDesc {
		return collector.Counter("host_"+name, help, labels...)
	}
	return &Collector{
		paths:   paths,
		devices: *devices,
		src:     src,
		logger:  logger,
		now:     now,
		cpus:    cpus,

		cpusDesc:     gauge("cpus", "Logical CPUs of the host."),
		cpuDesc:      counter("cpu_seconds_total", "CPU time of the host, all CPUs summed, by mode.", "mode"),
		memTotal:     gauge("memory_total_bytes", "Physical memory of the host."),
		memAvail:     gauge("memory_available_bytes", "Memory available for starting new applications without swapping."),
		fsSize:       gauge("filesystem_size_bytes", "Size of the filesystem.", "mountpoint"),
		fsFree:       gauge("filesystem_free_bytes", "Free space of the filesystem, including space reserved for the superuser.", "mountpoint"),
		fsAvail:      gauge("filesystem_avail_bytes", "Space of the filesystem available to unprivileged users.", "mountpoint"),
		netRxBytes:   counter("network_receive_bytes_total", "Bytes received by the network device.", "device"),
		netTxBytes:   counter("network_transmit_bytes_total", "Bytes sent by the network device.", "device"),
		netRxPackets: counter("network_receive_packets_total", "Packets received by the network device.", "device"),
		netTxPackets: counter("network_transmit_packets_total", "Packets sent by the network device.", "device"),
		netRxErrors:  counter("network_receive_errors_total", "Receive errors of the network device.", "device"),
		netTxErrors:  counter("network_transmit_errors_total", "Transmit errors of the network device.", "device"),
		load1:        gauge("load1", "Load average over 1 minute."),
		load5:        gauge("load5", "Load average over 5 minutes."),
		load15:       gauge("load15", "Load average over 15 minutes."),
		bootTime:     gauge("boot_time_seconds", "Boot time of the host, in Unix seconds."),
	}, nil
}

// Update sends every host metric it can read; a source that fails is reported in the
// returned error while the others are still sent.
func (c *Collector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	send := func(d collector.TypedDesc, v float64, labels ...string) { ch <- d.Metric(v, labels...) }
	var errs []error
	fail := func(what string, err error) { errs = append(errs, fmt.Errorf("%s: %w", what, err)) }

	send(c.cpusDesc, float64(c.cpus))
	if times, err := c.src.CPUTimes(ctx); err != nil {
		fail("cpu times", err)
	} else {
		for _, mode := range slices.Sorted(maps.Keys(times)) {
			send(c.cpuDesc, times[mode], mode)
		}
	}
	if total, avail, err := c.src.Memory(ctx); err != nil {
		fail("memory", err)
	} else {
		send(c.memTotal, total)
		send(c.memAvail, avail)
	}
	if l1, l5, l15, ok, err := c.src.Load(ctx); err != nil {
		fail("load average", err)
	} else if ok {
		send(c.load1, l1)
		send(c.load5, l5)
		send(c.load15, l15)
	}
	if boot, err := c.src.BootTime(ctx); err != nil {
		fail("boot time", err)
	} else {
		send(c.bootTime, boot)
	}
	for _, mp := range c.mountpoints(ctx) {
		u, err := c.src.Usage(ctx, mp)
		if err != nil {
			fail("filesystem "+mp, err)
			c.forgetMounts()
			continue
		}
		send(c.fsSize, u.Size, mp)
		send(c.fsFree, u.Free, mp)
		send(c.fsAvail, u.Avail, mp)
	}
	if devs, err := c.src.Network(ctx); err != nil {
		fail("network", err)
	} else {
		for _, d := range devs {
			if !c.wantDevice(d.Device) {
				continue
			}
			send(c.netRxBytes, d.RxBytes, d.Device)
			send(c.netTxBytes, d.TxBytes, d.Device)
			send(c.netRxPackets, d.RxPackets, d.Device)
			send(c.netTxPackets, d.TxPackets, d.Device)
			send(c.netRxErrors, d.RxErrors, d.Device)
			send(c.netTxErrors, d.TxErrors, d.Device)
		}
	}
	return errors.Join(errs...)
}

func (c *Collector) wantDevice(name string) bool {
	if c.devices.Include != nil && !c.devices.Include.MatchString(name) {
		return false
	}
	return c.devices.Exclude == nil || !c.devices.Exclude.MatchString(name)
}

// mountpoints returns the mountpoints holding the configured paths, looked up again after
// mountRefresh or after a failure.
func (c *Collector) mountpoints(ctx context.Context) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mounts != nil && c.now().Sub(c.resolvedAt) < mountRefresh {
		return c.mounts
	}
	all, err := c.src.Mountpoints(ctx)
	if err != nil {
		c.logger.Warn("cannot read the mount table; reporting the filesystems by path", "err", err)
	}
	caseless := isCaseInsensitiveFS()
	mounts := []string{}
	for _, p := range c.paths {
		mp := mountpointFor(existingAncestor(p), all, caseless)
		if mp == "" {
			mp = p
		}
		if !slices.Contains(mounts, mp) {
			mounts = append(mounts, mp)
		}
	}
	if !slices.Equal(mounts, c.mounts) {
		c.logger.Info("reporting filesystems", "paths", c.paths, "mountpoints", mounts)
	}
	c.mounts, c.resolvedAt = mounts, c.now()
	return mounts
}

func (c *Collector) forgetMounts() {
	c.mu.Lock()
	c.resolvedAt = time.Time{}
	c.mu.Unlock()
}

// existingAncestor returns path, or its nearest existing parent: a data directory that is
// not created yet still lives on the filesystem of its parent.
func existingAncestor(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	for {
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			return resolved
		}
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		p = parent
	}
}

// mountpointFor returns the longest mountpoint that contains path, or "" if none does.
func mountpointFor(path string, mountpoints []string, caseInsensitive bool) string {
	norm := func(s string) string {
		s = strings.ReplaceAll(s, `\`, "/")
		if caseInsensitive {
			s = strings.ToLower(s)
		}
		return strings.TrimRight(s, "/")
	}
	p := norm(path)
	best := ""
	for _, mp := range mountpoints {
		m := norm(mp)
		if p != m && !strings.HasPrefix(p, m+"/") {
			continue
		}
		if best == "" || len(m) > len(norm(best)) {
			best = mp
		}
	}
	return best
}

// gopsutilHost reads the host through gopsutil.
type gopsutilHost struct{}

func (gopsutilHost) CPUs(ctx context.Context) (int, error) { return cpu.CountsWithContext(ctx, true) }

func (gopsutilHost) CPUTimes(ctx context.Context) (map[string]float64, error) {
	t, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return nil, err
	}
	if len(t) == 0 {
		return nil, errors.New("no CPU times")
	}
	return cpuModes(t[0]), nil
}

func (gopsutilHost) Memory(ctx context.Context) (float64, float64, error) {
	m, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return 0, 0, err
	}
	return float64(m.Total), float64(m.Available), nil
}

func (gopsutilHost) Load(ctx context.Context) (float64, float64, float64, bool, error) {
	return loadAverage(ctx)
}

func (gopsutilHost) BootTime(ctx context.Context) (float64, error) {
	b, err := host.BootTimeWithContext(ctx)
	return float64(b), err
}

func (gopsutilHost) Mountpoints(ctx context.Context) ([]string, error) {
	parts, err := disk.PartitionsWithContext(ctx, true)
	mps := make([]string, 0, len(parts))
	for _, p := range parts {
		mps = append(mps, p.Mountpoint)
	}
	return mps, err
}

func (gopsutilHost) Usage(ctx context.Context, mountpoint string) (fsUsage, error) {
	u, err := disk.UsageWithContext(ctx, mountpoint)
	if err != nil {
		return fsUsage{}, err
	}
	// gopsutil's Free is what unprivileged users may use; Total-Used includes the reserve.
	return fsUsage{Size: float64(u.Total), Free: float64(u.Total - u.Used), Avail: float64(u.Free)}, nil
}

func (gopsutilHost) Network(ctx context.Context) ([]netCounters, error) {
	stats, err := net.IOCountersWithContext(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]netCounters, 0, len(stats))
	for _, s := range stats {
		out = append(out, netCounters{
			Device:  s.Name,
			RxBytes: float64(s.BytesRecv), TxBytes: float64(s.BytesSent),
			RxPackets: float64(s.PacketsRecv), TxPackets: float64(s.PacketsSent),
			RxErrors: float64(s.Errin), TxErrors: float64(s.Errout),
		})
	}
	return out, nil
}
