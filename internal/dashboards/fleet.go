package dashboards

import (
	"fmt"
	"sort"
	"strings"
)

// The dashboards' uids: stable, so that links and bookmarks survive a regeneration.
const (
	FleetUID       = "candy-cadence-fleet"
	WorkstationUID = "candy-cadence-workstation"
	DatabaseUID    = "candy-cadence-database"
	LogsUID        = "candy-cadence-logs"
)

// Tag is carried by every dashboard; the dashboards' link bar lists the dashboards with it.
const Tag = "candy-cadence"

// fleet is the morning view: how many workstations run, the SLOs and their budgets, crashes, the
// worst workstations (each a link to its workstation dashboard) and the firing alerts.
func fleet(runbooks map[string]string) Dashboard {
	return Dashboard{
		UID:           FleetUID,
		Title:         "Candy-Cadence / Fleet overview",
		File:          "fleet-overview.json",
		Description:   "Every workstation at a glance: the application running, the SLOs and their 30-day error budgets, crashes, the worst workstations and the firing alerts.",
		Tags:          []string{Tag, "fleet"},
		MultiInstance: true,
		Rows: []Row{
			{Title: "Now", Panels: []Panel{
				{
					Title:       "Workstations seen",
					Description: "Workstations whose exporter Prometheus scrapes right now (up == 1). Desktops switched off at night or at weekends are not counted, and that is normal.",
					Kind:        Stat, Unit: "none", Width: 4, NoValue: "0",
					Queries: []Query{{Expr: `count(` + m("up") + ` == 1)`, Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Application running",
					Description: "Workstations on which the application runs now (candy_cadence_up == 1). A user closing the application at the end of the day is not an outage.",
					Kind:        Stat, Unit: "none", Width: 4, NoValue: "0",
					Queries: []Query{{Expr: `count(` + m("candy_cadence_up") + ` == 1)`, Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Crashed, not restarted",
					Description: "Workstations whose application crashed (an exit without its close record, candy_cadence_app_exits_total{reason=\"crashed\"}) and has not run since, counted for at most an hour: the recording rule instance:candy_cadence_app_down_after_crash:bool.",
					Kind:        Stat, Unit: "none", Width: 4, NoValue: "0",
					Queries: []Query{{Expr: `count(` + m("instance:candy_cadence_app_down_after_crash:bool") + ` == 1)`, Instant: true}},
					Steps:   []Step{{Color: "green"}, {Value: f(1), Color: "red"}},
					Fill:    Crash,
				},
				{
					Title:       "Exporters down",
					Description: "Scrape targets that did not answer the last scrape (up == 0): switched off, or the exporter stopped. Desktops off at night are normal; the alerts say which matter: CandyCadenceExporterNotSeen when a workstation has not been scraped for 3 days, CandyCadenceFleetWorkstationsDown when the share of the fleet that cannot be scraped jumps during working hours.",
					Kind:        Stat, Unit: "none", Width: 4, NoValue: "0",
					Queries: []Query{{Expr: `count(` + m("up") + ` == 0)`, Instant: true}},
					Fill:    ExporterDown,
				},
				{
					Title:       "Firing alerts",
					Description: "Alerts of the shipped rules firing now, all severities (ALERTS).",
					Kind:        Stat, Unit: "none", Width: 4, NoValue: "0",
					Queries: []Query{{Expr: `count(` + m("ALERTS", `alertstate="firing"`) + `)`, Instant: true}},
					Steps:   []Step{{Color: "green"}, {Value: f(1), Color: "orange"}},
					Fill:    AlertFiring,
				},
				{
					Title:       "Collectors failing",
					Description: "Collectors that failed in the last scrape, over all workstations (candy_cadence_exporter_collector_success == 0). The exporter's log says why.",
					Kind:        Stat, Unit: "none", Width: 4, NoValue: "0",
					Queries:  []Query{{Expr: `count(` + m("candy_cadence_exporter_collector_success") + ` == 0)`, Instant: true}},
					Unfilled: "only when a collector fails, which is a panic or an overrun of the scrape deadline: a broken source (the live check's database that is not one) shows as its own up metric while the collector succeeds",
				},
			}},
			{Title: "Service level objectives (30 days)", Panels: []Panel{
				{
					Title: "Availability, fleet",
					Description: "Share of the fleet's counted time in the last 30 days in which the application ran and its library database answered, all selected workstations' minutes summed before dividing (1 - fleet:candy_cadence_slo_availability_errors:ratio_30d; one value per job and site). " +
						"Objective: candy_cadence:threshold:slo_availability_objective_ratio. Fleet series follow the job and site selection, not the instance one.",
					Kind: Stat, Unit: "percentunit", Width: 4,
					Queries: []Query{{Expr: `1 - ` + fm("fleet:candy_cadence_slo_availability_errors:ratio_30d"), Legend: "{{job}} {{site}}", Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Availability error budget left, fleet",
					Description: "Share of the fleet's 30-day availability error budget not yet spent: 1 untouched, 0 spent, below 0 overspent (1 - fleet:candy_cadence_slo_availability_errors:ratio_30d / (1 - candy_cadence:threshold:slo_availability_objective_ratio)).",
					Kind:        Gauge, Unit: "percentunit", Width: 4, Min: f(-1), Max: f(1),
					Queries: []Query{{Expr: `1 - ` + fm("fleet:candy_cadence_slo_availability_errors:ratio_30d") + ` / scalar(1 - candy_cadence:threshold:slo_availability_objective_ratio)`, Legend: "{{job}} {{site}}", Instant: true}},
					Steps:   []Step{{Color: "red"}, {Value: f(0), Color: "orange"}, {Value: f(0.5), Color: "green"}},
					Fill:    Running,
				},
				{
					Title:       "Operations within 5 s, fleet",
					Description: "Share of the fleet's interactive operations (search, cache load, database, window set-up) of the last 30 days that completed within 5 s (1 - fleet:candy_cadence_slo_latency_errors:ratio_rate30d). Objective: candy_cadence:threshold:slo_latency_objective_ratio.",
					Kind:        Stat, Unit: "percentunit", Width: 4,
					Queries: []Query{{Expr: `1 - ` + fm("fleet:candy_cadence_slo_latency_errors:ratio_rate30d"), Legend: "{{job}} {{site}}", Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Latency error budget left, fleet",
					Description: "Share of the fleet's 30-day latency error budget not yet spent (1 - fleet:candy_cadence_slo_latency_errors:ratio_rate30d / (1 - candy_cadence:threshold:slo_latency_objective_ratio)).",
					Kind:        Gauge, Unit: "percentunit", Width: 4, Min: f(-1), Max: f(1),
					Queries: []Query{{Expr: `1 - ` + fm("fleet:candy_cadence_slo_latency_errors:ratio_rate30d") + ` / scalar(1 - candy_cadence:threshold:slo_latency_objective_ratio)`, Legend: "{{job}} {{site}}", Instant: true}},
					Steps:   []Step{{Color: "red"}, {Value: f(0), Color: "orange"}, {Value: f(0.5), Color: "green"}},
					Fill:    Running,
				},
				{
					Title:       "Error rate, fleet",
					Description: "Errors over operations attempted by the fleet in the last 30 days (fleet:candy_cadence_errors:ratio_rate30d), and over the last hour on the worst selected workstation (instance:candy_cadence_errors:ratio_rate1h). Objective: candy_cadence:threshold:slo_error_rate_objective_ratio of attempts succeed.",
					Kind:        Stat, Unit: "percentunit", Width: 4,
					Queries: []Query{
						{Expr: fm("fleet:candy_cadence_errors:ratio_rate30d"), Legend: "30 d {{job}} {{site}}", Instant: true},
						{Expr: `max(` + m("instance:candy_cadence_errors:ratio_rate1h") + `)`, Legend: "1 h, worst workstation", Instant: true},
					},
					Fill: Errors,
				},
				{
					Title:       "Error-rate error budget left, fleet",
					Description: "Share of the fleet's 30-day error-rate budget not yet spent (1 - fleet:candy_cadence_errors:ratio_rate30d / (1 - candy_cadence:threshold:slo_error_rate_objective_ratio)).",
					Kind:        Gauge, Unit: "percentunit", Width: 4, Min: f(-1), Max: f(1),
					Queries: []Query{{Expr: `1 - ` + fm("fleet:candy_cadence_errors:ratio_rate30d") + ` / scalar(1 - candy_cadence:threshold:slo_error_rate_objective_ratio)`, Legend: "{{job}} {{site}}", Instant: true}},
					Steps:   []Step{{Color: "red"}, {Value: f(0), Color: "orange"}, {Value: f(0.5), Color: "green"}},
					Fill:    Errors,
				},
				{
					Title: "Availability burn rate",
					Description: "How fast the fleet spends its availability error budget over the last hour and 6 hours, as CandyCadenceFleetAvailabilityErrorBudgetBurn computes it: 1 spends it in exactly 30 days; the alert pages at 14.4 (1 h) and 6 (6 h) with its short windows. " +
						"The worst selected workstation's 1-hour burn rate is the second series (its own alert is CandyCadenceAvailabilityErrorBudgetBurn).",
					Kind: TimeSeries, Unit: "none", Width: 8,
					Queries: []Query{
						{Expr: fm("fleet:candy_cadence_slo_availability_errors:ratio_1h") + ` / scalar(1 - candy_cadence:threshold:slo_availability_objective_ratio)`, Legend: "fleet 1h {{site}}"},
						{Expr: fm("fleet:candy_cadence_slo_availability_errors:ratio_6h") + ` / scalar(1 - candy_cadence:threshold:slo_availability_objective_ratio)`, Legend: "fleet 6h {{site}}"},
						{Expr: `max(` + m("instance:candy_cadence_slo_availability_errors:ratio_1h") + `) / scalar(1 - candy_cadence:threshold:slo_availability_objective_ratio)`, Legend: "worst workstation 1h"},
					},
					Fill: Running,
				},
				{
					Title:       "Latency burn rate",
					Description: "How fast the fleet spends its latency error budget (interactive operations slower than 5 s) over the last hour and 6 hours, as CandyCadenceFleetLatencyErrorBudgetBurn computes it: 1 spends it in exactly 30 days. The worst selected workstation's 1-hour burn rate is the second series.",
					Kind:        TimeSeries, Unit: "none", Width: 8,
					Queries: []Query{
						{Expr: fm("fleet:candy_cadence_slo_latency_errors:ratio_rate1h") + ` / scalar(1 - candy_cadence:threshold:slo_latency_objective_ratio)`, Legend: "fleet 1h {{site}}"},
						{Expr: fm("fleet:candy_cadence_slo_latency_errors:ratio_rate6h") + ` / scalar(1 - candy_cadence:threshold:slo_latency_objective_ratio)`, Legend: "fleet 6h {{site}}"},
						{Expr: `max(` + m("instance:candy_cadence_slo_latency_errors:ratio_rate1h") + `) / scalar(1 - candy_cadence:threshold:slo_latency_objective_ratio)`, Legend: "worst workstation 1h"},
					},
					Fill: Running,
				},
				{
					Title:       "Error-rate burn rate",
					Description: "How fast the fleet spends its error-rate budget over the last hour and 6 hours, as CandyCadenceFleetErrorRateBudgetBurn computes it: 1 spends it in exactly 30 days. The worst selected workstation's 1-hour burn rate is the second series.",
					Kind:        TimeSeries, Unit: "none", Width: 8,
					Queries: []Query{
						{Expr: fm("fleet:candy_cadence_errors:ratio_rate1h") + ` / scalar(1 - candy_cadence:threshold:slo_error_rate_objective_ratio)`, Legend: "fleet 1h {{site}}"},
						{Expr: fm("fleet:candy_cadence_errors:ratio_rate6h") + ` / scalar(1 - candy_cadence:threshold:slo_error_rate_objective_ratio)`, Legend: "fleet 6h {{site}}"},
						{Expr: `max(` + m("instance:candy_cadence_errors:ratio_rate1h") + `) / scalar(1 - candy_cadence:threshold:slo_error_rate_objective_ratio)`, Legend: "worst workstation 1h"},
					},
					Fill: Errors,
				},
				{
					Title: "Fleet error rate",
					Description: "Errors over operations attempted (errors plus operations that logged a duration) by the fleet over 5 minutes (fleet:candy_cadence_errors:ratio_rate5m), the workstations' counts summed before dividing. " +
						"The dashed lines are the KPI target and the alert threshold of rules/thresholds.yml.",
					Kind: TimeSeries, Unit: "percentunit", Width: 12,
					Queries: []Query{
						{Expr: fm("fleet:candy_cadence_errors:ratio_rate5m"), Legend: "error rate {{site}}"},
						threshold("candy_cadence:threshold:kpi_error_ratio", "KPI target"),
						threshold("candy_cadence:threshold:alert_error_ratio", "alert threshold"),
					},
					Fill: Errors,
				},
				{
					Title:       "Critical errors in 30 days, fleet",
					Description: "Errors of the critical types (memory, database, SystemError) in the last 30 days, summed over the selected workstations (instance:candy_cadence_slo_reliability_critical_errors:increase30d). The reliability objective allows fewer than candy_cadence:threshold:critical_errors_per_30d per workstation.",
					Kind:        Stat, Unit: "short", Width: 4,
					Queries: []Query{{Expr: `round(sum(` + m("instance:candy_cadence_slo_reliability_critical_errors:increase30d") + `))`, Instant: true}},
					Steps:   []Step{{Color: "green"}, {Value: f(1), Color: "red"}},
					Fill:    Errors,
				},
				{
					Title:       "Availability budget left by workstation",
					Description: "The ten selected workstations with the least of their own 30-day availability error budget left (instance:candy_cadence_slo_availability_error_budget:remaining_ratio30d): one workstation can spend its budget while the fleet's is untouched.",
					Kind:        Table, Unit: "percentunit", Width: 8, InstanceLink: true, ValueColumn: "budget left",
					Queries: []Query{{Expr: `bottomk(10, ` + m("instance:candy_cadence_slo_availability_error_budget:remaining_ratio30d") + `)`, Instant: true}},
					Fill:    Running,
				},
			}},
			{Title: "Crashes and closes", Panels: []Panel{
				{
					Title:       "Crashes",
					Description: "Application exits classified as crashes in the dashboard's time range, all selected workstations (candy_cadence_app_exits_total{reason=\"crashed\"}): no \"Application closing/closed\" record before the exit, or on Windows an unclean exit code.",
					Kind:        Stat, Unit: "short", Width: 3, NoValue: "0",
					Queries: []Query{{Expr: `round(sum(increase(` + m("candy_cadence_app_exits_total", `reason="crashed"`) + `[$__range]))) > 0`, Instant: true}},
					Steps:   []Step{{Color: "green"}, {Value: f(1), Color: "red"}},
					Fill:    Crash,
				},
				{
					Title:       "Clean closes",
					Description: "Application exits after the application logged \"Application closing\" or \"Application closed\" in the dashboard's time range (candy_cadence_app_exits_total{reason=\"closed\"}): a user closing it, not an outage. Shows 0 when there was none.",
					Kind:        Stat, Unit: "short", Width: 3, NoValue: "0",
					Queries: []Query{{Expr: `round(sum(increase(` + m("candy_cadence_app_exits_total", `reason="closed"`) + `[$__range]))) > 0`, Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Application exits",
					Description: "Application processes that exited, per interval, by how they ended (candy_cadence_app_exits_total): closed (the application logged its close), crashed (it did not), unknown (the exporter does not follow the logs and the exit code does not say).",
					Kind:        TimeSeries, Unit: "short", Width: 6, Bars: true, Stack: true,
					Queries: []Query{{Expr: `sum by (reason) (increase(` + m("candy_cadence_app_exits_total") + `[$__rate_interval]))`, Legend: "{{reason}}"}},
					Fill:    Crash,
				},
				{
					Title:       "Crashed workstations",
					Description: "Workstations down after a crash over time (instance:candy_cadence_app_down_after_crash:bool): not running, and a crashed exit came after the last time the application ran (counted for at most an hour).",
					Kind:        TimeSeries, Unit: "none", Width: 6, Bars: true,
					Queries: []Query{{Expr: `count(` + m("instance:candy_cadence_app_down_after_crash:bool") + ` == 1)`, Legend: "crashed"}},
					Fill:    Crash,
				},
				{
					Title:       "Application starts",
					Description: "Application processes that started, per interval (candy_cadence_app_starts_total).",
					Kind:        TimeSeries, Unit: "short", Width: 6, Bars: true,
					Queries: []Query{{Expr: `sum(increase(` + m("candy_cadence_app_starts_total") + `[$__rate_interval]))`, Legend: "starts"}},
					Fill:    Running,
				},
			}},
			{Title: "Worst workstations (click one to open it)", Panels: []Panel{
				{
					Title:       "Top workstations by errors",
					Description: "Errors logged in the dashboard's time range, the ten workstations with most.",
					Kind:        Table, Unit: "short", Width: 6, InstanceLink: true, ValueColumn: "errors",
					Queries: []Query{{Expr: `topk(10, sum by (instance) (increase(` + m("candy_cadence_errors_total") + `[$__range]))) > 0`, Instant: true}},
					Fill:    Errors,
				},
				{
					Title:       "Top workstations by crashes",
					Description: "Application exits classified as crashes (candy_cadence_app_exits_total{reason=\"crashed\"}) in the dashboard's time range, the ten workstations with most. Clean closes are not counted.",
					Kind:        Table, Unit: "short", Width: 6, InstanceLink: true, ValueColumn: "crashes",
					Queries: []Query{{Expr: `topk(10, round(sum by (instance) (increase(` + m("candy_cadence_app_exits_total", `reason="crashed"`) + `[$__range])))) > 0`, Instant: true}},
					Fill:    Crash,
				},
				{
					Title:       "Top workstations by mean latency",
					Description: "Mean duration of the logged operations over the last hour (instance:candy_cadence_operation_duration_seconds:mean1h), the ten slowest workstations.",
					Kind:        Table, Unit: "s", Width: 6, InstanceLink: true, ValueColumn: "mean latency",
					Queries: []Query{{Expr: `topk(10, ` + m("instance:candy_cadence_operation_duration_seconds:mean1h") + `)`, Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Top workstations by disk used",
					Description: "Used share of the fullest filesystem that holds the application's data (instance_mountpoint:candy_cadence_host_filesystem_utilisation:ratio), the ten fullest workstations.",
					Kind:        Table, Unit: "percentunit", Width: 6, InstanceLink: true, ValueColumn: "disk used",
					Queries: []Query{{Expr: `topk(10, max by (instance) (` + m("instance_mountpoint:candy_cadence_host_filesystem_utilisation:ratio") + `))`, Instant: true}},
					Fill:    Running,
				},
			}},
			{Title: "Alerts", Panels: []Panel{
				{
					Title:       "Firing alerts",
					Description: "Alerts firing now, one row per alert and workstation. Click an alert name to open its runbook section.",
					Kind:        Table, Unit: "none", Width: 24, Height: 8, RunbookLink: true, HideColumns: []string{"Value", "alertstate"},
					Queries: []Query{{Expr: withRunbooks(m("ALERTS", `alertstate="firing"`), runbooks), Instant: true}},
					Fill:    AlertFiring,
				},
			}},
		},
	}
}

// runbookLabel is the label the firing-alerts query adds with each alert's runbook address.
const runbookLabel = "runbook_url"

// withRunbooks wraps an ALERTS selector so that every alert of the shipped rules carries its
// runbook_url annotation as a label, which the table's link opens. PromQL cannot lower-case the
// alert name into the anchor, and ALERTS carries no annotations, so the addresses are read from
// rules/alerts.yml when the dashboards are generated. An alert the rules do not know keeps its
// row without the link.
func withRunbooks(expr string, runbooks map[string]string) string {
	names := make([]string, 0, len(runbooks))
	for n := range runbooks {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(strings.Repeat("label_replace(", len(names)))
	b.WriteString(expr)
	for _, n := range names {
		// label_replace anchors its regex: only this alert name matches.
		fmt.Fprintf(&b, ", %q, %q, \"alertname\", %q)", runbookLabel, runbooks[n], n)
	}
	return b.String()
}
