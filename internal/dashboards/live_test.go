package dashboards

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/servertest"
)

// The live check's stand-ins for what Grafana substitutes. Prometheus scrapes every second
// here; Grafana's $__rate_interval would be 4 scrape intervals, and 10 s keeps at least two
// samples in every window on a loaded machine.
const (
	liveScrapeInterval = "1s"
	liveRateInterval   = "10s"
	liveStep           = 2 * time.Second
)

// TestPanelsAgainstLivePrometheus runs every query of every panel against a real Prometheus
// that loads the shipped rules and scrapes real exporters fed with realistic data, with the
// variables substituted by the values of the run. It fails on a query error, on a variable
// that lists nothing, and on a panel without data in the scenario that should fill it.
func TestPanelsAgainstLivePrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("live check skipped in -short mode")
	}
	promBinary := servertest.Binary(t, "PROMETHEUS", "prometheus")
	dir := t.TempDir()

	fleet := startAppsimFleet(t, dir)
	prom := startPrometheus(t, promBinary, dir, fleet.targets)
	start := time.Now()
	players := fleet.play(t, prom)
	end := time.Now()

	for _, s := range Scenarios {
		if players[s] == "" {
			t.Errorf("the fleet does not play scenario %s", s)
		}
	}
	values := checkVariables(t, prom, end)
	rangeSeconds := strconv.Itoa(int(end.Sub(start).Seconds()) + 1)

	checked := 0
	rb := runbooks(t)
	for _, d := range All(rb) {
		for _, row := range d.Rows {
			for _, p := range row.Panels {
				vars := map[string]string{JobVar: ".+", SiteVar: ".*", InstanceVar: ".+"}
				if !d.MultiInstance {
					// A drill-down dashboard shows one workstation: the one that plays the
					// panel's scenario (any, for a panel that none fills).
					inst := players[p.Fill]
					if p.Fill == "" {
						inst = players[Running]
					}
					if !values[InstanceVar][inst] {
						t.Errorf("%s / %s: instance %q is not among the instance variable's values", d.Title, p.Title, inst)
					}
					vars[InstanceVar] = grafanaRegexEscape(inst)
				}
				for _, q := range p.Queries {
					checked++
					expr := expand(q.Expr, vars, rangeSeconds+"s")
					var n int
					var err error
					if q.Instant || p.Kind == Table {
						var series []map[string]string
						series, err = prom.instantSeries(expr, end)
						n = len(series)
						checkLinkLabels(t, d.Title+" / "+p.Title, p, series, rb)
					} else {
						n, err = prom.rangeQuery(expr, start, end, liveStep)
					}
					where := fmt.Sprintf("%s / %s", d.Title, p.Title)
					switch {
					case err != nil:
						t.Errorf("%s: query fails: %v\n%s", where, err, expr)
					case n == 0 && p.Fill != "":
						t.Errorf("%s: no data in scenario %s (played on %s) from\n%s", where, p.Fill, players[p.Fill], expr)
					}
				}
			}
		}
	}
	t.Logf("%d queries checked over %s of scenarios", checked, end.Sub(start).Round(time.Second))
}

// checkLinkLabels checks that a table's rows carry what its links open: the instance of the
// workstation dashboard, the runbook address of each alert the rules know.
func checkLinkLabels(t *testing.T, where string, p Panel, series []map[string]string, runbooks map[string]string) {
	t.Helper()
	for _, s := range series {
		if p.InstanceLink && s[InstanceVar] == "" {
			t.Errorf("%s: a row without the instance its link opens: %v", where, s)
		}
		if p.RunbookLink && s[runbookLabel] != runbooks[s["alertname"]] {
			t.Errorf("%s: alert %s links to %q, want its runbook_url %q", where, s["alertname"], s[runbookLabel], runbooks[s["alertname"]])
		}
	}
}

// expand substitutes the dashboard's variables and Grafana's interval variables.
func expand(expr string, vars map[string]string, rangeWindow string) string {
	r := strings.NewReplacer(
		"$__rate_interval", liveRateInterval,
		"$__range", rangeWindow,
		"$"+InstanceVar, vars[InstanceVar],
		"$"+JobVar, vars[JobVar],
		"$"+SiteVar, vars[SiteVar],
	)
	return r.Replace(expr)
}

// grafanaRegexEscape escapes a single value as Grafana's Prometheus data source does for a
// regex matcher: regex metacharacters get a backslash, itself escaped for PromQL's string.
func grafanaRegexEscape(v string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
}

// checkVariables runs every query variable as Grafana would (label values of its selector)
// and returns the values by variable; a variable that lists nothing fails the check.
func checkVariables(t *testing.T, prom *promAPI, at time.Time) map[string]map[string]bool {
	t.Helper()
	all := map[string]string{JobVar: ".+", SiteVar: ".*", InstanceVar: ".+"}
	values := map[string]map[string]bool{}
	for _, v := range Variables() {
		expr := "group by (" + v.Label + ") (" + expand(v.Match, all, "1s") + ")"
		series, err := prom.instantSeries(expr, at)
		if err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
			continue
		}
		values[v.Name] = map[string]bool{}
		for _, s := range series {
			if s[v.Label] != "" {
				values[v.Name][s[v.Label]] = true
			}
		}
		if len(values[v.Name]) == 0 {
			t.Errorf("variable %s lists no value: %s", v.Name, v.query())
		}
	}
	return values
}

// scrapeTarget is one target of the live Prometheus, with the labels its file_sd entry would
// carry.
type scrapeTarget struct {
	addr   string
	labels map[string]string
}

// liveFleet is what the live check runs against: the targets Prometheus scrapes, and play,
// which plays every scenario and returns, once they are visible in Prometheus, the instance
// that plays each. startAppsimFleet builds it from the real exporter and internal/appsim;
// the fleet simulator can take its place by returning the same.
type liveFleet struct {
	targets []scrapeTarget
	play    func(t *testing.T, prom *promAPI) map[Scenario]string
}

func startPrometheus(t *testing.T, binary, dir string, targets []scrapeTarget) *promAPI {
	t.Helper()
	rules, err := filepath.Glob(filepath.Join(rulesDir, "*.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files in %s: %v", rulesDir, err)
	}
	var quoted []string
	for _, r := range rules {
		abs, err := filepath.Abs(r)
		if err != nil {
			t.Fatal(err)
		}
		quoted = append(quoted, strconv.Quote(abs))
	}
	var static strings.Builder
	for _, tg := range targets {
		fmt.Fprintf(&static, "      - targets: [%q]\n        labels: {", tg.addr)
		first := true
		for k, v := range tg.labels {
			if !first {
				static.WriteString(", ")
			}
			first = false
			fmt.Fprintf(&static, "%s: %q", k, v)
		}
		static.WriteString("}\n")
	}
	config := fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%s]
scrape_configs:
  - job_name: candy_cadence
    static_configs:
%s`, liveScrapeInterval, strings.Join(quoted, ", "), static.String())
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := servertest.FreeAddress(t)
	servertest.Start(t, binary, addr,
		"--config.file="+configPath,
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+addr)
	return &promAPI{base: "http://" + addr}
}

// promAPI queries Prometheus's HTTP API.
type promAPI struct{ base string }

type apiResponse struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  []any             `json:"value"`
			Values [][]any           `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func (p *promAPI) get(path string, params url.Values) (*apiResponse, error) {
	resp, err := http.PostForm(p.base+path, params)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: HTTP %d, %w", path, resp.StatusCode, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	return &r, nil
}

func unixTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// instant returns how many series an instant query returns at the given time.
func (p *promAPI) instant(expr string, at time.Time) (int, error) {
	series, err := p.instantSeries(expr, at)
	return len(series), err
}

func (p *promAPI) instantSeries(expr string, at time.Time) ([]map[string]string, error) {
	r, err := p.get("/api/v1/query", url.Values{"query": {expr}, "time": {unixTime(at)}})
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	if r.Data.ResultType == "scalar" {
		return []map[string]string{{}}, nil
	}
	for _, s := range r.Data.Result {
		out = append(out, s.Metric)
	}
	return out, nil
}

// rangeQuery returns how many points a range query returns over all its series.
func (p *promAPI) rangeQuery(expr string, start, end time.Time, step time.Duration) (int, error) {
	r, err := p.get("/api/v1/query_range", url.Values{
		"query": {expr}, "start": {unixTime(start)}, "end": {unixTime(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range r.Data.Result {
		n += len(s.Values)
	}
	return n, nil
}

// waitUntil polls the instant query until it returns data or limit passes.
func (p *promAPI) waitUntil(t *testing.T, limit time.Duration, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		n, err := p.instant(expr, time.Now())
		if err == nil && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s (%s): err %v", limit, what, expr, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// buildExporter builds the exporter binary into dir, with the tags the Makefile builds with
// (FTS5 above all: the library has FTS5 tables that the integrity check reads).
func buildExporter(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "candy_cadence_exporter")
	cmd := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", bin, "./cmd/candy_cadence_exporter")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the exporter: %v\n%s", err, out)
	}
	return bin
}
