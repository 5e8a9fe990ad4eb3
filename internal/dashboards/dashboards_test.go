//lint:file-ignore SA1019 the dashboards are the SDK's classic dashboard type (see Build).

package dashboards

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"

	"github.com/candy-cadence/candy_cadence_exporter/internal/promql"
)

// Paths from this package to what the dashboards are checked against.
var (
	repoRoot      = filepath.Join("..", "..")
	rulesDir      = filepath.Join(repoRoot, "rules")
	dashboardsDir = filepath.Join(repoRoot, "dashboards")
	// The collectors' golden outputs: collector/testdata/*.prom, or one testdata directory per
	// collector package (collector/<source>/testdata/*.prom). Both are searched.
	goldenGlobs = []string{
		filepath.Join(repoRoot, "collector", "testdata", "*.prom"),
		filepath.Join(repoRoot, "collector", "*", "testdata", "*.prom"),
	}
)

// producedElsewhere are names that exist without a collector's golden file: the exporter's own
// metrics (collector/exporter.go, on every scrape), Prometheus's per-target up and the ALERTS
// series Prometheus writes for every pending or firing alert.
var producedElsewhere = []string{
	"candy_cadence_exporter_build_info",
	"candy_cadence_exporter_collector_duration_seconds",
	"candy_cadence_exporter_collector_success",
	"up",
	"ALERTS",
}

func runbooks(t *testing.T) map[string]string {
	t.Helper()
	rb, err := ReadRunbooks(rulesDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rb) == 0 {
		t.Fatal("no alert with a runbook_url in the rules")
	}
	return rb
}

func generated(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := Generate(runbooks(t))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCommittedDashboardsAreGenerated fails when dashboards/ differs from what the code
// generates: a hand edit, or a change of the code or the rules without `make dashboards`.
func TestCommittedDashboardsAreGenerated(t *testing.T) {
	files := generated(t)
	committed, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range committed {
		if _, ok := files[filepath.Base(p)]; !ok {
			t.Errorf("%s is committed but no dashboard generates it: run make dashboards", p)
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dashboardsDir, name))
		if err != nil {
			t.Errorf("%v: run make dashboards", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dashboards/%s differs from what the generator writes (%s): run make dashboards, and change the Go code rather than the JSON", name, firstDifference(got, want))
		}
	}
}

// TestGenerationIsDeterministic: map iteration or anything else unordered would make the
// committed files flap between runs.
func TestGenerationIsDeterministic(t *testing.T) {
	first, second := generated(t), generated(t)
	for name, data := range first {
		if !bytes.Equal(data, second[name]) {
			t.Errorf("%s differs between two generations: %s", name, firstDifference(data, second[name]))
		}
	}
}

func firstDifference(a, b []byte) string {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(al), len(bl)) {
		if !bytes.Equal(al[i], bl[i]) {
			return fmt.Sprintf("line %d: committed %q, generated %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("committed %d lines, generated %d", len(al), len(bl))
}

// TestRoundTripThroughSDK decodes every file strictly into the SDK's dashboard type and encodes
// it again: unknown fields, wrong types or lost settings show as a difference.
func TestRoundTripThroughSDK(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for name, data := range generated(t) {
		var strict dashboard.Dashboard
		if err := strictDecode(&strict, data); err != nil {
			t.Errorf("%s: strict decode: %v", name, err)
			continue
		}
		// The strict decoder of v0.0.22 drops row panels (its empty error list again), so the
		// round trip goes through the ordinary decoder, which the SDK's own README uses.
		var d dashboard.Dashboard
		if err := json.Unmarshal(data, &d); err != nil {
			t.Errorf("%s: decode: %v", name, err)
			continue
		}
		for _, p := range d.Panels {
			if p.Panel == nil {
				continue
			}
			for _, q := range p.Panel.Targets {
				if _, ok := q.(*prometheus.Dataquery); !ok {
					t.Errorf("%s: a query of %q decodes as %T, not a Prometheus query", name, *p.Panel.Title, q)
				}
			}
		}
		again, err := Marshal(d)
		if err != nil {
			t.Errorf("%s: encode: %v", name, err)
			continue
		}
		if !bytes.Equal(again, data) {
			t.Errorf("%s does not round-trip through dashboard.Dashboard: %s", name, firstDifference(again, data))
		}
	}
}

// strictDecode decodes strictly into the SDK's type. The SDK returns its empty error list as a
// non-nil error when nothing is wrong; that is no error.
func strictDecode(d *dashboard.Dashboard, data []byte) error {
	err := d.UnmarshalJSONStrict(data)
	var list cog.BuildErrors
	if errors.As(err, &list) && len(list) == 0 {
		return nil
	}
	return err
}

// jsonDashboard is the part of Grafana's JSON model the structural checks read.
type jsonDashboard struct {
	UID    string   `json:"uid"`
	Title  string   `json:"title"`
	Tags   []string `json:"tags"`
	Panels []struct {
		ID          int            `json:"id"`
		Type        string         `json:"type"`
		Title       string         `json:"title"`
		Description string         `json:"description"`
		Datasource  map[string]any `json:"datasource"`
		GridPos     struct{ X, Y, W, H int }
		Targets     []struct {
			Expr       string         `json:"expr"`
			Datasource map[string]any `json:"datasource"`
		} `json:"targets"`
		FieldConfig struct {
			Defaults struct {
				Unit string `json:"unit"`
			} `json:"defaults"`
		} `json:"fieldConfig"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Type       string         `json:"type"`
			Name       string         `json:"name"`
			Datasource map[string]any `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Links []struct {
		Type        string   `json:"type"`
		Tags        []string `json:"tags"`
		IncludeVars bool     `json:"includeVars"`
		KeepTime    bool     `json:"keepTime"`
	} `json:"links"`
}

func decoded(t *testing.T) map[string]jsonDashboard {
	t.Helper()
	out := map[string]jsonDashboard{}
	for name, data := range generated(t) {
		var d jsonDashboard
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = d
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestStructure(t *testing.T) {
	uids := map[string]string{}
	const dsUID = "${" + DatasourceVar + "}"
	all := decoded(t)
	if len(all) != 4 {
		t.Errorf("%d dashboards, want 4", len(all))
	}
	for _, name := range sortedKeys(all) {
		d := all[name]
		if d.UID == "" || len(d.UID) > 40 {
			t.Errorf("%s: uid %q must be 1 to 40 characters", name, d.UID)
		}
		if other, dup := uids[d.UID]; dup {
			t.Errorf("%s and %s share the uid %q", name, other, d.UID)
		}
		uids[d.UID] = name
		if !slices.Contains(d.Tags, Tag) {
			t.Errorf("%s: tags %q lack %q", name, d.Tags, Tag)
		}
		if len(d.Links) == 0 || d.Links[0].Type != "dashboards" || !slices.Contains(d.Links[0].Tags, Tag) ||
			!d.Links[0].IncludeVars || !d.Links[0].KeepTime {
			t.Errorf("%s: no link to the other dashboards that carries the variables and the time", name)
		}
		var vars []string
		for _, v := range d.Templating.List {
			vars = append(vars, v.Type+":"+v.Name)
			if v.Type == "query" && v.Datasource["uid"] != dsUID {
				t.Errorf("%s: variable %s queries %v, not the data source variable", name, v.Name, v.Datasource)
			}
		}
		want := []string{"datasource:" + DatasourceVar, "query:" + JobVar, "query:" + SiteVar, "query:" + InstanceVar}
		if !slices.Equal(vars, want) {
			t.Errorf("%s: variables %q, want %q", name, vars, want)
		}

		ids := map[int]string{}
		type rect struct {
			title      string
			x, y, w, h int
		}
		var placed []rect
		for _, p := range d.Panels {
			if other, dup := ids[p.ID]; dup || p.ID == 0 {
				t.Errorf("%s: panel %q has id %d, also used by %q", name, p.Title, p.ID, other)
			}
			ids[p.ID] = p.Title
			g := p.GridPos
			if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
				t.Errorf("%s: panel %q lies outside the grid: %+v", name, p.Title, g)
			}
			for _, o := range placed {
				if g.X < o.x+o.w && o.x < g.X+g.W && g.Y < o.y+o.h && o.y < g.Y+g.H {
					t.Errorf("%s: panels %q and %q overlap", name, p.Title, o.title)
				}
			}
			placed = append(placed, rect{p.Title, g.X, g.Y, g.W, g.H})
			if p.Type == "row" {
				continue
			}
			if p.Title == "" || p.Description == "" || p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: panel %q needs a title, a description and a unit", name, p.Title)
			}
			if p.Datasource["uid"] != dsUID {
				t.Errorf("%s: panel %q uses data source %v, not the variable", name, p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", name, p.Title)
			}
			for _, q := range p.Targets {
				if q.Datasource["uid"] != dsUID {
					t.Errorf("%s: a query of %q uses data source %v, not the variable", name, p.Title, q.Datasource)
				}
			}
		}
	}
}

// rangeRe finds the range of a range vector or subquery: [5m], [$__rate_interval], [10m:1m].
var rangeRe = regexp.MustCompile(`\[([^\]]*)\]`)

// rateRe finds the functions that compute a rate, whose window must follow the dashboard's
// interval so that every zoom level sees at least two samples.
var rateRe = regexp.MustCompile(`\b(rate|irate|increase|delta)\(`)

// TestQueries checks what every query must do: select with the variables, take rates over
// $__rate_interval (or the whole $__range), never scan a long window of raw samples where a
// recording rule exists, and name only metrics that the exporter or a recording rule produces.
func TestQueries(t *testing.T) {
	known := knownMetricNames(t)
	for _, d := range All(runbooks(t)) {
		for _, row := range d.Rows {
			for _, p := range row.Panels {
				where := d.Title + " / " + p.Title
				for _, q := range p.Queries {
					names := promql.MetricNames(q.Expr)
					if len(names) == 0 {
						t.Errorf("%s: query %q selects no metric", where, q.Expr)
					}
					for _, n := range names {
						if !known[n] {
							t.Errorf("%s: query names %s, which neither the exporter (golden files) nor a recording rule produces", where, n)
						}
					}
					fleetSelectors := strings.Count(q.Expr, fleetSel+"}")
					if !q.Threshold && strings.Count(q.Expr, sel)+fleetSelectors != strings.Count(q.Expr, "{") {
						t.Errorf("%s: every selector of %q must carry the job, site and instance matchers (job and site for a fleet: rule)", where, q.Expr)
					}
					checkFleetSelectors(t, where, q.Expr, fleetSelectors)
					if q.Threshold && (len(names) != 1 || !strings.HasPrefix(names[0], "candy_cadence:threshold:")) {
						t.Errorf("%s: threshold query %q must read one shipped threshold series", where, q.Expr)
					}
					checkWindows(t, where, q.Expr)
				}
			}
		}
	}
}

// selectorRe finds a metric name and the matchers of its selector.
var selectorRe = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}`)

// checkFleetSelectors: a fleet: rule carries no instance label, so an instance matcher would
// select nothing once the instance variable is set; every other series has one, so leaving
// the instance matcher out would ignore the selection.
func checkFleetSelectors(t *testing.T, where, expr string, fleetSelectors int) {
	t.Helper()
	seen := 0
	for _, s := range selectorRe.FindAllStringSubmatch(expr, -1) {
		isFleet := strings.HasPrefix(s[1], "fleet:")
		switch {
		case isFleet && s[2] != fleetSel:
			t.Errorf("%s: the fleet rule %s must be selected by {%s} alone, not {%s}", where, s[1], fleetSel, s[2])
		case !isFleet && s[2] == fleetSel:
			t.Errorf("%s: %s has an instance label and must carry the instance matcher", where, s[1])
		case isFleet:
			seen++
		}
	}
	if seen != fleetSelectors {
		t.Errorf("%s: %d selectors without the instance matcher, %d of them on fleet: rules, in %q", where, fleetSelectors, seen, expr)
	}
}

func checkWindows(t *testing.T, where, expr string) {
	t.Helper()
	for _, loc := range rateRe.FindAllStringIndex(expr, -1) {
		r := rangeRe.FindStringSubmatch(expr[loc[1]:])
		if r == nil || (r[1] != "$__rate_interval" && r[1] != "$__range") {
			t.Errorf("%s: %s... takes its rate over %v, not $__rate_interval or $__range", where, expr[loc[0]:loc[1]], r)
		}
	}
	for _, r := range rangeRe.FindAllStringSubmatch(expr, -1) {
		if strings.HasPrefix(r[1], "$") {
			continue
		}
		if r[1] != "6h" {
			t.Errorf("%s: fixed window [%s] in %q: use a recording rule for long windows", where, r[1], expr)
		}
	}
}

// knownMetricNames are the names the exporter's golden files show, the names the recording
// rules record, and producedElsewhere.
func knownMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	for _, n := range producedElsewhere {
		known[n] = true
	}
	var goldens []string
	for _, g := range goldenGlobs {
		paths, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		goldens = append(goldens, paths...)
	}
	if len(goldens) == 0 {
		t.Fatalf("no golden files match %q", goldenGlobs)
	}
	for _, p := range goldens {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if i := strings.IndexAny(line, "{ "); i > 0 {
				known[line[:i]] = true
			}
		}
		f.Close()
	}
	recorded, err := RecordedNames(rulesDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded) == 0 {
		t.Fatal("the rules record nothing")
	}
	for _, n := range recorded {
		known[n] = true
	}
	return known
}

// TestEveryPanelSaysWhatFillsIt: a panel names the scenario that fills it, or says why none can.
func TestEveryPanelSaysWhatFillsIt(t *testing.T) {
	for _, d := range All(runbooks(t)) {
		for _, row := range d.Rows {
			for _, p := range row.Panels {
				switch {
				case p.Fill != "" && p.Unfilled != "":
					t.Errorf("%s / %s: both a scenario and a reason for having none", d.Title, p.Title)
				case p.Fill == "" && strings.TrimSpace(p.Unfilled) == "":
					t.Errorf("%s / %s: names no scenario that fills it and gives no reason", d.Title, p.Title)
				case p.Fill != "" && !slices.Contains(Scenarios, p.Fill):
					t.Errorf("%s / %s: unknown scenario %q", d.Title, p.Title, p.Fill)
				}
			}
		}
	}
}

func TestFiringAlertsLinkEveryRunbook(t *testing.T) {
	rb := runbooks(t)
	fleetJSON := string(generated(t)["fleet-overview.json"])
	for alert, url := range rb {
		if !strings.Contains(fleetJSON, url) {
			t.Errorf("the firing-alerts table has no runbook link for %s (%s)", alert, url)
		}
	}
	expr := withRunbooks(`ALERTS`, map[string]string{"B": "https://x/#b", "A": "https://x/#a"})
	want := `label_replace(label_replace(ALERTS, "runbook_url", "https://x/#a", "alertname", "A"), "runbook_url", "https://x/#b", "alertname", "B")`
	if expr != want {
		t.Errorf("withRunbooks = %s, want %s", expr, want)
	}
}
