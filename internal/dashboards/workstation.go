package dashboards

// workstation is one workstation: the application's process and the host it runs on.
func workstation() Dashboard {
	return Dashboard{
		UID:         WorkstationUID,
		Title:       "Candy-Cadence / Workstation",
		File:        "workstation.json",
		Description: "One workstation: whether the application runs, its starts and exits, its CPU, memory, threads and handles, and the host's CPU, memory, disk and network.",
		Tags:        []string{Tag, "workstation"},
		Rows: []Row{
			{Title: "Application", Panels: []Panel{
				{
					Title:       "Application",
					Description: "Whether the application runs now (candy_cadence_up).",
					Kind:        Stat, Unit: "none", Width: 4,
					Queries:  []Query{{Expr: m("candy_cadence_up"), Instant: true}},
					Mappings: map[string]string{"0": "Not running", "1": "Running"},
					Steps:    []Step{{Color: "orange"}, {Value: f(1), Color: "green"}},
					Fill:     Running,
				},
				{
					Title:       "Uptime",
					Description: "Time since the oldest running process of the application started. Empty while it does not run.",
					Kind:        Stat, Unit: "s", Width: 4,
					Queries: []Query{{Expr: `time() - ` + m("candy_cadence_process_start_time_seconds"), Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Processes",
					Description: "Running processes of the application (candy_cadence_processes); more than one means it was started twice.",
					Kind:        Stat, Unit: "none", Width: 4,
					Queries: []Query{{Expr: m("candy_cadence_processes"), Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Exporter",
					Description: "Whether Prometheus reached the workstation's exporter in its last scrape (up). A desktop switched off shows Down: that is not an outage.",
					Kind:        Stat, Unit: "none", Width: 4,
					Queries:  []Query{{Expr: m("up"), Instant: true}},
					Mappings: map[string]string{"0": "Down", "1": "Up"},
					Steps:    []Step{{Color: "red"}, {Value: f(1), Color: "green"}},
					Fill:     Running,
				},
				{
					Title:       "Collectors",
					Description: "Whether each collector of the exporter finished its last scrape in time and without error (candy_cadence_exporter_collector_success). A failing collector is logged by the exporter.",
					Kind:        Stat, Unit: "none", Width: 8,
					Queries:  []Query{{Expr: m("candy_cadence_exporter_collector_success"), Legend: "{{collector}}", Instant: true}},
					Mappings: map[string]string{"0": "Failing", "1": "OK"},
					Steps:    []Step{{Color: "red"}, {Value: f(1), Color: "green"}},
					Fill:     Running,
				},
				{
					Title:       "Starts and exits",
					Description: "Application processes seen starting and exiting per interval; exits by how they ended (candy_cadence_app_exits_total): closed (the application logged its close), crashed (it did not), unknown (the exporter does not follow the logs and the exit code does not say).",
					Kind:        TimeSeries, Unit: "short", Width: 8, Bars: true,
					Queries: []Query{
						{Expr: `sum(increase(` + m("candy_cadence_app_starts_total") + `[$__rate_interval]))`, Legend: "starts"},
						{Expr: `sum by (reason) (increase(` + m("candy_cadence_app_exits_total") + `[$__rate_interval]))`, Legend: "exits {{reason}}"},
					},
					Fill: Crash,
				},
				{
					Title:       "Application CPU",
					Description: "CPU time of the application's processes per second, by mode: 1 is one core fully busy.",
					Kind:        TimeSeries, Unit: "percentunit", Width: 8, Stack: true,
					Queries: []Query{{Expr: `sum by (mode) (rate(` + m("candy_cadence_process_cpu_seconds_total") + `[$__rate_interval]))`, Legend: "{{mode}}"}},
					Fill:    Running,
				},
				{
					Title:       "Application memory",
					Description: "Resident memory (Windows: working set) and virtual memory (Windows: private bytes) of the application. The dashed line is the maintenance threshold of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "bytes", Width: 8,
					Queries: []Query{
						{Expr: m("candy_cadence_process_resident_memory_bytes"), Legend: "resident"},
						{Expr: m("candy_cadence_process_virtual_memory_bytes"), Legend: "virtual"},
						threshold("candy_cadence:threshold:app_memory_bytes", "threshold"),
					},
					Fill: Running,
				},
				{
					Title:       "Threads and handles",
					Description: "Threads of the application and its open file descriptors (Windows: handles). A steady climb is a leak.",
					Kind:        TimeSeries, Unit: "short", Width: 12,
					Queries: []Query{
						{Expr: m("candy_cadence_process_threads"), Legend: "threads"},
						{Expr: m("candy_cadence_process_open_fds"), Legend: "handles / fds"},
					},
					Fill: Running,
				},
				{
					Title:       "Application disk I/O",
					Description: "Bytes the application reads from and writes to storage per second.",
					Kind:        TimeSeries, Unit: "Bps", Width: 12,
					Queries: []Query{
						{Expr: `sum(rate(` + m("candy_cadence_process_read_bytes_total") + `[$__rate_interval]))`, Legend: "read"},
						{Expr: `sum(rate(` + m("candy_cadence_process_written_bytes_total") + `[$__rate_interval]))`, Legend: "written"},
					},
					Fill: Running,
				},
			}},
			{Title: "Host", Panels: []Panel{
				{
					Title:       "Host CPU utilisation",
					Description: "Share of the host's CPU time not idle over 5 minutes (instance:candy_cadence_host_cpu_utilisation:rate5m). The dashed line is the alert threshold of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "percentunit", Width: 8, Min: f(0), Max: f(1),
					Queries: []Query{
						{Expr: m("instance:candy_cadence_host_cpu_utilisation:rate5m"), Legend: "utilisation"},
						threshold("candy_cadence:threshold:alert_cpu_utilisation_ratio", "alert threshold"),
					},
					Fill: Running,
				},
				{
					Title:       "Host load",
					Description: "Load average over 1, 5 and 15 minutes, with the number of logical CPUs for scale. Windows has no load average: only the CPUs show there.",
					Kind:        TimeSeries, Unit: "short", Width: 8,
					Queries: []Query{
						{Expr: m("candy_cadence_host_load1"), Legend: "load 1m"},
						{Expr: m("candy_cadence_host_load5"), Legend: "load 5m"},
						{Expr: m("candy_cadence_host_load15"), Legend: "load 15m"},
						{Expr: m("candy_cadence_host_cpus"), Legend: "CPUs"},
					},
					Fill: Running,
				},
				{
					Title:       "Host memory utilisation",
					Description: "Share of the host's memory not available to new applications (instance:candy_cadence_host_memory_utilisation:ratio). The dashed lines are the KPI target and the alert threshold of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "percentunit", Width: 8, Min: f(0), Max: f(1),
					Queries: []Query{
						{Expr: m("instance:candy_cadence_host_memory_utilisation:ratio"), Legend: "utilisation"},
						threshold("candy_cadence:threshold:kpi_memory_utilisation_ratio", "KPI target"),
						threshold("candy_cadence:threshold:alert_memory_utilisation_ratio", "alert threshold"),
					},
					Fill: Running,
				},
				{
					Title:       "Data directory disk used",
					Description: "Used share of each filesystem holding the application's data, as df computes it (instance_mountpoint:candy_cadence_host_filesystem_utilisation:ratio). The dashed lines are the KPI target and the alert threshold of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "percentunit", Width: 8, Min: f(0), Max: f(1),
					Queries: []Query{
						{Expr: m("instance_mountpoint:candy_cadence_host_filesystem_utilisation:ratio"), Legend: "{{mountpoint}}"},
						threshold("candy_cadence:threshold:kpi_filesystem_utilisation_ratio", "KPI target"),
						threshold("candy_cadence:threshold:alert_filesystem_utilisation_ratio", "alert threshold"),
					},
					Fill: Running,
				},
				{
					Title:       "Data directory disk free",
					Description: "Space available to the user on each filesystem holding the application's data, and the forecast for 24 hours ahead at the rate of the last 6 hours (as CandyCadenceFilesystemFillingUp computes it).",
					Kind:        TimeSeries, Unit: "bytes", Width: 8,
					Queries: []Query{
						{Expr: m("candy_cadence_host_filesystem_avail_bytes"), Legend: "{{mountpoint}} available"},
						{Expr: `predict_linear(` + m("candy_cadence_host_filesystem_avail_bytes") + `[6h], 24 * 3600)`, Legend: "{{mountpoint}} in 24 h"},
					},
					Fill: Running,
				},
				{
					Title:       "Data directory time to full",
					Description: "Time until each filesystem holding the application's data is full, at the rate its free space fell over the last 6 hours. Empty while it is not filling.",
					Kind:        Stat, Unit: "s", Width: 8, NoValue: "not filling",
					Queries:  []Query{{Expr: `(` + m("candy_cadence_host_filesystem_avail_bytes") + ` / -deriv(` + m("candy_cadence_host_filesystem_avail_bytes") + `[6h])) > 0`, Legend: "{{mountpoint}}", Instant: true}},
					Unfilled: "only while a disk fills: the live check does not fill the test machine's disk",
				},
				{
					Title:       "Network traffic",
					Description: "Bytes received (up) and sent (down) per second, per network device the exporter reports.",
					Kind:        TimeSeries, Unit: "Bps", Width: 12,
					Queries: []Query{
						{Expr: `rate(` + m("candy_cadence_host_network_receive_bytes_total") + `[$__rate_interval])`, Legend: "{{device}} received"},
						{Expr: `-rate(` + m("candy_cadence_host_network_transmit_bytes_total") + `[$__rate_interval])`, Legend: "{{device}} sent"},
					},
					Fill: Running,
				},
				{
					Title:       "Network errors",
					Description: "Receive and transmit errors per second, per network device.",
					Kind:        TimeSeries, Unit: "cps", Width: 12,
					Queries: []Query{
						{Expr: `rate(` + m("candy_cadence_host_network_receive_errors_total") + `[$__rate_interval])`, Legend: "{{device}} receive"},
						{Expr: `rate(` + m("candy_cadence_host_network_transmit_errors_total") + `[$__rate_interval])`, Legend: "{{device}} transmit"},
					},
					Fill: Running,
				},
			}},
		},
	}
}
