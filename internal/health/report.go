// Package health is the operations manual's health check, built on the exporter's own
// collectors: it gathers their metrics once (through the same runner as a scrape), reads what
// only the files can tell (log records of the last hour, permissions, discovery), and judges
// each area healthy, warning or critical against the thresholds the alerts use. The
// `candy_cadence_exporter check` command prints the report; /health serves it as JSON.
package health

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Status is the outcome of a check, or of the whole report.
type Status string

// The statuses, from best to worst. StatusUnknown is a check that could not be made (its
// collector is off or failed); it makes the report at least a warning.
const (
	StatusHealthy  Status = "healthy"
	StatusUnknown  Status = "unknown"
	StatusWarning  Status = "warning"
	StatusCritical Status = "critical"
)

func (s Status) rank() int {
	switch s {
	case StatusHealthy:
		return 0
	case StatusUnknown:
		return 1
	case StatusWarning:
		return 2
	}
	return 3
}

// ExitCode is the status as monitoring plugins report it: 0 healthy, 1 warning, 2 critical.
// (3 is left to a check that could not run at all.)
func (s Status) ExitCode() int {
	switch s {
	case StatusHealthy:
		return 0
	case StatusCritical:
		return 2
	}
	return 1
}

// ExitCheckFailed is the exit code of a check that could not run: bad flags, unreadable
// configuration.
const ExitCheckFailed = 3

// The checks, in report order.
const (
	CheckApplication   = "application"
	CheckDatabase      = "database"
	CheckSystem        = "system"
	CheckPermissions   = "permissions"
	CheckConfiguration = "configuration"
	CheckLogs          = "logs"
	CheckPerformance   = "performance"
)

// Check is one area's outcome.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Finding is one line on what was found, whatever the status.
	Finding         string   `json:"finding"`
	Issues          []string `json:"issues"`          // what makes it critical
	Warnings        []string `json:"warnings"`        // what makes it a warning, or could not be checked
	Recommendations []string `json:"recommendations"` // what an operator can do
	// Values are the measurements behind the finding, by name, in base units.
	Values map[string]float64 `json:"values"`
}

// Report is the health check's result. Its JSON shape is documented in the README and fixed by
// a golden test: fields are only ever added.
type Report struct {
	Status          Status     `json:"status"`
	Time            time.Time  `json:"time"`
	Version         string     `json:"version"`
	DurationSeconds float64    `json:"duration_seconds"`
	Checks          []Check    `json:"checks"`
	Issues          []string   `json:"issues"`
	Warnings        []string   `json:"warnings"`
	Recommendations []string   `json:"recommendations"`
	Thresholds      Thresholds `json:"thresholds"`
}

// finish sets the overall status and gathers every check's issues, warnings and
// recommendations, each prefixed with its check's name.
func (r *Report) finish() {
	r.Status = StatusHealthy
	r.Issues, r.Warnings, r.Recommendations = []string{}, []string{}, []string{}
	for _, c := range r.Checks {
		if c.Status.rank() > r.Status.rank() {
			r.Status = c.Status
		}
		for _, s := range c.Issues {
			r.Issues = append(r.Issues, c.Name+": "+s)
		}
		for _, s := range c.Warnings {
			r.Warnings = append(r.Warnings, c.Name+": "+s)
		}
		for _, s := range c.Recommendations {
			r.Recommendations = append(r.Recommendations, c.Name+": "+s)
		}
	}
	if r.Status == StatusUnknown {
		r.Status = StatusWarning // what could not be checked needs a look
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a person: one line per check, then issues, warnings and
// recommendations, then the overall status.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Candy-Cadence health check, %s (exporter %s)\n\n", r.Time.Format(time.RFC3339), r.Version)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-14s %-8s %s\n", c.Name, strings.ToUpper(string(c.Status)), c.Finding)
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		for _, l := range lines {
			fmt.Fprintf(&b, "  - %s\n", l)
		}
	}
	section("Issues", r.Issues)
	section("Warnings", r.Warnings)
	section("Recommendations", r.Recommendations)
	fmt.Fprintf(&b, "\nOverall: %s\n", strings.ToUpper(string(r.Status)))
	_, err := io.WriteString(w, b.String())
	return err
}

// judgement collects one check's outcome while it is made.
type judgement struct{ c Check }

func newJudgement(name string) *judgement {
	return &judgement{c: Check{Name: name, Status: StatusHealthy, Issues: []string{}, Warnings: []string{},
		Recommendations: []string{}, Values: map[string]float64{}}}
}

func (j *judgement) raise(s Status) {
	if s.rank() > j.c.Status.rank() {
		j.c.Status = s
	}
}

func (j *judgement) critical(format string, a ...any) {
	j.raise(StatusCritical)
	j.c.Issues = append(j.c.Issues, fmt.Sprintf(format, a...))
}

func (j *judgement) warn(format string, a ...any) {
	j.raise(StatusWarning)
	j.c.Warnings = append(j.c.Warnings, fmt.Sprintf(format, a...))
}

// unknown records something that could not be checked.
func (j *judgement) unknown(format string, a ...any) {
	j.raise(StatusUnknown)
	j.c.Warnings = append(j.c.Warnings, "could not check: "+fmt.Sprintf(format, a...))
}

func (j *judgement) recommend(format string, a ...any) {
	j.c.Recommendations = append(j.c.Recommendations, fmt.Sprintf(format, a...))
}

func (j *judgement) value(name string, v float64) { j.c.Values[name] = v }

func (j *judgement) done(finding string) Check {
	j.c.Finding = finding
	return j.c
}
