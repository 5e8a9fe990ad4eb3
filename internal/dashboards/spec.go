// Package dashboards defines the Grafana dashboards of Candy-Cadence as data (panels with their
// queries, units, descriptions and the live-check scenario that fills them) and turns them into
// the JSON that Grafana imports, through the Grafana Foundation SDK. The committed files in
// dashboards/ are this package's output: `make dashboards` rewrites them, and the tests fail when
// the two differ, when a query names a metric that neither the exporter nor a recording rule
// produces, or when a query fails or stays empty against a real Prometheus.
package dashboards

import "strings"

// Scenario names a situation that the live check plays on a workstation and in which a panel
// must return data. Panels that no scenario fills say why instead (Panel.Unfilled).
type Scenario string

// The scenarios of the live check. Each is played on one workstation of the checked fleet; see
// liveFleet in the tests for how.
const (
	// Running: the application runs with a healthy library, cache and backups, logs at DEBUG
	// (operations with durations, cache lookups, model loads) and the exporter is scraped.
	Running Scenario = "running"
	// Errors: the application logs ERROR and CRITICAL records of several types and a
	// PERFORMANCE ALERT, so that the error and critical-error alerts fire.
	Errors Scenario = "errors"
	// Crash: the application exits right after logging a CRITICAL record and stays down.
	Crash Scenario = "crash"
	// DatabaseDown: the library database cannot be read (the file is not a database).
	DatabaseDown Scenario = "database-down"
	// AlertFiring: at least one shipped alert fires (the critical error of Errors does).
	AlertFiring Scenario = "alert-firing"
	// ExporterDown: a scrape target of the job does not answer.
	ExporterDown Scenario = "exporter-down"
)

// Scenarios lists every scenario, in the order the live check reports them.
var Scenarios = []Scenario{Running, Errors, Crash, DatabaseDown, AlertFiring, ExporterDown}

// Kind is a Grafana panel type.
type Kind string

// The panel types the dashboards use.
const (
	TimeSeries Kind = "timeseries"
	Stat       Kind = "stat"
	Table      Kind = "table"
	Heatmap    Kind = "heatmap"
	Gauge      Kind = "gauge"
)

// Query is one target of a panel.
type Query struct {
	Expr   string
	Legend string // legend format, e.g. "{{instance}}"
	// Instant queries ask for the value at the end of the time range (stat, gauge and table
	// panels); the others ask for the whole range.
	Instant bool
	// Threshold marks a query that draws a line from the shipped threshold series (rules/
	// thresholds.yml), drawn dashed and red, so that an operator's edit of a threshold moves
	// the line too.
	Threshold bool
}

// Panel is one panel: what it shows, how, and when the live check expects it to have data.
type Panel struct {
	Title       string
	Description string
	Kind        Kind
	Unit        string // a Grafana unit id: "s", "bytes", "percentunit", "short", ...
	Width       uint32 // grid columns of 24; 0 means 6
	Height      uint32 // grid rows; 0 means 6 (stat, gauge) or 8
	Queries     []Query
	// Fill is the scenario that must give the panel data. Unfilled, used instead, says why no
	// scenario of a short run can ("needs history: ...", "only when ...").
	Fill     Scenario
	Unfilled string

	Min, Max *float64
	// Mappings maps values to text (stat panels of states).
	Mappings map[string]string
	// NoValue is what a stat shows when the query returns nothing (a count of zero items).
	NoValue string
	// Stack stacks the series of a time series.
	Stack bool
	// Bars draws a time series as bars (counts per interval).
	Bars bool
	// Steps are fixed colour steps (value: colour) for stats and gauges whose bounds are part of
	// the quantity itself (0 of a budget), never a tunable threshold.
	Steps []Step
	// ValueColumn names a table's value column; HideColumns are left out of the table.
	ValueColumn string
	HideColumns []string
	// InstanceLink makes the table's instance column open the workstation dashboard.
	InstanceLink bool
	// RunbookLink makes the table's alertname column open the alert's runbook section.
	RunbookLink bool
}

// Step is one colour step of a stat or gauge: from Value upwards (nil: from the bottom).
type Step struct {
	Value *float64
	Color string
}

// Row groups panels under a title.
type Row struct {
	Title  string
	Panels []Panel
}

// Dashboard is one dashboard and the file it is written to.
type Dashboard struct {
	UID         string
	Title       string
	File        string
	Description string
	Tags        []string
	// MultiInstance lets the instance variable select several (and all) workstations; the
	// drill-down dashboards show one.
	MultiInstance bool
	Rows          []Row
}

// f returns a pointer to v, for the optional numbers of a Panel.
func f(v float64) *float64 { return &v }

// sel is the label matcher every query of a dashboard carries, so that the job, site and
// instance variables select what each panel shows.
const sel = `job=~"$job", site=~"$site", instance=~"$instance"`

// fleetSel is the matcher of the fleet recording rules (fleet:...), which sum the workstations
// `without (instance)` and so carry no instance label: they follow the job and site variables,
// never the instance selection.
const fleetSel = `job=~"$job", site=~"$site"`

// fm returns a fleet recording rule with the dashboard's job and site matchers.
func fm(metric string) string {
	return metric + "{" + fleetSel + "}"
}

// m returns metric with the dashboard's matchers and any extra ones, e.g.
// m("candy_cadence_db_up", `db="library"`).
func m(metric string, extra ...string) string {
	return metric + "{" + strings.Join(append([]string{sel}, extra...), ", ") + "}"
}

// threshold returns a query that draws a shipped threshold series as a line.
func threshold(name, legend string) Query {
	return Query{Expr: name, Legend: legend, Threshold: true}
}
