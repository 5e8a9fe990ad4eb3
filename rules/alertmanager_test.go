package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/servertest"
)

const alertmanagerConfig = "../deploy/alertmanager/alertmanager.yml"

// exactMatcher finds label="value" matchers in a PromQL expression.
var exactMatcher = regexp.MustCompile(`([a-z_]+)="([^"]*)"`)

type inhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// TestInhibitRulesMatchTheAlerts checks that the inhibition rules name labels the alerts
// carry: a renamed alert or component would silently stop inhibiting.
func TestInhibitRulesMatchTheAlerts(t *testing.T) {
	var cfg struct {
		InhibitRules []inhibitRule `yaml:"inhibit_rules"`
	}
	loadYAML(t, alertmanagerConfig, &cfg)
	_, alerts := loadRules(t)
	values := map[string][]string{} // label name -> values some alert carries
	fleet := map[string]bool{}      // alerts about a fleet: no instance label
	for _, r := range alerts {
		values["alertname"] = append(values["alertname"], r.Alert)
		for k, v := range r.Labels {
			values[k] = append(values[k], v)
		}
		// Labels from the series an alert selects, e.g. db="library".
		for _, m := range exactMatcher.FindAllStringSubmatch(r.Expr, -1) {
			values[m[1]] = append(values[m[1]], m[2])
		}
		if r.Labels["component"] == "fleet" {
			fleet[r.Alert] = true
		}
	}
	if len(cfg.InhibitRules) == 0 {
		t.Fatal("no inhibit_rules")
	}
	for _, ir := range cfg.InhibitRules {
		for _, m := range slices.Concat(ir.SourceMatchers, ir.TargetMatchers) {
			name, value, ok := strings.Cut(m, "=")
			if !ok || strings.ContainsAny(name, "!~") {
				t.Errorf("matcher %q: this test understands only name=\"value\"", m)
				continue
			}
			if value = strings.Trim(value, `"`); !slices.Contains(values[name], value) {
				t.Errorf("matcher %q matches no alert of rules/alerts.yml", m)
			}
		}
		// A fleet alert has no instance: its inhibitions must hold the same job and site.
		target := ""
		for _, m := range ir.TargetMatchers {
			if name, value, _ := strings.Cut(m, "="); name == "alertname" {
				target = strings.Trim(value, `"`)
			}
		}
		switch {
		case fleet[target]:
			if !slices.Contains(ir.Equal, "job") || !slices.Contains(ir.Equal, "site") {
				t.Errorf("inhibit rule %v: a fleet alert needs job and site in equal, or one site would inhibit another's", ir)
			}
		case !slices.Contains(ir.Equal, "instance"):
			t.Errorf("inhibit rule %v: without instance in equal, one workstation would inhibit another's alerts", ir)
		}
	}
}

// TestInhibition runs the shipped configuration in a real Alertmanager, posts alerts and
// checks which ones it holds back: amtool tests routing only.
func TestInhibition(t *testing.T) {
	bin := servertest.Binary(t, "ALERTMANAGER", "prometheus-alertmanager", "alertmanager")
	addr := servertest.StartAlertmanager(t, bin, alertmanagerConfig)
	base := "http://" + addr + "/api/v2"

	alert := func(name, severity, component, instance string, extra ...string) map[string]any {
		labels := map[string]string{"alertname": name, "severity": severity, "component": component, "instance": instance, "job": "candy_cadence"}
		for i := 0; i+1 < len(extra); i += 2 {
			labels[extra[i]] = extra[i+1]
		}
		return map[string]any{"labels": labels, "annotations": map[string]string{"summary": name}}
	}
	posted := []map[string]any{
		alert("CandyCadenceAppCrashed", "critical", "process", "ws1:10933"),
		// ws1's application symptoms and the error logged just before the crash: the same
		// incident, held back while the crash pages.
		alert("CandyCadenceResponseTimeHigh", "warning", "application", "ws1:10933"),
		alert("CandyCadenceAvailabilityErrorBudgetBurn", "warning", "application", "ws1:10933", "long", "1h", "short", "5m"),
		alert("CandyCadenceCriticalError", "critical", "errors", "ws1:10933", "type", "MemoryError", "family", "runtime"),
		alert("CandyCadenceAppCrashLooping", "critical", "process", "ws1:10933"),
		// ws1's causes: shown.
		alert("CandyCadenceDatabaseDown", "critical", "database", "ws1:10933", "db", "library"),
		// ws2: the same symptom on another workstation is shown; its slow burn is held back by
		// its fast burn (same alert, same instance, critical over warning).
		alert("CandyCadenceResponseTimeHigh", "warning", "application", "ws2:10933"),
		alert("CandyCadenceAppMemoryHigh", "critical", "application", "ws2:10933"),
		alert("CandyCadenceAppMemoryHigh", "warning", "application", "ws2:10933"),
		// ws3: its library's page holds back its burn tickets and its database-family critical
		// errors, not its memory errors nor its cache's ticket (db differs).
		alert("CandyCadenceDatabaseDown", "critical", "database", "ws3:10933", "db", "library"),
		alert("CandyCadenceDatabaseDown", "warning", "database", "ws3:10933", "db", "cache"),
		alert("CandyCadenceLatencyErrorBudgetBurn", "warning", "application", "ws3:10933", "long", "1h", "short", "5m"),
		alert("CandyCadenceCriticalError", "critical", "errors", "ws3:10933", "type", "OperationalError", "family", "database"),
		alert("CandyCadenceCriticalError", "critical", "errors", "ws4:10933", "type", "MemoryError", "family", "runtime"),
		// The fleets: the availability burn of site hq (where ws3 is) is held back by ws3's
		// library page; that of site lab is not. A crash loop alone pages.
		fleetAlert("CandyCadenceFleetAvailabilityErrorBudgetBurn", "critical", "hq"),
		fleetAlert("CandyCadenceFleetAvailabilityErrorBudgetBurn", "critical", "lab"),
		alert("CandyCadenceAppCrashLooping", "critical", "process", "ws5:10933"),
	}
	// ws1..ws4 are at site hq.
	for _, a := range posted {
		if l := a["labels"].(map[string]string); l["instance"] != "" && l["instance"] != "ws5:10933" {
			l["site"] = "hq"
		}
	}
	body, _ := json.Marshal(posted)
	resp, err := http.Post(base+"/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("post alerts: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts: %s", resp.Status)
	}

	want := map[string]bool{ // alert -> inhibited
		"CandyCadenceAppCrashed ws1:10933 critical":                 false,
		"CandyCadenceResponseTimeHigh ws1:10933 warning":            true,
		"CandyCadenceAvailabilityErrorBudgetBurn ws1:10933 warning": true,
		"CandyCadenceCriticalError ws1:10933 critical":              true,
		"CandyCadenceAppCrashLooping ws1:10933 critical":            true,
		"CandyCadenceDatabaseDown ws1:10933 critical":               false,
		"CandyCadenceResponseTimeHigh ws2:10933 warning":            false,
		"CandyCadenceAppMemoryHigh ws2:10933 critical":              false,
		"CandyCadenceAppMemoryHigh ws2:10933 warning":               true,
		"CandyCadenceDatabaseDown ws3:10933 critical":               false,
		"CandyCadenceDatabaseDown ws3:10933 warning":                false,
		"CandyCadenceLatencyErrorBudgetBurn ws3:10933 warning":      true,
		"CandyCadenceCriticalError ws3:10933 critical":              true,
		"CandyCadenceCriticalError ws4:10933 critical":              false,
		"CandyCadenceFleetAvailabilityErrorBudgetBurn hq critical":  true,
		"CandyCadenceFleetAvailabilityErrorBudgetBurn lab critical": false,
		"CandyCadenceAppCrashLooping ws5:10933 critical":            false,
	}
	// The inhibitor learns of source alerts asynchronously: poll until the states settle.
	var got map[string]bool
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got = inhibitedAlerts(t, base); equalMaps(got, want) {
			return
		}
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: inhibited = %v (present: %v), want %v", k, g, ok, w)
		}
	}
}

func equalMaps(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

// fleetAlert is an alert about the fleet of one site: no instance.
func fleetAlert(name, severity, site string) map[string]any {
	labels := map[string]string{"alertname": name, "severity": severity, "component": "fleet", "job": "candy_cadence", "site": site}
	return map[string]any{"labels": labels, "annotations": map[string]string{"summary": name}}
}

// inhibitedAlerts returns each alert Alertmanager holds, keyed "alertname instance severity"
// (the site for a fleet alert),
// and whether an inhibition rule suppresses it.
func inhibitedAlerts(t *testing.T, base string) map[string]bool {
	t.Helper()
	resp, err := http.Get(base + "/alerts")
	if err != nil {
		t.Fatalf("get alerts: %v", err)
	}
	defer resp.Body.Close()
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		t.Fatalf("decode alerts: %v", err)
	}
	got := make(map[string]bool, len(alerts))
	for _, a := range alerts {
		where := a.Labels["instance"]
		if where == "" {
			where = a.Labels["site"]
		}
		key := fmt.Sprintf("%s %s %s", a.Labels["alertname"], where, a.Labels["severity"])
		got[key] = len(a.Status.InhibitedBy) > 0
	}
	return got
}
