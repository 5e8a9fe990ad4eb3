package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/candy-cadence/candy_cadence_exporter/internal/applog/logsim"
)

// TestBinaryClassifiesExits checks the wiring from the logs collector to the process
// collector in the real binary: of two application processes that end, the one whose close
// records are logged counts as closed, the other as crashed; an exporter that does not follow
// the logs counts both as unknown.
func TestBinaryClassifiesExits(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for two exits and their grace period")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "candy_cadence")
	if err := os.Symlink(sleep, bin); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(dir, "logs")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(logDir, logsim.FileName(time.Now(), "INFO"))
	if err := os.WriteFile(logFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var apps []*exec.Cmd
	for range 2 {
		cmd := exec.Command(bin, "infinity")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		apps = append(apps, cmd)
	}
	// Only this test's stand-ins: other tests on the machine run processes named candy_cadence.
	match := []string{"--collector.process.name-regex=", "--collector.process.exe-regex=",
		"--collector.process.cmdline-regex=^" + regexp.QuoteMeta(bin) + " ", "--no-collector.host", "--no-collector.sqlite"}
	withLogs, _ := startExporter(t, append(match, "--collector.logs.path="+filepath.Join(logDir, "Log - *.txt"), "--collector.logs.poll-interval=100ms")...)
	withoutLogs, _ := startExporter(t, append(match, "--no-collector.logs")...)
	for _, addr := range []string{withLogs, withoutLogs} {
		waitForScrape(t, addr, func(m map[string]float64) bool { return m["candy_cadence_processes"] == 2 })
	}

	recs := logsim.CloseRecords(apps[0].Process.Pid, time.Now(), time.Now())
	f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(append(append(recs[0], '\n'), append(recs[1], '\n')...))
	f.Close()
	time.Sleep(300 * time.Millisecond) // the logs collector reads within its poll interval
	for _, app := range apps {
		_ = app.Process.Kill()
		_ = app.Wait()
	}
	exits := func(m map[string]float64, reason string) float64 {
		return m[`candy_cadence_app_exits_total{reason="`+reason+`"}`]
	}
	total := func(m map[string]float64) bool {
		return exits(m, "closed")+exits(m, "crashed")+exits(m, "unknown") == 2
	}
	m := waitForScrape(t, withLogs, total)
	if exits(m, "closed") != 1 || exits(m, "crashed") != 1 {
		t.Errorf("following the logs: closed=%v crashed=%v unknown=%v, want 1 1 0", exits(m, "closed"), exits(m, "crashed"), exits(m, "unknown"))
	}
	m = waitForScrape(t, withoutLogs, total)
	if exits(m, "unknown") != 2 {
		t.Errorf("logs disabled: closed=%v crashed=%v unknown=%v, want 0 0 2", exits(m, "closed"), exits(m, "crashed"), exits(m, "unknown"))
	}
}

// waitForScrape scrapes addr until cond holds or 30 s pass, and returns the last scrape.
func waitForScrape(t *testing.T, addr string, cond func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	var m map[string]float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if m = scrapeValues(t, addr); cond(m) {
			return m
		}
	}
	t.Fatalf("condition not met within 30 s; last scrape of %s: %v", addr, m)
	return nil
}

// scrapeValues returns the candy_cadence_ samples of one scrape, keyed as written.
func scrapeValues(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	_, body := get(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for name, fam := range families {
		if !strings.HasPrefix(name, "candy_cadence_app_") && !strings.HasPrefix(name, "candy_cadence_processes") {
			continue
		}
		for _, s := range fam.Metric {
			key := name
			for _, l := range s.Label {
				key += `{` + l.GetName() + `="` + l.GetValue() + `"}`
			}
			v := s.GetCounter().GetValue() + s.GetGauge().GetValue()
			out[key] = v
		}
	}
	return out
}
