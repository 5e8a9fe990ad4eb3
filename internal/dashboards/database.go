package dashboards

// database is the application's SQLite databases on one workstation: the library (3dmm.db) and
// the model cache (cache.db), their health, size, content and backups.
func database() Dashboard {
	lib := `db="library"`
	return Dashboard{
		UID:         DatabaseUID,
		Title:       "Candy-Cadence / Library database",
		File:        "library-database.json",
		Description: "The library database (3dmm.db) and the model cache (cache.db) of one workstation: up or not, size, WAL, fragmentation, models by format, probe time, integrity checks and backups.",
		Tags:        []string{Tag, "database"},
		Rows: []Row{
			{Title: "Health", Panels: []Panel{
				{
					Title:       "Library database",
					Description: "Whether the library database answered the exporter's queries in the last scrape (candy_cadence_db_up). When it is Down, 'Database state' says why.",
					Kind:        Stat, Unit: "none", Width: 4,
					Queries:  []Query{{Expr: m("candy_cadence_db_up", lib), Instant: true}},
					Mappings: map[string]string{"0": "Down", "1": "Up"},
					Steps:    []Step{{Color: "red"}, {Value: f(1), Color: "green"}},
					Fill:     Running,
				},
				{
					Title: "Database state",
					Description: "The state of each database in the last scrape (candy_cadence_db_state == 1): ok, not_found (no file at the configured path: CandyCadenceLibraryNotFound), not_a_database, locked (past the probe's timeout), corrupt or unreadable (permissions, I/O). " +
						"Corruption that only the background integrity check finds shows in 'Integrity check'.",
					Kind: Table, Unit: "none", Width: 4, HideColumns: []string{"Value"},
					Queries: []Query{{Expr: `max by (db, state) (` + m("candy_cadence_db_state") + ` == 1)`, Instant: true}},
					Fill:    DatabaseDown,
				},
				{
					Title:       "Databases up over time",
					Description: "Whether each database answered, scrape by scrape (candy_cadence_db_up): 1 up, 0 down.",
					Kind:        TimeSeries, Unit: "none", Width: 4, Min: f(0), Max: f(1),
					Queries: []Query{{Expr: m("candy_cadence_db_up"), Legend: "{{db}}"}},
					Fill:    DatabaseDown,
				},
				{
					Title:       "Integrity check",
					Description: "Result of the last background PRAGMA quick_check of each database (candy_cadence_db_integrity_ok).",
					Kind:        Stat, Unit: "none", Width: 4,
					Queries:  []Query{{Expr: m("candy_cadence_db_integrity_ok"), Legend: "{{db}}", Instant: true}},
					Mappings: map[string]string{"0": "Failed", "1": "OK"},
					Steps:    []Step{{Color: "red"}, {Value: f(1), Color: "green"}},
					Fill:     Running,
				},
				{
					Title:       "Integrity check age",
					Description: "Time since the last integrity check of each database ended, and how long it took.",
					Kind:        Stat, Unit: "s", Width: 4,
					Queries: []Query{
						{Expr: `time() - ` + m("candy_cadence_db_integrity_check_timestamp_seconds"), Legend: "{{db}} age", Instant: true},
						{Expr: m("candy_cadence_db_integrity_check_duration_seconds"), Legend: "{{db}} took", Instant: true},
					},
					Fill: Running,
				},
				{
					Title:       "Journal mode",
					Description: "How each database journals its writes (candy_cadence_db_info): the application's library runs in WAL mode.",
					Kind:        Table, Unit: "none", Width: 4, HideColumns: []string{"Value"},
					Queries: []Query{{Expr: `max by (db, journal_mode) (` + m("candy_cadence_db_info") + `)`, Instant: true}},
					Fill:    Running,
				},
			}},
			{Title: "Size and growth", Panels: []Panel{
				{
					Title:       "Database and WAL size",
					Description: "Size of each database file and of its write-ahead log (-wal). A WAL that keeps growing means something holds a read transaction open and checkpoints cannot finish.",
					Kind:        TimeSeries, Unit: "bytes", Width: 8,
					Queries: []Query{
						{Expr: m("candy_cadence_db_size_bytes"), Legend: "{{db}}"},
						{Expr: m("candy_cadence_db_wal_size_bytes"), Legend: "{{db}} WAL"},
					},
					Fill: Running,
				},
				{
					Title:       "Fragmentation",
					Description: "Share of each database's pages that are free, reclaimable by VACUUM (instance_db:candy_cadence_db_freelist:ratio). The dashed line is the maintenance threshold of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "percentunit", Width: 8, Min: f(0),
					Queries: []Query{
						{Expr: m("instance_db:candy_cadence_db_freelist:ratio"), Legend: "{{db}}"},
						threshold("candy_cadence:threshold:db_freelist_ratio", "threshold"),
					},
					Fill: Running,
				},
				{
					Title:       "Growth over a week",
					Description: "How much larger the library is than a week ago: models (instance:candy_cadence_library_models:growth_ratio1w) and database file (instance_db:candy_cadence_db_size_bytes:growth_ratio1w). The dashed line is the maintenance threshold of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "percentunit", Width: 8,
					Queries: []Query{
						{Expr: m("instance:candy_cadence_library_models:growth_ratio1w"), Legend: "models"},
						{Expr: m("instance_db:candy_cadence_db_size_bytes:growth_ratio1w"), Legend: "{{db}} file"},
						threshold("candy_cadence:threshold:growth_per_week_ratio", "threshold"),
					},
					Unfilled: "needs history: the growth rules compare with the value a week ago (offset 1w)",
				},
				{
					Title:       "Models by format",
					Description: "Models in the library by file format (candy_cadence_library_models; refreshed in the background every stats interval). Formats past the exporter's limit count as other.",
					Kind:        TimeSeries, Unit: "short", Width: 8, Stack: true,
					Queries: []Query{{Expr: m("candy_cadence_library_models"), Legend: "{{format}}"}},
					Fill:    Running,
				},
				{
					Title:       "Model bytes by format",
					Description: "Total file size of the library's models by format (candy_cadence_library_model_size_bytes).",
					Kind:        TimeSeries, Unit: "bytes", Width: 8, Stack: true,
					Queries: []Query{{Expr: m("candy_cadence_library_model_size_bytes"), Legend: "{{format}}"}},
					Fill:    Running,
				},
				{
					Title:       "Models added",
					Description: "Models added to the library per interval (the change of the model count; a deletion shows below zero), and the time since the newest model was added.",
					Kind:        TimeSeries, Unit: "short", Width: 8, Bars: true,
					Queries: []Query{{Expr: `sum(delta(` + m("candy_cadence_library_models") + `[$__rate_interval]))`, Legend: "models added"}},
					Fill:    Running,
				},
				{
					Title:       "Newest model added",
					Description: "Time since the newest model of the library was added (its date_added).",
					Kind:        Stat, Unit: "s", Width: 4,
					Queries: []Query{{Expr: `time() - ` + m("candy_cadence_library_last_model_added_timestamp_seconds"), Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Rows by table",
					Description: "Rows of each application table that exists, per database (candy_cadence_db_rows; refreshed in the background).",
					Kind:        Table, Unit: "short", Width: 8, ValueColumn: "rows",
					Queries: []Query{{Expr: `max by (db, table) (` + m("candy_cadence_db_rows") + `)`, Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Model cache by level",
					Description: "Bytes held by the model cache database (cache.db) by cache level (candy_cadence_cache_size_bytes).",
					Kind:        TimeSeries, Unit: "bytes", Width: 12,
					Queries: []Query{{Expr: m("candy_cadence_cache_size_bytes"), Legend: "{{level}}"}},
					Fill:    Running,
				},
			}},
			{Title: "Performance", Panels: []Panel{
				{
					Title:       "Probe query time",
					Description: "Duration of the probe SELECT COUNT(*) FROM models (cache_entries for the cache), run in the background (candy_cadence_db_query_duration_seconds). The dashed line is the slow-query threshold of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "s", Width: 12,
					Queries: []Query{
						{Expr: m("candy_cadence_db_query_duration_seconds"), Legend: "{{db}}"},
						threshold("candy_cadence:threshold:db_query_slow_seconds", "slow"),
					},
					Fill: Running,
				},
				{
					Title:       "Last change",
					Description: "Time since each database or its WAL last changed: a library that the application uses changes whenever models are imported or viewed.",
					Kind:        Stat, Unit: "s", Width: 12,
					Queries: []Query{{Expr: `time() - ` + m("candy_cadence_db_last_modified_timestamp_seconds"), Legend: "{{db}}", Instant: true}},
					Fill:    Running,
				},
			}},
			{Title: "Backups", Panels: []Panel{
				{
					Title:       "Backups",
					Description: "Backup files found (candy_cadence_backup_*.db.gz beside the library and in backups/).",
					Kind:        Stat, Unit: "none", Width: 6,
					Queries: []Query{{Expr: m("candy_cadence_backups"), Instant: true}},
					Fill:    Running,
				},
				{
					Title:       "Newest backup age",
					Description: "Time since the newest backup was taken (from its name, else its modification time). The dashed line is the maximum age of rules/thresholds.yml.",
					Kind:        TimeSeries, Unit: "s", Width: 12,
					Queries: []Query{
						{Expr: `time() - ` + m("candy_cadence_backup_last_timestamp_seconds"), Legend: "age"},
						threshold("candy_cadence:threshold:backup_max_age_seconds", "maximum age"),
					},
					Fill: Running,
				},
				{
					Title:       "Newest backup size",
					Description: "Size of the newest backup file (candy_cadence_backup_last_size_bytes): compressed, much smaller than the library.",
					Kind:        Stat, Unit: "bytes", Width: 6,
					Queries: []Query{{Expr: m("candy_cadence_backup_last_size_bytes"), Instant: true}},
					Fill:    Running,
				},
			}},
		},
	}
}
