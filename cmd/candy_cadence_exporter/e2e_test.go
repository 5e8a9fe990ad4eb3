package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/servertest"
)

// TestEndToEndWithPrometheusAndAlertmanager runs the exporter as it is deployed: a real
// Prometheus scrapes it, loads the shipped rules and sends alerts to a real Alertmanager,
// which delivers them to a webhook. The application logs a MemoryError; the critical-error
// alert must arrive, and no shipped rule may fail to evaluate against the real output.
func TestEndToEndWithPrometheusAndAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	prometheus := servertest.Binary(t, "PROMETHEUS", "prometheus")
	alertmanager := servertest.Binary(t, "ALERTMANAGER", "prometheus-alertmanager", "alertmanager")
	rules, err := filepath.Glob(filepath.Join("..", "..", "rules", "*.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files: %v", err)
	}
	for i, r := range rules {
		if rules[i], err = filepath.Abs(r); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	logDir := filepath.Join(dir, "logs")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	exporterAddr, _ := startExporter(t,
		"--collector.logs.path="+filepath.Join(logDir, "Log - *.txt"),
		"--collector.logs.poll-interval=100ms")

	webhook := newAlertSink(t)
	amConfig := writeFile(t, dir, "alertmanager.yml", fmt.Sprintf(`
route:
  receiver: hook
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: false
`, webhook.url))
	amAddr := servertest.StartAlertmanager(t, alertmanager, amConfig)

	promAddr := servertest.FreeAddress(t)
	promConfig := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%s]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: candy_cadence
    static_configs:
      - targets: [%q]
`, strings.Join(quoteAll(rules), ", "), amAddr, exporterAddr))
	servertest.Start(t, prometheus, promAddr,
		"--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+promAddr)

	waitFor(t, 60*time.Second, "Prometheus scrapes the exporter", func() bool {
		return queryValue(t, promAddr, `up{job="candy_cadence"}`) == "1"
	})
	// Let the counters be scraped at zero before the error, so that increase() sees it.
	waitFor(t, 30*time.Second, "the error counters are scraped", func() bool {
		return queryValue(t, promAddr, `candy_cadence_errors_total{type="MemoryError"}`) == "0"
	})
	record := `{"timestamp": "2026-11-27T10:00:00.000000", "level": "CRITICAL", "logger": "src.main", "function": "excepthook", "line": 1, "message": "Unhandled exception", "module": "main", "thread": 1, "process": 2, "exception_type": "MemoryError"}` + "\n"
	writeFile(t, logDir, "Log - 112726-10-00-00 CRITICAL.txt", record)

	alert := webhook.wait(t, 90*time.Second, "CandyCadenceCriticalError")
	if alert["type"] != "MemoryError" || alert["severity"] != "critical" {
		t.Errorf("critical-error alert labels = %v", alert)
	}
	assertRulesHealthy(t, promAddr)
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// queryValue returns the value of the single sample an instant query returns, or "".
func queryValue(t *testing.T, promAddr, query string) string {
	t.Helper()
	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Data.Result) != 1 {
		return ""
	}
	v, _ := body.Data.Result[0].Value[1].(string)
	return v
}

// assertRulesHealthy fails for every shipped rule that Prometheus could not evaluate.
func assertRulesHealthy(t *testing.T, promAddr string) {
	t.Helper()
	resp, err := http.Get("http://" + promAddr + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health == "err" {
				t.Errorf("rule %s in %s fails: %s", r.Name, g.Name, r.LastError)
			}
		}
	}
	if n == 0 {
		t.Fatal("Prometheus loaded no rules")
	}
}

// alertSink is the webhook receiver Alertmanager delivers to.
type alertSink struct {
	url    string
	mu     sync.Mutex
	alerts []map[string]string // labels of every alert received
}

func newAlertSink(t *testing.T) *alertSink {
	t.Helper()
	s := &alertSink{}
	addr := servertest.FreeAddress(t)
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(s.receive), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.ListenAndServe() }()
	t.Cleanup(func() { _ = srv.Close() })
	s.url = "http://" + addr + "/alerts"
	return s
}

func (s *alertSink) receive(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Alerts []struct {
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &msg); err == nil {
		s.mu.Lock()
		for _, a := range msg.Alerts {
			s.alerts = append(s.alerts, a.Labels)
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (s *alertSink) wait(t *testing.T, limit time.Duration, alertname string) map[string]string {
	t.Helper()
	var found map[string]string
	waitFor(t, limit, "Alertmanager delivers "+alertname, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, a := range s.alerts {
			if a["alertname"] == alertname {
				found = a
				return true
			}
		}
		return false
	})
	return found
}
