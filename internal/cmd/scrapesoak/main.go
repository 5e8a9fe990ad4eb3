// Command scrapesoak measures the exporter binary as Prometheus sees it: it starts the
// binary (and, if asked, a stand-in application process), scrapes it many times over HTTP,
// and reports scrape latency percentiles, the exporter's RSS at checkpoints and its CPU time
// per scrape. Linux only: RSS and CPU come from /proc.
//
//	go run ./internal/cmd/scrapesoak -binary ./candy_cadence_exporter -scrapes 10000 -- --no-collector.logs
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	var (
		binary      = flag.String("binary", "./candy_cadence_exporter", "exporter binary to measure")
		scrapes     = flag.Int("scrapes", 10000, "number of scrapes")
		checkpoints = flag.String("checkpoints", "1000,10000", "scrape counts at which to report RSS")
		app         = flag.Bool("app", true, "run a stand-in application process named candy_cadence")
		interval    = flag.Duration("interval", 15*time.Second, "scrape interval used to express CPU cost as a share of one core")
	)
	flag.Parse()
	if err := run(*binary, *scrapes, *checkpoints, *app, *interval, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "scrapesoak:", err)
		os.Exit(1)
	}
}

func run(binary string, scrapes int, checkpointList string, app bool, interval time.Duration, extra []string) error {
	marks := map[int]bool{}
	for _, s := range strings.Split(checkpointList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-checkpoints: %w", err)
		}
		marks[n] = true
	}
	if app {
		stop, err := startStandIn()
		if err != nil {
			return err
		}
		defer stop()
	}
	addr, err := freeAddress()
	if err != nil {
		return err
	}
	cmd := exec.Command(binary, append([]string{"--web.listen-address=" + addr, "--log.level=warn"}, extra...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if err := waitListening(addr); err != nil {
		return err
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	url := "http://" + addr + "/metrics"
	latencies := make([]time.Duration, 0, scrapes)
	cpuStart, err := cpuSeconds(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("%-8s %10s %10s %10s %12s\n", "scrapes", "rss_MiB", "p50_ms", "p99_ms", "cpu_ms/scrape")
	for i := 1; i <= scrapes; i++ {
		d, err := scrape(client, url)
		if err != nil {
			return fmt.Errorf("scrape %d: %w", i, err)
		}
		latencies = append(latencies, d)
		if !marks[i] {
			continue
		}
		rss, err := rssMiB(cmd.Process.Pid)
		if err != nil {
			return err
		}
		cpu, err := cpuSeconds(cmd.Process.Pid)
		if err != nil {
			return err
		}
		sorted := slices.Clone(latencies)
		slices.Sort(sorted)
		perScrape := (cpu - cpuStart) / float64(i) * 1000
		fmt.Printf("%-8d %10.1f %10.3f %10.3f %12.3f\n", i, rss, ms(pct(sorted, 0.50)), ms(pct(sorted, 0.99)), perScrape)
		if i == scrapes {
			fmt.Printf("CPU cost at one scrape every %v: %.4f%% of one core\n", interval, perScrape/float64(interval.Milliseconds())*100)
		}
	}
	return nil
}

// startStandIn runs `sleep` under the name candy_cadence, which the default process
// patterns match, so that the process collector has an application to report.
func startStandIn() (func(), error) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "scrapesoak")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "candy_cadence")
	if err := os.Symlink(sleep, bin); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "infinity")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); os.RemoveAll(dir) }, nil
}

func scrape(client *http.Client, url string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
	begin := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return time.Since(begin), err
}

func pct(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(q*float64(len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func freeAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitListening(addr string) error {
	for range 200 {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("exporter did not listen on %s", addr)
}

func rssMiB(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// cpuSeconds returns user+system time of pid from /proc/<pid>/stat (fields 14 and 15).
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (utime + stime) / 100, nil
}
