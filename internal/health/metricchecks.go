package health

import (
	"fmt"
	"strings"
	"time"
)

// checkApplication judges the process collector's view: running or not, and how it last
// exited when the exporter saw it.
func checkApplication(s snapshot, t Thresholds) Check {
	j := newJudgement(CheckApplication)
	if !s.collectorRan("process") {
		j.unknown("the process collector is disabled")
		return j.done("not checked")
	}
	up, ok := s.value("up")
	if !ok {
		j.unknown("the process collector reported nothing (it failed)")
		return j.done("not checked")
	}
	j.value("up", up)
	var parts []string
	crashed, haveReasons := s.value("app_exits_total", "reason", "crashed")
	if haveReasons {
		j.value("crashed_exits", crashed)
		if crashed > 0 {
			j.critical("the application crashed %s since the exporter started (it exited without logging \"Application closed\")", times(crashed))
			j.recommend("read the newest log file's last ERROR and CRITICAL records to find the cause of the crash")
		}
		if unknown, ok := s.value("app_exits_total", "reason", "unknown"); ok && unknown > 0 {
			j.value("unknown_exits", unknown)
			j.warn("the application exited %s without the exporter being able to tell a clean close from a crash (no log file followed)", times(unknown))
		}
	} else if exits, ok := s.sum("app_exits_total"); ok && exits > 0 {
		j.warn("the application exited %s since the exporter started; this exporter cannot tell clean closes from crashes", times(exits))
	}
	if starts, ok := s.value("app_starts_total"); ok {
		j.value("starts", starts)
		if starts > 0 {
			parts = append(parts, fmt.Sprintf("started %s since the exporter started", times(starts)))
		}
	}
	if up != 1 {
		j.warn("the application is not running")
		j.recommend("start Candy-Cadence if it should be running; a closed desktop application is not a fault by itself")
		return j.done(strings.Join(append([]string{"not running"}, parts...), "; "))
	}
	n, _ := s.value("processes")
	j.value("processes", n)
	finding := fmt.Sprintf("running (%g process(es))", n)
	if start, ok := s.value("process_start_time_seconds"); ok && start > 0 {
		since := s.at.Sub(time.Unix(int64(start), 0)).Round(time.Second)
		finding += fmt.Sprintf(", up for %s", since)
		j.value("uptime_seconds", since.Seconds())
	}
	if rss, ok := s.value("process_resident_memory_bytes"); ok {
		j.value("resident_memory_bytes", rss)
		finding += fmt.Sprintf(", %s resident", mib(rss))
		if rss > t.AppMemoryBytes {
			j.warn("the application uses %s of memory, more than the %s threshold", mib(rss), mib(t.AppMemoryBytes))
			j.recommend("close and reopen the application at a convenient moment; if memory keeps growing, report it with the log files")
		}
	}
	return j.done(strings.Join(append([]string{finding}, parts...), "; "))
}

// dbState returns the database's state from candy_cadence_db_state, or "" when the exporter
// does not export it.
func dbState(s snapshot, db string) string {
	for _, m := range s.metrics("db_state", "db", db) {
		if metricValue(m) == 1 {
			return labelValue(m, "state")
		}
	}
	return ""
}

// checkDatabase judges the library (and, more leniently, the cache) from the sqlite collector.
func checkDatabase(s snapshot, t Thresholds) Check {
	j := newJudgement(CheckDatabase)
	if !s.collectorRan("sqlite") {
		j.unknown("the sqlite collector is disabled")
		return j.done("not checked")
	}
	finding := judgeLibrary(j, s, t)
	if cache := judgeCache(j, s); cache != "" {
		finding += "; " + cache
	}
	if _, exists := s.value("db_size_bytes", "db", "library"); exists {
		judgeBackups(j, s, t) // backups of a library that is not there are beside the point
	}
	return j.done(finding)
}

func judgeLibrary(j *judgement, s snapshot, t Thresholds) string {
	up, ok := s.value("db_up", "db", "library")
	if !ok {
		j.unknown("the sqlite collector reported nothing about the library (it failed)")
		return "library not checked"
	}
	j.value("library_up", up)
	state := dbState(s, "library")
	if up != 1 {
		return libraryDown(j, s, state)
	}
	var parts []string
	if size, ok := s.value("db_size_bytes", "db", "library"); ok {
		parts = append(parts, mib(size))
		j.value("library_size_bytes", size)
	}
	if wal, ok := s.value("db_wal_size_bytes", "db", "library"); ok {
		parts = append(parts, "WAL "+mib(wal))
		j.value("library_wal_size_bytes", wal)
	}
	pages, okP := s.value("db_pages", "db", "library")
	free, okF := s.value("db_freelist_pages", "db", "library")
	if okP && okF && pages > 0 {
		ratio := free / pages
		j.value("library_freelist_ratio", ratio)
		parts = append(parts, fmt.Sprintf("%.0f%% free pages", 100*ratio))
		if ratio > t.DBFreelistRatio {
			j.warn("the library is %.0f%% free pages (threshold %.0f%%)", 100*ratio, 100*t.DBFreelistRatio)
			j.recommend("the library is %.0f%% free pages: VACUUM it while the application is closed (sqlite3 3dmm.db \"VACUUM\")", 100*ratio)
		}
	}
	if probe, ok := s.value("db_query_duration_seconds", "db", "library"); ok {
		j.value("library_query_duration_seconds", probe)
		parts = append(parts, fmt.Sprintf("probe query %s", seconds(probe)))
		if probe > t.DBQuerySlowSeconds {
			j.warn("the probe query SELECT COUNT(*) FROM models took %s (slow above %s)", seconds(probe), seconds(t.DBQuerySlowSeconds))
			j.recommend("run ANALYZE and VACUUM on the library while the application is closed; check the disk holding it")
		}
	} else {
		parts = append(parts, "probe query not measured yet")
	}
	parts = append(parts, judgeIntegrity(j, s))
	return "library opens read-only: " + strings.Join(parts, ", ")
}

func libraryDown(j *judgement, s snapshot, state string) string {
	switch state {
	case "not_found":
		j.critical("the library database was not found")
		j.recommend("start the application once so that it creates its library, or point --collector.sqlite.library-db at it")
		return "library not found"
	case "locked":
		j.warn("the library is locked by another connection beyond the busy timeout")
		j.recommend("if the lock persists with the application closed, another program holds the library open: close it")
		return "library locked"
	case "corrupt", "not_a_database":
		j.critical("the library database is %s", strings.ReplaceAll(state, "_", " "))
		j.recommend("close the application and restore the newest backup (candy_cadence_backup_*.db.gz)")
		return "library " + strings.ReplaceAll(state, "_", " ")
	case "unreadable":
		j.critical("the library database cannot be read by this user")
		j.recommend("give the desktop user read access to the library, or run the exporter as that user")
		return "library unreadable"
	}
	if _, exists := s.value("db_size_bytes", "db", "library"); !exists {
		j.critical("the library database was not found")
		j.recommend("start the application once so that it creates its library, or point --collector.sqlite.library-db at it")
		return "library not found"
	}
	j.critical("the library database exists but does not open read-only (locked, corrupt or unreadable: see the exporter's log)")
	j.recommend("run the check again; if it persists, see the exporter's log line for the library")
	return "library does not open"
}

func judgeIntegrity(j *judgement, s snapshot) string {
	ok, have := s.value("db_integrity_ok", "db", "library")
	if !have {
		return "integrity not checked yet"
	}
	j.value("library_integrity_ok", ok)
	age := ""
	if at, ok := s.value("db_integrity_check_timestamp_seconds", "db", "library"); ok && at > 0 {
		ago := s.at.Sub(time.Unix(int64(at), 0)).Round(time.Second)
		j.value("library_integrity_check_age_seconds", ago.Seconds())
		age = fmt.Sprintf(" %s ago", ago)
	}
	if ok != 1 {
		j.critical("PRAGMA quick_check found corruption in the library%s", age)
		j.recommend("close the application, keep a copy of 3dmm.db, and restore the newest backup")
		return "quick_check FAILED" + age
	}
	return "quick_check ok" + age
}

func judgeCache(j *judgement, s snapshot) string {
	up, ok := s.value("db_up", "db", "cache")
	if !ok {
		return ""
	}
	j.value("cache_up", up)
	if up == 1 {
		return "cache opens read-only"
	}
	state := dbState(s, "cache")
	if state == "" {
		if _, exists := s.value("db_size_bytes", "db", "cache"); !exists {
			state = "not_found"
		}
	}
	switch state {
	case "not_found":
		return "no cache database (older builds have none until models are cached)"
	case "corrupt", "not_a_database":
		j.warn("the model cache database is %s", strings.ReplaceAll(state, "_", " "))
		j.recommend("close the application and delete cache.db: the application rebuilds its cache")
		return "cache " + strings.ReplaceAll(state, "_", " ")
	}
	j.warn("the model cache database does not open (%s)", orUnknown(state))
	return "cache does not open"
}

func judgeBackups(j *judgement, s snapshot, t Thresholds) {
	n, ok := s.value("backups")
	if !ok {
		return
	}
	j.value("backups", n)
	if n == 0 {
		j.warn("no backup of the library was found")
		j.recommend("back up the library (candy_cadence_backup_YYYYmmdd_HHMMSS.db.gz beside it or in backups/), daily")
		return
	}
	last, ok := s.value("backup_last_timestamp_seconds")
	if !ok {
		return
	}
	age := s.at.Sub(time.Unix(int64(last), 0))
	j.value("backup_age_seconds", age.Seconds())
	if age.Seconds() > t.BackupMaxAgeSeconds {
		j.warn("the newest backup is %s old (threshold %s)", age.Round(time.Hour), time.Duration(t.BackupMaxAgeSeconds)*time.Second)
		j.recommend("back up the library now, and check the scheduled backup")
	}
}

// checkSystem judges the host: CPU over the gathering interval, memory and the data
// directory's filesystem.
func checkSystem(first, last snapshot, t Thresholds) Check {
	j := newJudgement(CheckSystem)
	if !last.collectorRan("host") {
		j.unknown("the host collector is disabled")
		return j.done("not checked")
	}
	var parts []string
	if cpu, ok := cpuUtilisation(first, last); ok {
		j.value("cpu_utilisation_ratio", cpu)
		parts = append(parts, fmt.Sprintf("CPU %.0f%%", 100*cpu))
		if cpu > t.AlertCPUUtilisationRatio {
			j.warn("CPU is %.0f%% busy (threshold %.0f%%)", 100*cpu, 100*t.AlertCPUUtilisationRatio)
			j.recommend("find the busy processes in the task manager; close what is not needed")
		}
	} else {
		j.unknown("CPU utilisation (needs two samples a second apart)")
	}
	total, okT := last.value("host_memory_total_bytes")
	avail, okA := last.value("host_memory_available_bytes")
	if okT && okA && total > 0 {
		used := 1 - avail/total
		j.value("memory_utilisation_ratio", used)
		parts = append(parts, fmt.Sprintf("memory %.0f%%", 100*used))
		switch {
		case avail == 0:
			j.critical("no memory is available")
		case used > t.AlertMemoryUtilisationRatio:
			j.warn("memory is %.0f%% used (threshold %.0f%%)", 100*used, 100*t.AlertMemoryUtilisationRatio)
			j.recommend("close programs that are not needed, or add memory")
		case used > t.KPIMemoryUtilisationRatio:
			j.recommend("memory is %.0f%% used, above the %.0f%% target", 100*used, 100*t.KPIMemoryUtilisationRatio)
		}
	} else {
		j.unknown("memory (not reported)")
	}
	parts = append(parts, judgeFilesystems(j, last, t)...)
	return j.done(strings.Join(parts, ", "))
}

func cpuUtilisation(first, last snapshot) (float64, bool) {
	idle := func(s snapshot) float64 {
		a, _ := s.sum("host_cpu_seconds_total", "mode", "idle")
		b, _ := s.sum("host_cpu_seconds_total", "mode", "iowait")
		return a + b
	}
	t0, ok0 := first.sum("host_cpu_seconds_total")
	t1, ok1 := last.sum("host_cpu_seconds_total")
	if !ok0 || !ok1 || t1 <= t0 {
		return 0, false
	}
	busy := 1 - (idle(last)-idle(first))/(t1-t0)
	return min(max(busy, 0), 1), true
}

func judgeFilesystems(j *judgement, s snapshot, t Thresholds) []string {
	var parts []string
	for _, m := range s.metrics("host_filesystem_size_bytes") {
		mount := labelValue(m, "mountpoint")
		size := metricValue(m)
		free, okF := s.value("host_filesystem_free_bytes", "mountpoint", mount)
		avail, okA := s.value("host_filesystem_avail_bytes", "mountpoint", mount)
		if !okF || !okA || size <= 0 {
			continue
		}
		used := size - free
		ratio := used / (used + avail) // as df: the superuser's reserve counts as used
		j.value("filesystem_utilisation_ratio:"+mount, ratio)
		parts = append(parts, fmt.Sprintf("disk %s %.0f%% used", mount, 100*ratio))
		switch {
		case avail <= 0:
			j.critical("the filesystem %s is full: the application cannot save its library or logs", mount)
			j.recommend("free space on %s now", mount)
		case ratio > t.AlertFilesystemUtilisation:
			j.warn("the filesystem %s is %.0f%% used (threshold %.0f%%)", mount, 100*ratio, 100*t.AlertFilesystemUtilisation)
			j.recommend("free space on %s: old backups, the model cache, downloads", mount)
		case ratio > t.KPIFilesystemUtilisation:
			j.recommend("the filesystem %s is %.0f%% used, above the %.0f%% target", mount, 100*ratio, 100*t.KPIFilesystemUtilisation)
		}
	}
	if len(parts) == 0 {
		j.unknown("the data directory's filesystem (not reported)")
	}
	return parts
}

func times(n float64) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%g times", n)
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

func seconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.3g ms", s*1000)
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", s), "0"), ".") + " s"
}

func orUnknown(s string) string {
	if s == "" {
		return "see the exporter's log"
	}
	return s
}
