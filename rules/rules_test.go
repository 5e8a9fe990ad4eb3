package rules

import (
	"bufio"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"

	"github.com/candy-cadence/candy_cadence_exporter/internal/promql"
)

const (
	runbookPath  = "../docs/runbook.md"
	rulesDocPath = "../docs/rules.md"
	// collectorsDir holds a package per collector, each with its golden file testdata/<name>.prom.
	collectorsDir   = "../collector"
	testsGlob       = "tests/*.yml"
	thresholdPrefix = "candy_cadence:threshold:"
)

// ruleFiles in the order Prometheus's rule_files glob and every test file load them.
var ruleFiles = []string{"thresholds.yml", "recording.yml", "alerts.yml"}

// goldenCollectors are the collectors whose golden files define the metric contract.
var goldenCollectors = []string{"process", "host", "sqlite", "logs"}

// exporterMetrics are exposed by the exporter itself (collector/runner.go, main's build
// info), and syntheticMetrics by Prometheus for every scrape.
var (
	exporterMetrics = []string{
		"candy_cadence_exporter_build_info",
		"candy_cadence_exporter_collector_duration_seconds",
		"candy_cadence_exporter_collector_success",
	}
	syntheticMetrics = []string{
		"up", "scrape_duration_seconds", "scrape_samples_scraped",
		"scrape_samples_post_metric_relabeling", "scrape_series_added",
	}
)

// criticalErrorTypes are the application's critical exception classes: the memory family,
// the sqlite3.DatabaseError family, the application's database exceptions and SystemError.
var criticalErrorTypes = []string{
	"MemoryError", "OutOfMemoryError", "MemoryException",
	"DatabaseError", "OperationalError", "IntegrityError", "ProgrammingError", "InternalError",
	"DataError", "NotSupportedError", "DatabaseException", "DatabaseConnectionError",
	"SystemError",
}

var (
	severities = []string{"critical", "warning", "info"}
	components = []string{"application", "errors", "process", "host", "database", "exporter", "fleet", "monitoring"}
)

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// name is the rule's record or alert name.
func (r rule) name() string { return r.Record + r.Alert }

// variant names an alerting rule among those that share its name: name{severity=..., ...}.
func (r rule) variant() string {
	keys := slices.Sorted(maps.Keys(r.Labels))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+r.Labels[k])
	}
	return r.Alert + "{" + strings.Join(parts, ", ") + "}"
}

type testFile struct {
	path               string
	RuleFiles          []string    `yaml:"rule_files"`
	EvaluationInterval string      `yaml:"evaluation_interval"`
	GroupEvalOrder     []string    `yaml:"group_eval_order"`
	Tests              []testGroup `yaml:"tests"`
}

type testGroup struct {
	Interval    string `yaml:"interval"`
	InputSeries []struct {
		Series string `yaml:"series"`
	} `yaml:"input_series"`
	AlertRuleTests []alertTest `yaml:"alert_rule_test"`
	PromQLExprTest []struct {
		Expr string `yaml:"expr"`
	} `yaml:"promql_expr_test"`
}

type alertTest struct {
	EvalTime  string `yaml:"eval_time"`
	Alertname string `yaml:"alertname"`
	ExpAlerts []struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	} `yaml:"exp_alerts"`
}

// firesFor returns the instances for which the test expects the variant of r to fire.
func (a alertTest) firesFor(r rule) []string {
	var instances []string
	for _, exp := range a.ExpAlerts {
		if labelsContain(exp.ExpLabels, r.Labels) {
			instances = append(instances, exp.ExpLabels["instance"])
		}
	}
	return instances
}

func labelsContain(labels, subset map[string]string) bool {
	for k, v := range subset {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func loadYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

// loadGroups returns the rule groups of all rule files, in load order.
func loadGroups(t *testing.T) []ruleGroup {
	t.Helper()
	var groups []ruleGroup
	for _, f := range ruleFiles {
		var rf struct {
			Groups []ruleGroup `yaml:"groups"`
		}
		loadYAML(t, f, &rf)
		if len(rf.Groups) == 0 {
			t.Fatalf("%s holds no rule groups", f)
		}
		groups = append(groups, rf.Groups...)
	}
	return groups
}

func loadRules(t *testing.T) (records, alerts []rule) {
	t.Helper()
	for _, g := range loadGroups(t) {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts = append(alerts, r)
			} else {
				records = append(records, r)
			}
		}
	}
	return records, alerts
}

func loadTests(t *testing.T) []testFile {
	t.Helper()
	paths, err := filepath.Glob(testsGlob)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no rule test files match %s (err: %v)", testsGlob, err)
	}
	files := make([]testFile, 0, len(paths))
	for _, p := range paths {
		tf := testFile{path: p}
		loadYAML(t, p, &tf)
		files = append(files, tf)
	}
	return files
}

// evaluationInterval is the test file's rule evaluation interval (promtool's default: 1m).
func (tf testFile) evaluationInterval(t *testing.T) time.Duration {
	if tf.EvaluationInterval == "" {
		return time.Minute
	}
	return parseDuration(t, tf.EvaluationInterval)
}

var durationPart = regexp.MustCompile(`(\d+)(ms|s|m|h|d|w|y)`)

// parseDuration parses a Prometheus duration such as 1h30m or 7d.
func parseDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	units := map[string]time.Duration{
		"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour,
	}
	parts := durationPart.FindAllStringSubmatch(s, -1)
	if strings.Join(flatten(parts), "") != s || len(parts) == 0 {
		t.Fatalf("bad duration %q", s)
	}
	var d time.Duration
	for _, p := range parts {
		n, _ := strconv.Atoi(p[1])
		d += time.Duration(n) * units[p[2]]
	}
	return d
}

func flatten(matches [][]string) []string {
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		out = append(out, m[0])
	}
	return out
}

func TestRuleGroupsAreUniqueAndTestsEvaluateThemInOrder(t *testing.T) {
	var order []string
	for _, g := range loadGroups(t) {
		if slices.Contains(order, g.Name) {
			t.Errorf("rule group %s is defined twice: promtool's group_eval_order goes by name", g.Name)
		}
		order = append(order, g.Name)
	}
	wantFiles := make([]string, 0, len(ruleFiles))
	for _, f := range ruleFiles {
		wantFiles = append(wantFiles, "../"+f)
	}
	for _, tf := range loadTests(t) {
		if !slices.Equal(tf.RuleFiles, wantFiles) {
			t.Errorf("%s: rule_files = %q, want %q", tf.path, tf.RuleFiles, wantFiles)
		}
		// promtool evaluates groups not listed in an arbitrary order, which makes results
		// that depend on other groups' results of the same evaluation flaky.
		if !slices.Equal(tf.GroupEvalOrder, order) {
			t.Errorf("%s: group_eval_order = %q, want every group in file order: %q", tf.path, tf.GroupEvalOrder, order)
		}
	}
}

var camelCaseAlert = regexp.MustCompile(`^CandyCadence([A-Z][a-z0-9]*|[A-Z]+)+$`)

func TestAlertsFollowConventions(t *testing.T) {
	_, alerts := loadRules(t)
	// Every runbook_url is one base (an operator may move it: see alerts.yml) followed by
	// #<alert name in lower case>, the anchor of the alert's runbook section.
	base, _, _ := strings.Cut(alerts[0].Annotations["runbook_url"], "#")
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		t.Errorf("runbook base %q is not a URL", base)
	}
	for _, r := range alerts {
		if !camelCaseAlert.MatchString(r.Alert) {
			t.Errorf("%s: alert names are CamelCase with the prefix CandyCadence", r.Alert)
		}
		if !slices.Contains(severities, r.Labels["severity"]) {
			t.Errorf("%s: severity %q, want one of %q", r.variant(), r.Labels["severity"], severities)
		}
		if !slices.Contains(components, r.Labels["component"]) {
			t.Errorf("%s: component %q, want one of %q", r.variant(), r.Labels["component"], components)
		}
		summary, description := r.Annotations["summary"], r.Annotations["description"]
		if summary == "" || strings.Contains(summary, "{{") {
			t.Errorf("%s: summary %q must be static text", r.variant(), summary)
		}
		if !strings.Contains(description, "$value") {
			t.Errorf("%s: description %q must show the value ($value)", r.variant(), description)
		}
		if want := base + "#" + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", r.variant(), r.Annotations["runbook_url"], want)
		}
		if extra := slices.DeleteFunc(slices.Collect(maps.Keys(r.Annotations)), func(k string) bool {
			return k == "summary" || k == "description" || k == "runbook_url"
		}); len(extra) > 0 {
			t.Errorf("%s: unexpected annotations %q", r.variant(), extra)
		}
	}
}

// runbookSections returns the sections of the runbook by their "## " heading, each with the
// "### " headings it holds.
func runbookSections(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(runbookPath)
	if err != nil {
		t.Fatalf("open runbook: %v", err)
	}
	defer f.Close()
	sections := map[string][]string{}
	current := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			current = strings.TrimSpace(strings.TrimPrefix(line, "## "))
			sections[current] = []string{}
		case strings.HasPrefix(line, "### ") && current != "":
			sections[current] = append(sections[current], strings.TrimSpace(strings.TrimPrefix(line, "### ")))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read runbook: %v", err)
	}
	return sections
}

func TestEveryAlertHasARunbookSection(t *testing.T) {
	_, alerts := loadRules(t)
	sections := runbookSections(t)
	want := []string{"Meaning", "Impact", "Diagnosis", "Mitigation"}
	names := map[string]bool{}
	for _, r := range alerts {
		names[r.Alert] = true
		sub, ok := sections[r.Alert]
		if !ok {
			t.Errorf("%s: no section \"## %s\" in %s", r.Alert, r.Alert, runbookPath)
			continue
		}
		if !slices.Equal(sub, want) {
			t.Errorf("%s: runbook subsections %q, want %q", r.Alert, sub, want)
		}
	}
	for heading := range sections {
		if strings.HasPrefix(heading, "CandyCadence") && !names[heading] {
			t.Errorf("runbook section %q names no alert", heading)
		}
	}
}

func TestEveryRuleIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(rulesDocPath)
	if err != nil {
		t.Fatalf("read rules doc: %v", err)
	}
	records, alerts := loadRules(t)
	for _, r := range slices.Concat(records, alerts) {
		if !strings.Contains(string(doc), "`"+r.name()+"`") {
			t.Errorf("%s is not in %s", r.name(), rulesDocPath)
		}
	}
}

// TestEveryAlertIsTested requires, for every alerting rule (each severity of an alert is a
// rule of its own), a promtool case in which it fires with its annotations given exactly,
// preceded one evaluation earlier by a case in which it does not fire for that instance
// yet: the boundary of its `for`. Every alert name also needs a case that expects nothing.
func TestEveryAlertIsTested(t *testing.T) {
	_, alerts := loadRules(t)
	files := loadTests(t)
	names := map[string]bool{}
	for _, r := range alerts {
		names[r.Alert] = true
	}
	silent := map[string]bool{}
	for _, tf := range files {
		for _, g := range tf.Tests {
			for _, a := range g.AlertRuleTests {
				if !names[a.Alertname] {
					t.Errorf("%s: tests alert %q, which no rule defines", tf.path, a.Alertname)
				}
				if len(a.ExpAlerts) == 0 {
					silent[a.Alertname] = true
				}
			}
		}
	}
	for name := range names {
		if !silent[name] && name != "CandyCadenceWatchdog" {
			t.Errorf("%s: no test case in which it stays silent (exp_alerts empty)", name)
		}
	}
	for _, r := range alerts {
		if r.Expr == alwaysFiring {
			// No boundary exists: it fires from the first evaluation. Its cases show it firing.
			if !firesAt(t, r, files) {
				t.Errorf("%s: no test case shows it firing", r.variant())
			}
			continue
		}
		if !firesAtBoundary(t, r, files) {
			t.Errorf("%s: no test case shows it firing at the boundary of its `for`: it must fire at some eval_time and not fire for that instance one evaluation earlier, in the same test group", r.variant())
		}
	}
}

// alwaysFiring is the watchdog's expression.
const alwaysFiring = "vector(1)"

// firesAt reports whether some case expects r to fire, checking its annotations.
func firesAt(t *testing.T, r rule, files []testFile) bool {
	found := false
	for _, tf := range files {
		for _, g := range tf.Tests {
			for _, a := range g.AlertRuleTests {
				if a.Alertname == r.Alert && len(a.firesFor(r)) > 0 {
					checkExpectedAnnotations(t, tf.path, a, r)
					found = true
				}
			}
		}
	}
	return found
}

// firesAtBoundary reports whether the tests show r firing at a time T and not firing, for
// the same instance, at T minus the evaluation interval. It also checks that every case
// expecting r gives its annotations exactly.
func firesAtBoundary(t *testing.T, r rule, files []testFile) bool {
	found := false
	for _, tf := range files {
		step := tf.evaluationInterval(t)
		for _, g := range tf.Tests {
			before := map[time.Duration][]string{} // eval time -> instances r fires for
			var firing []alertTest
			for _, a := range g.AlertRuleTests {
				if a.Alertname != r.Alert {
					continue
				}
				before[parseDuration(t, a.EvalTime)] = a.firesFor(r)
				if len(a.firesFor(r)) > 0 {
					firing = append(firing, a)
				}
				checkExpectedAnnotations(t, tf.path, a, r)
			}
			for _, a := range firing {
				prev, tested := before[parseDuration(t, a.EvalTime)-step]
				if !tested {
					continue
				}
				for _, inst := range a.firesFor(r) {
					if !slices.Contains(prev, inst) {
						found = true
					}
				}
			}
		}
	}
	return found
}

func checkExpectedAnnotations(t *testing.T, path string, a alertTest, r rule) {
	t.Helper()
	for _, exp := range a.ExpAlerts {
		if !labelsContain(exp.ExpLabels, r.Labels) {
			continue
		}
		for _, k := range []string{"summary", "runbook_url"} {
			if exp.ExpAnnotations[k] != r.Annotations[k] {
				t.Errorf("%s: %s at %s expects %s %q, the rule has %q", path, r.variant(), a.EvalTime, k, exp.ExpAnnotations[k], r.Annotations[k])
			}
		}
		if exp.ExpAnnotations["description"] == "" {
			t.Errorf("%s: %s at %s does not check the description", path, r.variant(), a.EvalTime)
		}
	}
}

func TestEveryRecordingRuleIsTested(t *testing.T) {
	records, alerts := loadRules(t)
	tested := map[string]bool{}
	for _, tf := range loadTests(t) {
		for _, g := range tf.Tests {
			for _, e := range g.PromQLExprTest {
				for _, n := range promql.MetricNames(e.Expr) {
					tested[n] = true
				}
			}
		}
	}
	used := map[string]bool{}
	for _, r := range slices.Concat(records, alerts) {
		for _, n := range promql.MetricNames(r.Expr) {
			used[n] = true
		}
	}
	for _, r := range records {
		// A threshold is a constant: its tests are those of the alerts that read it.
		if strings.HasPrefix(r.Record, thresholdPrefix) {
			if !used[r.Record] {
				t.Errorf("threshold %s is read by no rule", r.Record)
			}
			continue
		}
		if !tested[r.Record] {
			t.Errorf("recording rule %s has no promql_expr_test", r.Record)
		}
	}
}

// implementedMetrics returns the metric names the exporter exposes, each with the label names
// its samples carry: the collectors' golden files (histograms and summaries expanded), the
// exporter's own metrics and Prometheus's synthetic series (labels not checked: nil). Every
// collector must have a golden file.
func implementedMetrics(t *testing.T) map[string]map[string]bool {
	t.Helper()
	names := map[string]map[string]bool{}
	for _, n := range slices.Concat(exporterMetrics, syntheticMetrics) {
		names[n] = nil
	}
	for _, c := range goldenCollectors {
		for n, labels := range goldenMetrics(t, filepath.Join(collectorsDir, c, "testdata", c+".prom")) {
			names[n] = labels
		}
	}
	return names
}

// goldenMetrics reads the "# TYPE" lines of a golden file in the text exposition format, and
// the label names of its samples.
func goldenMetrics(t *testing.T, path string) map[string]map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	metrics := map[string]map[string]bool{}
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) == 4 && fields[0] == "#" && fields[1] == "TYPE" {
			name, typ := fields[2], fields[3]
			switch typ {
			case "histogram":
				for _, n := range []string{name + "_bucket", name + "_sum", name + "_count"} {
					metrics[n] = map[string]bool{}
				}
				metrics[name+"_bucket"]["le"] = true
			case "summary":
				for _, n := range []string{name, name + "_sum", name + "_count"} {
					metrics[n] = map[string]bool{}
				}
				metrics[name]["quantile"] = true
			default:
				metrics[name] = map[string]bool{}
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		if m := selectorRegex.FindStringSubmatch(line); m != nil && metrics[m[1]] != nil {
			for _, l := range labelNameRegex.FindAllStringSubmatch(m[2], -1) {
				metrics[m[1]][l[1]] = true
			}
		}
	}
	if len(metrics) == 0 {
		t.Errorf("%s has no # TYPE lines", path)
	}
	return metrics
}

var (
	selectorRegex  = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}`)
	anySelector    = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}`)
	labelNameRegex = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
)

// targetLabels are added by Prometheus or the targets' file_sd labels, not by the exporter.
var targetLabels = []string{"job", "instance", "site"}

// missingFromExporter returns, for an expression, the metric names the exporter does not
// expose (and no rule records), and "name{label}" for each label a selector names that the
// exporter's samples of that metric do not carry.
func missingFromExporter(expr string, implemented map[string]map[string]bool, recorded map[string]bool) []string {
	var missing []string
	for _, n := range promql.MetricNames(expr) {
		if _, ok := implemented[n]; !ok && !recorded[n] {
			missing = append(missing, n)
		}
	}
	for _, m := range anySelector.FindAllStringSubmatch(expr, -1) {
		labels, ok := implemented[m[1]]
		if !ok || labels == nil {
			continue
		}
		for _, l := range labelNameRegex.FindAllStringSubmatch(m[2], -1) {
			if !labels[l[1]] && !slices.Contains(targetLabels, l[1]) {
				missing = append(missing, m[1]+"{"+l[1]+"}")
			}
		}
	}
	return missing
}

// TestRulesReadOnlyImplementedMetrics fails with one message that lists exactly the metric
// names (and labels, as name{label}) that rules or test inputs use and the exporter's golden
// files do not have: the contract the collectors still have to meet.
func TestRulesReadOnlyImplementedMetrics(t *testing.T) {
	records, alerts := loadRules(t)
	implemented := implementedMetrics(t)
	recorded := map[string]bool{}
	for _, r := range records {
		recorded[r.Record] = true
	}
	missing := map[string][]string{} // name -> rules and test files that use it
	for _, r := range slices.Concat(records, alerts) {
		for _, n := range missingFromExporter(r.Expr, implemented, recorded) {
			missing[n] = append(missing[n], r.name())
		}
	}
	// The tests feed raw metrics; a misspelt one would test nothing.
	for _, tf := range loadTests(t) {
		for _, g := range tf.Tests {
			for _, s := range g.InputSeries {
				for _, n := range missingFromExporter(s.Series, implemented, nil) {
					missing[n] = append(missing[n], tf.path)
				}
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	names := slices.Sorted(maps.Keys(missing))
	for _, n := range names {
		t.Logf("%s is used by %q", n, slices.Compact(slices.Sorted(slices.Values(missing[n]))))
	}
	t.Errorf("the exporter's golden files (collector/testdata/*.prom) lack: %s", strings.Join(names, " "))
}

// jobSelectingRules are the rules about scrape targets rather than what the exporter says: they
// read Prometheus's up series and must name the scrape job.
var jobSelectingRules = []string{
	"fleet:candy_cadence_workstations_down:ratio", "CandyCadenceExporterNotSeen", "CandyCadenceTargetsMissing",
}

// TestRulesKeepTargetLabels: aggregations drop only what they sum over, so every label of a
// scrape target (job, instance, a file_sd site) survives, and only the rules about targets
// name the scrape job.
func TestRulesKeepTargetLabels(t *testing.T) {
	records, alerts := loadRules(t)
	by := regexp.MustCompile(`\bby\s*\(`)
	for _, r := range slices.Concat(records, alerts) {
		if by.MatchString(r.Expr) {
			t.Errorf("%s aggregates with by (...); use without (...)", r.name())
		}
		if strings.Contains(r.Expr, "job=") != slices.Contains(jobSelectingRules, r.name()) {
			t.Errorf("%s: only %q may select the scrape job", r.name(), jobSelectingRules)
		}
	}
}

var typeRegex = regexp.MustCompile(`type=~"([^"]*)"`)

func TestCriticalErrorTypesAgree(t *testing.T) {
	records, alerts := loadRules(t)
	var alertTypes, reliabilityTypes []string
	for _, r := range slices.Concat(records, alerts) {
		if r.name() != "CandyCadenceCriticalError" && r.name() != "instance:candy_cadence_slo_reliability_critical_errors:increase30d" {
			continue
		}
		m := typeRegex.FindStringSubmatch(r.Expr)
		if m == nil {
			t.Fatalf("%s selects no type=~\"...\"", r.variant())
		}
		if r.Alert != "" {
			alertTypes = append(alertTypes, strings.Split(m[1], "|")...)
		} else {
			reliabilityTypes = strings.Split(m[1], "|")
		}
	}
	slices.Sort(alertTypes)
	slices.Sort(reliabilityTypes)
	if !slices.Equal(alertTypes, reliabilityTypes) {
		t.Errorf("the critical error types differ between the CandyCadenceCriticalError rules and the reliability rule:\n%q\n%q", alertTypes, reliabilityTypes)
	}
	if want := slices.Sorted(slices.Values(criticalErrorTypes)); !slices.Equal(alertTypes, want) {
		t.Errorf("critical error types %q, want %q", alertTypes, want)
	}
}
