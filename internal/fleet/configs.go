package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
)

// forLine matches a rule's `for:` or `keep_firing_for:` line.
var forLine = regexp.MustCompile(`^(\s*(?:for|keep_firing_for):\s*)(\S+)(\s*(?:#.*)?)$`)

// CopyRules copies the rule files (rules/*.yml, not the tests) from src to dst, dividing
// every `for:` and `keep_firing_for:` duration by divisor (at least 1s remains). Expressions
// are not touched: only how long a condition must hold changes, so a 5m `for:` becomes 5s
// with divisor 60. divisor 1 copies the files unchanged.
func CopyRules(src, dst string, divisor int) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(src, "*.yml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no rule files in %s", src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			m := forLine.FindStringSubmatch(l)
			if m == nil || divisor <= 1 {
				continue
			}
			d, err := model.ParseDuration(m[2])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", f, i+1, err)
			}
			short := max(time.Duration(d)/time.Duration(divisor), time.Second).Round(time.Second)
			lines[i] = m[1] + model.Duration(short).String() + m[3]
		}
		p := filepath.Join(dst, filepath.Base(f))
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// PrometheusOptions are the changes made to the shipped Prometheus configuration.
type PrometheusOptions struct {
	RuleFiles        []string      // replace rule_files
	AlertmanagerAddr string        // replace the Alertmanager targets
	ScrapeInterval   time.Duration // 0 keeps the shipped interval
	EvalInterval     time.Duration // 0 keeps the shipped interval
}

// readYAML reads a shipped configuration file, keeping its keys in order.
func readYAML(path string) (yaml.MapSlice, error) {
	var cfg yaml.MapSlice
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// PrometheusConfig returns the shipped configuration with opts applied. Scrape jobs, their
// file_sd discovery (targets/*.yml beside the configuration) and everything else stay.
func PrometheusConfig(shipped string, opts PrometheusOptions) ([]byte, error) {
	cfg, err := readYAML(shipped)
	if err != nil {
		return nil, err
	}
	global := getMap(cfg, "global")
	if opts.ScrapeInterval > 0 {
		global = setKey(global, "scrape_interval", model.Duration(opts.ScrapeInterval).String())
		// The timeout may not exceed the interval.
		global = setKey(global, "scrape_timeout", model.Duration(opts.ScrapeInterval).String())
	}
	if opts.EvalInterval > 0 {
		global = setKey(global, "evaluation_interval", model.Duration(opts.EvalInterval).String())
	}
	cfg = setKey(cfg, "global", global)
	cfg = setKey(cfg, "rule_files", opts.RuleFiles)
	cfg = setKey(cfg, "alerting", yaml.MapSlice{{Key: "alertmanagers", Value: []any{
		yaml.MapSlice{{Key: "static_configs", Value: []any{
			yaml.MapSlice{{Key: "targets", Value: []string{opts.AlertmanagerAddr}}},
		}}},
	}}})
	return yaml.Marshal(cfg)
}

// AlertmanagerConfig returns the shipped configuration with every receiver replaced by one
// webhook to sinkURL/<receiver name> (the routing tree, grouping and inhibitions stay as
// shipped), the global mail settings removed (nothing sends mail), and, when set, every
// route's group_wait and group_interval shortened.
func AlertmanagerConfig(shipped, sinkURL string, groupWait, groupInterval time.Duration) ([]byte, error) {
	cfg, err := readYAML(shipped)
	if err != nil {
		return nil, err
	}
	cfg = delKey(cfg, "global")
	var receivers []any
	for _, r := range getList(cfg, "receivers") {
		rm, _ := r.(yaml.MapSlice)
		name := fmt.Sprint(getValue(rm, "name"))
		receivers = append(receivers, yaml.MapSlice{
			{Key: "name", Value: name},
			{Key: "webhook_configs", Value: []any{yaml.MapSlice{
				{Key: "url", Value: strings.TrimRight(sinkURL, "/") + "/" + name},
				{Key: "send_resolved", Value: true},
			}}},
		})
	}
	cfg = setKey(cfg, "receivers", receivers)
	if groupWait > 0 {
		cfg = setKey(cfg, "route", shortenRoute(getMap(cfg, "route"), groupWait, groupInterval))
	}
	return yaml.Marshal(cfg)
}

func shortenRoute(r yaml.MapSlice, wait, interval time.Duration) yaml.MapSlice {
	r = setKey(r, "group_wait", model.Duration(wait).String())
	r = setKey(r, "group_interval", model.Duration(interval).String())
	var routes []any
	for _, sub := range getList(r, "routes") {
		sm, _ := sub.(yaml.MapSlice)
		if getValue(sm, "group_wait") != nil || getValue(sm, "group_interval") != nil {
			sm = shortenRoute(sm, wait, interval)
		}
		routes = append(routes, sm)
	}
	if routes != nil {
		r = setKey(r, "routes", routes)
	}
	return r
}

// WriteTargets writes the file_sd file listing the fleet's exporters, each labelled with its
// workstation's name.
func WriteTargets(path string, ws []*Workstation) error {
	var groups []any
	for _, w := range ws {
		groups = append(groups, yaml.MapSlice{
			{Key: "targets", Value: []string{w.ExporterAddr()}},
			{Key: "labels", Value: yaml.MapSlice{{Key: "workstation", Value: w.Name()}}},
		})
	}
	b, err := yaml.Marshal(groups)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// Written beside and renamed, so that Prometheus never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func getValue(m yaml.MapSlice, key string) any {
	for _, it := range m {
		if it.Key == key {
			return it.Value
		}
	}
	return nil
}

func getMap(m yaml.MapSlice, key string) yaml.MapSlice {
	v, _ := getValue(m, key).(yaml.MapSlice)
	return v
}

func getList(m yaml.MapSlice, key string) []any {
	v, _ := getValue(m, key).([]any)
	return v
}

func setKey(m yaml.MapSlice, key string, v any) yaml.MapSlice {
	for i, it := range m {
		if it.Key == key {
			m[i].Value = v
			return m
		}
	}
	return append(m, yaml.MapItem{Key: key, Value: v})
}

func delKey(m yaml.MapSlice, key string) yaml.MapSlice {
	out := m[:0]
	for _, it := range m {
		if it.Key != key {
			out = append(out, it)
		}
	}
	return out
}
