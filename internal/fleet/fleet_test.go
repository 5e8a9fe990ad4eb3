package fleet

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"

	"github.com/candy-cadence/candy_cadence_exporter/internal/applog"
	"github.com/candy-cadence/candy_cadence_exporter/internal/applog/logsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
)

func repoFile(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

func TestParseFault(t *testing.T) {
	for _, f := range Faults {
		got, err := ParseFault(string(f))
		if err != nil || got != f {
			t.Errorf("ParseFault(%q) = %q, %v", f, got, err)
		}
	}
	_, err := ParseFault("meteor-strike")
	if err == nil || !strings.Contains(err.Error(), "db-locked") {
		t.Errorf("ParseFault of an unknown name: %v, want an error listing the faults", err)
	}
}

// TestCopyRulesShortensForOnly checks the for: transform: durations divided, at least 1s,
// every other line (expressions included) unchanged.
func TestCopyRulesShortensForOnly(t *testing.T) {
	src := t.TempDir()
	in := `groups:
  - name: g
    rules:
      - alert: A
        expr: rate(x[5m]) > 0 # for: 5m in a comment of an expression stays
        for: 15m
        keep_firing_for: 1h
      - alert: B
        expr: y
        for: 30s
      - alert: C
        expr: z
        for: 3d # long
`
	if err := os.WriteFile(filepath.Join(src, "a.yml"), []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := CopyRules(src, filepath.Join(t.TempDir(), "out"), 60)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(files[0])
	want := strings.NewReplacer("for: 15m", "for: 15s", "keep_firing_for: 1h", "keep_firing_for: 1m",
		"for: 30s\n", "for: 1s\n", "for: 3d # long", "for: 1h12m # long").Replace(in)
	if string(got) != want {
		t.Errorf("transformed rules:\n%s\nwant:\n%s", got, want)
	}
	same, err := CopyRules(src, filepath.Join(t.TempDir(), "same"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(same[0]); string(got) != in {
		t.Errorf("divisor 1 changed the rules:\n%s", got)
	}
}

// TestAlertmanagerConfigKeepsRouting checks that every shipped receiver posts to the sink
// under its own name while the routing tree and inhibitions stay as shipped, and that
// amtool accepts the result when it is available.
func TestAlertmanagerConfigKeepsRouting(t *testing.T) {
	shipped := repoFile("deploy", "alertmanager", "alertmanager.yml")
	b, err := AlertmanagerConfig(shipped, "http://127.0.0.1:9/", time.Second, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got, orig struct {
		Route struct {
			Receiver  string `yaml:"receiver"`
			GroupWait string `yaml:"group_wait"`
			GroupBy   []string
			Routes    []struct {
				Matchers []string `yaml:"matchers"`
				Receiver string   `yaml:"receiver"`
			} `yaml:"routes"`
		} `yaml:"route"`
		Inhibit   []any `yaml:"inhibit_rules"`
		Receivers []struct {
			Name     string `yaml:"name"`
			Webhooks []struct {
				URL string `yaml:"url"`
			} `yaml:"webhook_configs"`
			Email []any `yaml:"email_configs"`
			Slack []any `yaml:"slack_configs"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	ob, _ := os.ReadFile(shipped)
	if err := yaml.Unmarshal(ob, &orig); err != nil {
		t.Fatal(err)
	}
	if len(got.Receivers) != len(orig.Receivers) || len(got.Receivers) == 0 {
		t.Fatalf("receivers: %d, shipped %d", len(got.Receivers), len(orig.Receivers))
	}
	for i, r := range got.Receivers {
		if r.Name != orig.Receivers[i].Name || len(r.Webhooks) != 1 || r.Webhooks[0].URL != "http://127.0.0.1:9/"+r.Name ||
			len(r.Email)+len(r.Slack) != 0 {
			t.Errorf("receiver %d = %+v, want only a webhook to the sink named %s", i, r, orig.Receivers[i].Name)
		}
	}
	if got.Route.GroupWait != "1s" || got.Route.Receiver != orig.Route.Receiver || len(got.Route.Routes) != len(orig.Route.Routes) {
		t.Errorf("route = %+v, want the shipped tree with group_wait 1s", got.Route)
	}
	for i := range got.Route.Routes {
		if got.Route.Routes[i].Receiver != orig.Route.Routes[i].Receiver ||
			strings.Join(got.Route.Routes[i].Matchers, ",") != strings.Join(orig.Route.Routes[i].Matchers, ",") {
			t.Errorf("route %d changed: %+v, shipped %+v", i, got.Route.Routes[i], orig.Route.Routes[i])
		}
	}
	if len(got.Inhibit) != len(orig.Inhibit) {
		t.Errorf("inhibit rules: %d, shipped %d", len(got.Inhibit), len(orig.Inhibit))
	}
	if amtool := os.Getenv("AMTOOL"); amtool != "" {
		p := filepath.Join(t.TempDir(), "am.yml")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(amtool, "check-config", p).CombinedOutput(); err != nil {
			t.Errorf("amtool check-config: %v\n%s", err, out)
		}
	}
}

func TestPrometheusConfig(t *testing.T) {
	b, err := PrometheusConfig(repoFile("deploy", "prometheus", "prometheus.yml"), PrometheusOptions{
		RuleFiles: []string{"/r/a.yml"}, AlertmanagerAddr: "127.0.0.1:9093", ScrapeInterval: 2 * time.Second, EvalInterval: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Global        map[string]string `yaml:"global"`
		RuleFiles     []string          `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
			FileSD  []struct {
				Files []string `yaml:"files"`
			} `yaml:"file_sd_configs"`
		} `yaml:"scrape_configs"`
		Alerting struct {
			AMs []struct {
				Static []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Global["scrape_interval"] != "2s" || cfg.Global["scrape_timeout"] != "2s" || cfg.Global["evaluation_interval"] != "1s" {
		t.Errorf("global = %v", cfg.Global)
	}
	if strings.Join(cfg.RuleFiles, ",") != "/r/a.yml" || cfg.Alerting.AMs[0].Static[0].Targets[0] != "127.0.0.1:9093" {
		t.Errorf("rule_files %v, alerting %+v", cfg.RuleFiles, cfg.Alerting)
	}
	if len(cfg.ScrapeConfigs) != 1 || cfg.ScrapeConfigs[0].JobName != "candy_cadence" || cfg.ScrapeConfigs[0].FileSD[0].Files[0] != "targets/*.yml" {
		t.Errorf("scrape configs changed: %+v", cfg.ScrapeConfigs)
	}
}

// TestAppWritesWhatTheExporterParses runs the simulated application in a child process for a
// few seconds, closes it as the user does, and parses every line it logged with the
// exporter's parser: all lines are records, the operations and cache lookups are there, and
// the last two records are the application's closing records.
func TestAppWritesWhatTheExporterParses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the application for seconds")
	}
	if err := appsim.CheckFTS5(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	l := NewLayout(dir)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.create(200, 1, exe); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperApp$")
	cmd.Env = append(os.Environ(), "FLEET_HELPER_APP="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	stdin.Close() // the user closes the application
	if err := cmd.Wait(); err != nil {
		t.Fatalf("application: %v\n%s", err, out.String())
	}

	files, _ := filepath.Glob(filepath.Join(l.LogDir, "Log - *.txt"))
	// A rotation deletes all but the five newest files and then opens the next, so the
	// directory holds up to five old files and the one being written.
	if want := logsim.DefaultKeep + 1; len(files) == 0 || len(files) > want {
		t.Fatalf("%d log files, want 1 to %d (the application keeps five beside the open one)", len(files), want)
	}
	var lines []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		fh.Close()
	}
	ops := map[applog.Operation]int{}
	cache := 0
	var r applog.Record
	for _, line := range lines {
		if kind := applog.ParseLine([]byte(line), &r); kind != applog.LineJSON {
			t.Fatalf("line is not a JSON record (%d): %s", kind, line)
		}
		ops[r.Op]++
		if r.Cache != 0 {
			cache++
		}
	}
	if ops[applog.OpSearch]+ops[applog.OpParse]+ops[applog.OpCacheLoad] == 0 || cache == 0 {
		t.Errorf("operations %v, cache lookups %d: want timed operations and cache lookups", ops, cache)
	}
	newest := newestLog(t, files)
	if !strings.Contains(newest, `"message": "Application closing"`) || !strings.Contains(newest, `"message": "Application closed"`) ||
		!strings.Contains(newest, `"level": "INFO"`) {
		t.Errorf("newest log file does not end with the closing records:\n%s", newest)
	}
}

func newestLog(t *testing.T, files []string) string {
	var newest string
	var at time.Time
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().After(at) || fi.ModTime().Equal(at) && f > newest {
			newest, at = f, fi.ModTime()
		}
	}
	b, _ := os.ReadFile(newest)
	return string(b)
}

// TestHelperApp is the application process of TestAppWritesWhatTheExporterParses.
func TestHelperApp(t *testing.T) {
	dir := os.Getenv("FLEET_HELPER_APP")
	if dir == "" {
		t.Skip("helper process")
	}
	os.Exit(RunApp([]string{"-workstation", dir, "-rate", "20"}, os.Stdin, io.Discard))
}
