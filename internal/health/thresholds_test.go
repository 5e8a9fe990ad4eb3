package health

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

func TestConstantVector(t *testing.T) {
	cases := map[string]float64{
		"vector(0.999)":              0.999,
		"vector(1500 * 1024 * 1024)": 1500 * 1024 * 1024,
		"vector(2 * 86400)":          172800,
		"vector(0.001 / 60)":         0.001 / 60,
		"vector((1 + 2) * 3 - 4)":    5,
		" vector(5) ":                5,
	}
	for expr, want := range cases {
		got, err := constantVector(expr)
		if err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("constantVector(%q) = %v, %v; want %v", expr, got, err, want)
		}
	}
	for _, bad := range []string{"vector(x)", "scalar(5)", "vector(1 +)", "vector(1 / 0)", "vector(5) + 1", "vector((5)"} {
		if v, err := constantVector(bad); err == nil {
			t.Errorf("constantVector(%q) = %v, want an error", bad, v)
		}
	}
}

// Every threshold series of the shipped file parses, and the ones the check needs are there:
// an entry added in a form the check cannot read, or a needed one renamed, fails here.
func TestShippedThresholdsParse(t *testing.T) {
	th, err := DefaultThresholds()
	if err != nil {
		t.Fatal(err)
	}
	if th.DBFreelistRatio != 0.30 || th.AppMemoryBytes != 1500*1024*1024 || th.BackupMaxAgeSeconds != 2*86400 {
		t.Errorf("unexpected values read from thresholds.yml: %+v", th)
	}
	if !th.IsCriticalErrorType([]byte("OperationalError")) || th.IsCriticalErrorType([]byte("ValueError")) || th.IsCriticalErrorType([]byte("XOperationalError")) {
		t.Error("the critical error types are not the alert's")
	}
	missing := strings.Replace(readRules(t, "thresholds.yml"), ThresholdPrefix+"db_freelist_ratio", ThresholdPrefix+"renamed", 1)
	if _, err := ParseThresholds([]byte(missing), []byte(readRules(t, "alerts.yml"))); err == nil || !strings.Contains(err.Error(), "db_freelist_ratio") {
		t.Errorf("a missing threshold gives %v, want an error naming it", err)
	}
	noAlert := strings.ReplaceAll(readRules(t, "alerts.yml"), CriticalErrorAlert, "Renamed")
	if _, err := ParseThresholds([]byte(readRules(t, "thresholds.yml")), []byte(noAlert)); err == nil || !strings.Contains(err.Error(), CriticalErrorAlert) {
		t.Errorf("a missing critical-error alert gives %v, want an error naming it", err)
	}
}

func readRules(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "rules", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkSeverity is the status the health check gives when a threshold is crossed, by
// threshold. It must equal the severity of the alerts that compare against the same threshold
// (info is "healthy, with a recommendation"): the check and the alerts never disagree about
// how bad a crossing is. The behaviour behind each entry is tested in health_test.go and
// workstation_test.go.
var checkSeverity = map[string]Status{
	"kpi_response_time_seconds":          StatusHealthy,
	"alert_response_time_seconds":        StatusWarning,
	"slo_latency_objective_ratio":        StatusCritical, // the fast burn; slower ones warn
	"alert_cpu_utilisation_ratio":        StatusWarning,
	"kpi_memory_utilisation_ratio":       StatusHealthy,
	"alert_memory_utilisation_ratio":     StatusWarning,
	"kpi_filesystem_utilisation_ratio":   StatusHealthy,
	"alert_filesystem_utilisation_ratio": StatusWarning,
	"db_query_slow_seconds":              StatusWarning,
	"db_freelist_ratio":                  StatusWarning,
	"errors_per_hour":                    StatusWarning,
	"app_memory_bytes":                   StatusWarning,
	"backup_max_age_seconds":             StatusWarning,
}

func TestCheckAgreesWithAlerts(t *testing.T) {
	th, err := DefaultThresholds()
	if err != nil {
		t.Fatal(err)
	}
	// Every threshold the report lists (but the derived ones) has an entry above.
	var fields map[string]any
	b, _ := json.Marshal(th)
	_ = json.Unmarshal(b, &fields)
	derived := map[string]bool{"min_events": true, "latency_bound_seconds": true, "latency_fast_burn_factor": true,
		"latency_error_ratio_critical": true, "critical_error_types": true}
	for name := range fields {
		if _, ok := checkSeverity[name]; !ok && !derived[name] {
			t.Errorf("threshold %s is used by the check but its severity is not compared with the alerts'", name)
		}
	}

	var file struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Expr   string            `yaml:"expr"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(readRules(t, "alerts.yml")), &file); err != nil {
		t.Fatal(err)
	}
	worst := map[string]Status{}
	asStatus := map[string]Status{"info": StatusHealthy, "warning": StatusWarning, "critical": StatusCritical}
	uses := regexp.MustCompile(regexp.QuoteMeta(ThresholdPrefix) + `(\w+)`)
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			s, ok := asStatus[r.Labels["severity"]]
			if r.Alert == "" || !ok {
				continue
			}
			for _, m := range uses.FindAllStringSubmatch(r.Expr, -1) {
				if cur, seen := worst[m[1]]; !seen || s.rank() > cur.rank() {
					worst[m[1]] = s
				}
			}
		}
	}
	for name, want := range checkSeverity {
		got, ok := worst[name]
		if !ok {
			t.Errorf("no alert compares against %s%s, which the check uses", ThresholdPrefix, name)
			continue
		}
		if got != want {
			t.Errorf("%s: the alerts' worst severity means %s, the check says %s", name, got, want)
		}
	}
}

// The latency bound is a histogram bucket the rules select, not a threshold series.
func TestLatencyBoundIsTheRulesBucket(t *testing.T) {
	if !strings.Contains(readRules(t, "recording.yml"), `le=~"5|5.0"`) || LatencyBoundSeconds != 5 {
		t.Errorf("the rules' latency bucket and LatencyBoundSeconds (%v) differ", LatencyBoundSeconds)
	}
}
