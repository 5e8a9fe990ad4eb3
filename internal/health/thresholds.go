package health

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v2"

	"github.com/candy-cadence/candy_cadence_exporter/rules"
)

// ThresholdPrefix names the constant series of rules/thresholds.yml.
const ThresholdPrefix = "candy_cadence:threshold:"

// LatencyBoundSeconds is the latency objective's bound. It is a histogram bucket boundary
// rather than a series of thresholds.yml (the rules select the bucket le="5"); a test keeps
// the two equal.
const LatencyBoundSeconds = 5.0

// Thresholds are the numbers the checks judge by, read from the shipped thresholds.yml so that
// the health check and the alerts cannot disagree. Each field names its series.
type Thresholds struct {
	KPIResponseTimeSeconds       float64 `json:"kpi_response_time_seconds"`
	AlertResponseTimeSeconds     float64 `json:"alert_response_time_seconds"`
	SLOLatencyObjectiveRatio     float64 `json:"slo_latency_objective_ratio"`
	MinEvents                    float64 `json:"min_events"`
	AlertCPUUtilisationRatio     float64 `json:"alert_cpu_utilisation_ratio"`
	KPIMemoryUtilisationRatio    float64 `json:"kpi_memory_utilisation_ratio"`
	AlertMemoryUtilisationRatio  float64 `json:"alert_memory_utilisation_ratio"`
	KPIFilesystemUtilisation     float64 `json:"kpi_filesystem_utilisation_ratio"`
	AlertFilesystemUtilisation   float64 `json:"alert_filesystem_utilisation_ratio"`
	DBQuerySlowSeconds           float64 `json:"db_query_slow_seconds"`
	DBFreelistRatio              float64 `json:"db_freelist_ratio"`
	ErrorsPerHour                float64 `json:"errors_per_hour"`
	AppMemoryBytes               float64 `json:"app_memory_bytes"`
	BackupMaxAgeSeconds          float64 `json:"backup_max_age_seconds"`
	LatencyBoundSeconds          float64 `json:"latency_bound_seconds"`
	LatencyFastBurnFactor        float64 `json:"latency_fast_burn_factor"`
	SLOLatencyErrorRatioCritical float64 `json:"latency_error_ratio_critical"`
	// CriticalErrorTypes is the regular expression of the error types that are critical at
	// once, from the CandyCadenceCriticalError alert.
	CriticalErrorTypes string `json:"critical_error_types"`

	criticalTypes *regexp.Regexp
}

// CriticalErrorAlert is the alert whose type regex names the critical error types.
const CriticalErrorAlert = "CandyCadenceCriticalError"

// latencyFastBurnFactor is the burn rate of the fastest latency alert (14.4 over 1 h), whose
// severity is critical: a share of slow operations that burns the budget this fast is critical.
const latencyFastBurnFactor = 14.4

// DefaultThresholds parses the thresholds shipped with the binary. The files are embedded, so
// a failure is a build that must not ship: tests call it.
func DefaultThresholds() (Thresholds, error) {
	return ParseThresholds(rules.ThresholdsYAML, rules.AlertsYAML)
}

// ParseThresholds reads thresholds.yml and the critical error types of alerts.yml. A series
// the checks need that is missing or not a constant fails loudly, naming it.
func ParseThresholds(thresholds, alerts []byte) (Thresholds, error) {
	types, err := criticalErrorTypes(alerts)
	if err != nil {
		return Thresholds{}, err
	}
	values, err := thresholdSeries(thresholds)
	if err != nil {
		return Thresholds{}, err
	}
	var t Thresholds
	var missing []string
	get := func(name string) float64 {
		v, ok := values[name]
		if !ok {
			missing = append(missing, ThresholdPrefix+name)
		}
		return v
	}
	t.KPIResponseTimeSeconds = get("kpi_response_time_seconds")
	t.AlertResponseTimeSeconds = get("alert_response_time_seconds")
	t.SLOLatencyObjectiveRatio = get("slo_latency_objective_ratio")
	t.MinEvents = get("min_events")
	t.AlertCPUUtilisationRatio = get("alert_cpu_utilisation_ratio")
	t.KPIMemoryUtilisationRatio = get("kpi_memory_utilisation_ratio")
	t.AlertMemoryUtilisationRatio = get("alert_memory_utilisation_ratio")
	t.KPIFilesystemUtilisation = get("kpi_filesystem_utilisation_ratio")
	t.AlertFilesystemUtilisation = get("alert_filesystem_utilisation_ratio")
	t.DBQuerySlowSeconds = get("db_query_slow_seconds")
	t.DBFreelistRatio = get("db_freelist_ratio")
	t.ErrorsPerHour = get("errors_per_hour")
	t.AppMemoryBytes = get("app_memory_bytes")
	t.BackupMaxAgeSeconds = get("backup_max_age_seconds")
	if len(missing) > 0 {
		return Thresholds{}, fmt.Errorf("thresholds.yml lacks %s", strings.Join(missing, ", "))
	}
	t.LatencyBoundSeconds = LatencyBoundSeconds
	t.LatencyFastBurnFactor = latencyFastBurnFactor
	// Rounded: 14.4 * (1 - 0.95) is 0.7200000000000006 in binary floating point.
	t.SLOLatencyErrorRatioCritical = math.Round(latencyFastBurnFactor*(1-t.SLOLatencyObjectiveRatio)*1e9) / 1e9
	t.CriticalErrorTypes = types
	t.criticalTypes = regexp.MustCompile("^(?:" + types + ")$") // checked in criticalErrorTypes
	return t, nil
}

// criticalErrorTypes returns the union of the type=~"..." regexes of the
// CandyCadenceCriticalError rules (one rule per family of critical types).
func criticalErrorTypes(alerts []byte) (string, error) {
	var file struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(alerts, &file); err != nil {
		return "", fmt.Errorf("alerts.yml: %w", err)
	}
	var types []string
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Alert != CriticalErrorAlert {
				continue
			}
			m := typeMatcher.FindStringSubmatch(r.Expr)
			if m == nil {
				return "", fmt.Errorf("alerts.yml: %s has no type=~\"...\" matcher", CriticalErrorAlert)
			}
			if _, err := regexp.Compile(m[1]); err != nil {
				return "", fmt.Errorf("alerts.yml: %s: %w", CriticalErrorAlert, err)
			}
			types = append(types, m[1])
		}
	}
	if len(types) == 0 {
		return "", fmt.Errorf("alerts.yml lacks the alert %s", CriticalErrorAlert)
	}
	return strings.Join(types, "|"), nil
}

var typeMatcher = regexp.MustCompile(`type=~"([^"]+)"`)

// IsCriticalErrorType tells whether an error type is critical at once.
func (t Thresholds) IsCriticalErrorType(typ []byte) bool {
	return t.criticalTypes != nil && len(typ) > 0 && t.criticalTypes.Match(typ)
}

// thresholdSeries returns every candy_cadence:threshold:* series of the file by its short
// name. Each must be vector(<arithmetic on numbers>).
func thresholdSeries(data []byte) (map[string]float64, error) {
	var file struct {
		Groups []struct {
			Rules []struct {
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("thresholds.yml: %w", err)
	}
	out := map[string]float64{}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			name, ok := strings.CutPrefix(r.Record, ThresholdPrefix)
			if !ok {
				continue
			}
			v, err := constantVector(r.Expr)
			if err != nil {
				return nil, fmt.Errorf("thresholds.yml: %s: %w", r.Record, err)
			}
			out[name] = v
		}
	}
	return out, nil
}

// constantVector evaluates vector(<expr>) where expr is numbers joined by + - * / and
// parentheses, the only form thresholds.yml uses.
func constantVector(expr string) (float64, error) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(expr), "vector(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return 0, fmt.Errorf("%q is not vector(<number>)", expr)
	}
	p := arith{s: strings.TrimSuffix(inner, ")")}
	v, err := p.sum()
	if err != nil {
		return 0, fmt.Errorf("%q: %w", expr, err)
	}
	if p.skip(); p.i != len(p.s) {
		return 0, fmt.Errorf("%q: unexpected %q", expr, p.s[p.i:])
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not finite", expr)
	}
	return v, nil
}

// arith is a recursive-descent evaluator of + - * / over numbers.
type arith struct {
	s string
	i int
}

func (p *arith) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *arith) sum() (float64, error) {
	v, err := p.product()
	for err == nil {
		p.skip()
		if p.i >= len(p.s) || (p.s[p.i] != '+' && p.s[p.i] != '-') {
			return v, nil
		}
		op := p.s[p.i]
		p.i++
		var w float64
		if w, err = p.product(); op == '+' {
			v += w
		} else {
			v -= w
		}
	}
	return 0, err
}

func (p *arith) product() (float64, error) {
	v, err := p.operand()
	for err == nil {
		p.skip()
		if p.i >= len(p.s) || (p.s[p.i] != '*' && p.s[p.i] != '/') {
			return v, nil
		}
		op := p.s[p.i]
		p.i++
		var w float64
		if w, err = p.operand(); op == '*' {
			v *= w
		} else {
			v /= w
		}
	}
	return 0, err
}

func (p *arith) operand() (float64, error) {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.skip(); p.i >= len(p.s) || p.s[p.i] != ')' {
			return 0, fmt.Errorf("missing )")
		}
		p.i++
		return v, nil
	}
	start := p.i
	for p.i < len(p.s) && strings.IndexByte("0123456789.eE", p.s[p.i]) >= 0 {
		p.i++
	}
	if start == p.i {
		return 0, fmt.Errorf("expected a number at %q", p.s[start:])
	}
	return strconv.ParseFloat(p.s[start:p.i], 64)
}
