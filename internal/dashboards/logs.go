package dashboards

// logs is what the application's logs say on one workstation: records and errors, operation
// latency against its objectives, the model cache, and the log pipeline of the exporter itself.
func logs() Dashboard {
	ops := m("candy_cadence_operation_duration_seconds_bucket")
	return Dashboard{
		UID:         LogsUID,
		Title:       "Candy-Cadence / Logs and operations",
		File:        "logs-and-operations.json",
		Description: "What the application's logs of one workstation say: records by level, errors by type, operation latency against the 2 s mean and 5 s objectives, cache hits, models loaded, performance alerts, and the exporter's log pipeline.",
		Tags:        []string{Tag, "logs"},
		Rows: []Row{
			{Title: "Records and errors", Panels: []Panel{
				{
					Title:       "Records by level",
					Description: "Log records per second by level (candy_cadence_log_messages_total). DEBUG records appear only while the application logs at DEBUG.",
					Kind:        TimeSeries, Unit: "cps", Width: 8, Stack: true,
					Queries: []Query{{Expr: `sum by (level) (rate(` + m("candy_cadence_log_messages_total") + `[$__rate_interval]))`, Legend: "{{level}}"}},
					Fill:    Running,
				},
				{
					Title:       "Errors by type",
					Description: "ERROR and CRITICAL records per interval by exception class (candy_cadence_errors_total); unknown: the record names no type; other: past the exporter's limit of distinct unlisted types.",
					Kind:        TimeSeries, Unit: "short", Width: 8, Bars: true, Stack: true,
					Queries: []Query{{Expr: `sum by (type) (increase(` + m("candy_cadence_errors_total") + `[$__rate_interval])) > 0`, Legend: "{{type}}"}},
					Fill:    Errors,
				},
				{
					Title:       "Critical records",
					Description: "CRITICAL records per interval: the global exception hook logs every unhandled exception at CRITICAL.",
					Kind:        TimeSeries, Unit: "short", Width: 8, Bars: true,
					Queries: []Query{{Expr: `sum(increase(` + m("candy_cadence_log_messages_total", `level="critical"`) + `[$__rate_interval])) > 0`, Legend: "critical"}},
					Fill:    Errors,
				},
				{
					Title:       "Critical errors in 30 days",
					Description: "Errors of the critical types (memory, database, SystemError) in the last 30 days (instance:candy_cadence_slo_reliability_critical_errors:increase30d). The reliability objective allows fewer than candy_cadence:threshold:critical_errors_per_30d.",
					Kind:        Stat, Unit: "short", Width: 6,
					Queries: []Query{{Expr: `round(` + m("instance:candy_cadence_slo_reliability_critical_errors:increase30d") + `)`, Instant: true}},
					Steps:   []Step{{Color: "green"}, {Value: f(1), Color: "red"}},
					Fill:    Errors,
				},
				{
					Title:       "Error rate",
					Description: "Errors over operations attempted over 5 minutes (instance:candy_cadence_errors:ratio_rate5m). The dashed lines are the KPI target and the alert threshold of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "percentunit", Width: 12,
					Queries: []Query{
						{Expr: m("instance:candy_cadence_errors:ratio_rate5m"), Legend: "error rate"},
						threshold("candy_cadence:threshold:kpi_error_ratio", "KPI target"),
						threshold("candy_cadence:threshold:alert_error_ratio", "alert threshold"),
					},
					Fill: Errors,
				},
				{
					Title:       "Performance alerts",
					Description: "PERFORMANCE ALERT records the application logged, per interval (candy_cadence_performance_alerts_total).",
					Kind:        TimeSeries, Unit: "short", Width: 6, Bars: true,
					Queries: []Query{{Expr: `sum(increase(` + m("candy_cadence_performance_alerts_total") + `[$__rate_interval]))`, Legend: "performance alerts"}},
					Fill:    Errors,
				},
			}},
			{Title: "Operations", Panels: []Panel{
				{
					Title:       "Operation latency",
					Description: "Distribution of the durations the application logs (searches, model loads, window set-up), all operations together, per interval (candy_cadence_operation_duration_seconds).",
					Kind:        Heatmap, Unit: "s", Width: 12, Height: 9,
					Queries: []Query{{Expr: `sum by (le) (increase(` + ops + `[$__rate_interval]))`, Legend: "{{le}}"}},
					Fill:    Running,
				},
				{
					Title:       "95th percentile by operation",
					Description: "95% of each operation's runs finished within this time (estimated from the histogram). The dashed line is the response-time alert threshold of rules/thresholds.yml, 5 s, which is also the latency objective's bound.",
					Kind:        TimeSeries, Unit: "s", Width: 12, Height: 9,
					Queries: []Query{
						{Expr: `histogram_quantile(0.95, sum by (operation, le) (rate(` + ops + `[$__rate_interval])))`, Legend: "{{operation}}"},
						threshold("candy_cadence:threshold:alert_response_time_seconds", "5 s objective"),
					},
					Fill: Running,
				},
				{
					Title:       "Mean by operation",
					Description: "Mean duration of each operation. The dashed line is the KPI target for the mean response time of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "s", Width: 12,
					Queries: []Query{
						{Expr: `sum by (operation) (rate(` + m("candy_cadence_operation_duration_seconds_sum") + `[$__rate_interval])) / (sum by (operation) (rate(` + m("candy_cadence_operation_duration_seconds_count") + `[$__rate_interval])) > 0)`, Legend: "{{operation}}"},
						threshold("candy_cadence:threshold:kpi_response_time_seconds", "KPI target"),
					},
					Fill: Running,
				},
				{
					Title:       "Operations within 5 s",
					Description: "Share of the operations of the last 5 minutes that finished within 5 s (1 - instance:candy_cadence_slo_latency_errors:ratio_rate5m). The dashed line is the latency objective of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "percentunit", Width: 12, Max: f(1),
					Queries: []Query{
						{Expr: `1 - ` + m("instance:candy_cadence_slo_latency_errors:ratio_rate5m"), Legend: "within 5 s"},
						threshold("candy_cadence:threshold:slo_latency_objective_ratio", "objective"),
					},
					Fill: Running,
				},
			}},
			{Title: "Cache and models", Panels: []Panel{
				{
					Title:       "Cache hit ratio by tier",
					Description: "Share of the model cache lookups served by each tier (memory, disk) per interval; the overall hourly ratio is instance:candy_cadence_cache_hit:ratio_rate1h. The application logs lookups at DEBUG only. The dashed line is the maintenance threshold of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "percentunit", Width: 12, Min: f(0), Max: f(1),
					Queries: []Query{
						{Expr: `sum by (instance, tier) (rate(` + m("candy_cadence_cache_requests_total", `tier=~"memory|disk"`, `result="hit"`) + `[$__rate_interval])) / ignoring (tier) group_left () (sum by (instance) (rate(` + m("candy_cadence_cache_requests_total", `tier!="model"`) + `[$__rate_interval])) > 0)`, Legend: "{{tier}}"},
						{Expr: m("instance:candy_cadence_cache_hit:ratio_rate1h"), Legend: "both tiers, 1 h"},
						threshold("candy_cadence:threshold:cache_hit_ratio", "threshold"),
					},
					Fill: Running,
				},
				{
					Title:       "Models loaded",
					Description: "Models the application loaded per interval, parsed from their file or served from the cache (candy_cadence_models_loaded_total).",
					Kind:        TimeSeries, Unit: "short", Width: 12, Bars: true, Stack: true,
					Queries: []Query{{Expr: `sum by (source) (increase(` + m("candy_cadence_models_loaded_total") + `[$__rate_interval]))`, Legend: "{{source}}"}},
					Fill:    Running,
				},
			}},
			{Title: "Log pipeline (the exporter)", Panels: []Panel{
				{
					Title:       "Files followed",
					Description: "Log files the exporter follows now (candy_cadence_log_files). The application starts a new file at every change of level and keeps the 5 newest.",
					Kind:        Stat, Unit: "none", Width: 4,
					Queries: []Query{{Expr: m("candy_cadence_log_files"), Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Bytes read",
					Description: "Bytes of log the exporter read per second (candy_cadence_log_read_bytes_total).",
					Kind:        TimeSeries, Unit: "Bps", Width: 5,
					Queries: []Query{{Expr: `rate(` + m("candy_cadence_log_read_bytes_total") + `[$__rate_interval])`, Legend: "read"}},
					Fill:    Running,
				},
				{
					Title:       "Rotations",
					Description: "Log files that began per interval (candy_cadence_log_rotations_total): one per change of level.",
					Kind:        TimeSeries, Unit: "short", Width: 5, Bars: true,
					Queries: []Query{{Expr: `increase(` + m("candy_cadence_log_rotations_total") + `[$__rate_interval])`, Legend: "rotations"}},
					Fill:    Running,
				},
				{
					Title:       "Malformed lines",
					Description: "Lines the exporter could not parse per interval: not a record, over 1 MiB, or cut off by their file's end or replacement (candy_cadence_log_lines_malformed_total).",
					Kind:        TimeSeries, Unit: "short", Width: 5, Bars: true,
					Queries: []Query{{Expr: `increase(` + m("candy_cadence_log_lines_malformed_total") + `[$__rate_interval])`, Legend: "malformed"}},
					Fill:    Running,
				},
				{
					Title:       "Truncations",
					Description: "Files whose content was replaced in place per interval (candy_cadence_log_truncations_total): the application reopening a name with mode 'w' within one second, or copytruncate.",
					Kind:        TimeSeries, Unit: "short", Width: 5, Bars: true,
					Queries: []Query{{Expr: `increase(` + m("candy_cadence_log_truncations_total") + `[$__rate_interval])`, Legend: "truncations"}},
					Fill:    Running,
				},
			}},
		},
	}
}
