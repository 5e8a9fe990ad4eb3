// Command fleetscale measures one Prometheus evaluating the shipped rules for a simulated
// fleet: it starts N workstations (application and exporter each), Prometheus and
// Alertmanager with the shipped configurations, lets them run, and prints one row of the
// table in docs/benchmarks.md: rule group evaluation time, head series, Prometheus RSS.
//
//	go build -tags sqlite_fts5 -o /tmp/fleetscale ./internal/cmd/fleetscale
//	/tmp/fleetscale -sim ./candy_cadence_sim -exporter ./candy_cadence_exporter -workstations 50
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/fleet"
	"github.com/candy-cadence/candy_cadence_exporter/internal/freeport"
)

func main() {
	n := flag.Int("workstations", 10, "workstations in the fleet")
	sim := flag.String("sim", "./candy_cadence_sim", "the simulator")
	exporter := flag.String("exporter", "./candy_cadence_exporter", "the exporter")
	prom := flag.String("prometheus", "prometheus", "Prometheus")
	am := flag.String("alertmanager", "prometheus-alertmanager", "Alertmanager")
	repo := flag.String("repo", ".", "the repository")
	rate := flag.Float64("rate", 0.2, "user operations per second per workstation (low activity: the point is the series, not the load)")
	warm := flag.Duration("warm-up", 3*time.Minute, "how long the fleet runs before the first figures are read")
	rounds := flag.Int("rounds", 5, "figures read once a minute, this many times")
	flag.Parse()
	if err := run(*n, *sim, *exporter, *prom, *am, *repo, *rate, *warm, max(*rounds, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "fleetscale:", err)
		os.Exit(1)
	}
}

func run(n int, sim, exporter, prom, am, repo string, rate float64, warm time.Duration, rounds int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := os.MkdirTemp("", "fleetscale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	for _, p := range []*string{&sim, &exporter} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	var ws []*fleet.Workstation
	f := fleet.NewFleet(nil)
	defer func() { f.Workstations = ws; f.Stop() }()
	for i := range n {
		addr, err := freeport.Address()
		if err != nil {
			return err
		}
		w, err := fleet.StartWorkstation(fleet.WorkstationConfig{
			Name: fmt.Sprintf("ws%03d", i+1), Dir: filepath.Join(root, fmt.Sprintf("ws%03d", i+1)),
			Sim: sim, Exporter: exporter, ExporterAddr: addr, Seed: uint64(i + 1), Rate: rate, Models: 300,
			// Each exporter watching its logs takes an inotify instance, and Linux allows
			// 128 a user by default: past that, Prometheus's own file_sd watcher fails.
			// The exporters poll instead (the flag for shares without file events).
			ExporterArgs: []string{"--no-collector.logs.file-events"},
		})
		if err != nil {
			return err
		}
		ws = append(ws, w)
	}
	st, err := fleet.StartStack(fleet.StackConfig{Repo: repo, Dir: filepath.Join(root, "servers"), Prometheus: prom, Alertmanager: am, ForDivisor: 1}, ws)
	if err != nil {
		return err
	}
	defer st.Stop()
	fmt.Fprintf(os.Stderr, "%d workstations, Prometheus at http://%s\n", n, st.Prometheus.Addr)
	// Rules are evaluated once a minute (as shipped): after the warm-up, one sample of every
	// group's last evaluation time per minute; the median round is reported, since single
	// evaluations on a shared machine are noisy.
	if !sleep(ctx, warm) {
		return ctx.Err()
	}
	var totals, worsts, series, rss []float64
	for i := range rounds {
		if i > 0 && !sleep(ctx, time.Minute) {
			return ctx.Err()
		}
		m, err := scrape("http://" + st.Prometheus.Addr + "/metrics")
		if err != nil {
			return err
		}
		total, worst := 0.0, 0.0
		for k, v := range m {
			if strings.HasPrefix(k, "prometheus_rule_group_last_duration_seconds{") {
				total += v
				worst = max(worst, v)
			}
		}
		totals, worsts = append(totals, total), append(worsts, worst)
		series, rss = append(series, m["prometheus_tsdb_head_series"]), append(rss, m["process_resident_memory_bytes"])
		fmt.Fprintf(os.Stderr, "round %d: rules %.1f ms (slowest group %.1f ms), %0.f series, RSS %.0f MiB\n",
			i+1, total*1000, worst*1000, m["prometheus_tsdb_head_series"], m["process_resident_memory_bytes"]/(1<<20))
	}
	up := 0
	if res, err := fleet.Query(ctx, st.Prometheus.Addr, `count(up == 1)`); err == nil && len(res) == 1 {
		up, _ = strconv.Atoi(res[0].Value)
	}
	fmt.Printf("| %d | %d | %.1f | %.1f | %.0f | %.0f |\n", n, up, median(totals)*1000, median(worsts)*1000,
		slices.Max(series), slices.Max(rss)/(1<<20))
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// scrape reads a text exposition into name{labels} -> value.
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}
