package health

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/applog"
	"github.com/candy-cadence/candy_cadence_exporter/internal/tailer"
)

// DefaultLogReadLimit bounds the bytes the check reads from the logs, newest files first.
const DefaultLogReadLimit = 16 << 20

// logWindow is how far back the logs and performance checks look.
const logWindow = time.Hour

// logHour is what the log files say about the last hour.
type logHour struct {
	files     int       // files written to in the last hour
	readBytes int64     // bytes read
	partial   bool      // the byte budget ended before the hour's start
	errors    int       // ERROR records
	criticals int       // CRITICAL records
	critTypes int       // ERROR and CRITICAL records of a critical type
	durations []float64 // logged operation durations, seconds
	failures  []string  // files that could not be read
}

// scanLogs reads the records of the last hour from files, newest file first, at most limit
// bytes in all. Timestamps are the application's local time without a zone.
func scanLogs(ctx context.Context, files []string, now time.Time, limit int64, t Thresholds) logHour {
	var h logHour
	type fileAge struct {
		path string
		mod  time.Time
		size int64
	}
	var recent []fileAge
	since := now.Add(-logWindow)
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			continue // rotated away since it was listed
		}
		if fi.ModTime().Before(since) {
			continue // nothing written in the last hour
		}
		recent = append(recent, fileAge{f, fi.ModTime(), fi.Size()})
	}
	sort.Slice(recent, func(a, b int) bool { return recent[a].mod.After(recent[b].mod) })
	h.files = len(recent)
	for _, f := range recent {
		if ctx.Err() != nil || h.readBytes >= limit {
			h.partial = true
			break
		}
		budget := limit - h.readBytes
		n, cut, err := scanLogFile(f.path, f.size, budget, since, now, t, &h)
		h.readBytes += n
		if err != nil {
			h.failures = append(h.failures, fmt.Sprintf("%s: %v", f.path, err))
		}
		h.partial = h.partial || cut
	}
	return h
}

// scanLogFile reads the last budget bytes of path (of size bytes when listed) and counts the
// records stamped within [since, now]. cut reports that the start of the file was not read.
func scanLogFile(path string, size, budget int64, since, now time.Time, t Thresholds, h *logHour) (read int64, cut bool, err error) {
	f, err := tailer.OpenShared(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	offset := max(size-budget, 0)
	buf := make([]byte, size-offset)
	n, err := f.ReadAt(buf, offset)
	if err != nil && err != io.EOF {
		return int64(n), offset > 0, err
	}
	buf = buf[:n]
	if offset > 0 { // drop the partial first line
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var r applog.Record
	for line := range bytes.SplitSeq(buf, []byte{'\n'}) {
		at, ok := lineTime(line)
		if !ok || at.Before(since) || at.After(now.Add(time.Minute)) {
			continue
		}
		switch applog.ParseLine(line, &r) {
		case applog.LineJSON, applog.LineText:
		default:
			continue
		}
		switch r.Level {
		case applog.LevelError:
			h.errors++
		case applog.LevelCritical:
			h.criticals++
		}
		if r.Error && t.IsCriticalErrorType(r.ErrorType) {
			h.critTypes++
		}
		if r.Op != applog.OpNone {
			h.durations = append(h.durations, r.Duration)
		}
	}
	return int64(n), offset > 0, nil
}

// lineTime finds the record's time near the start of a line: the JSON "timestamp"
// (2025-01-02T15:04:05.123456) or the text formats' "2025-01-02 15:04:05,123", in local time.
func lineTime(line []byte) (time.Time, bool) {
	head := line[:min(len(line), 160)]
	for i := 0; i+19 <= len(head); i++ {
		if !isDigit(head[i]) || head[i+4] != '-' || head[i+7] != '-' || (head[i+10] != 'T' && head[i+10] != ' ') ||
			head[i+13] != ':' || head[i+16] != ':' {
			continue
		}
		s := string(head[i : i+19])
		s = s[:10] + "T" + s[11:]
		at, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local)
		if err == nil {
			return at, true
		}
	}
	return time.Time{}, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// checkLogs judges the error and critical records of the last hour.
func checkLogs(h logHour, configured bool, t Thresholds) Check {
	j := newJudgement(CheckLogs)
	if !configured {
		j.unknown("no log files to read")
		return j.done("not checked")
	}
	j.value("files_last_hour", float64(h.files))
	j.value("errors_last_hour", float64(h.errors))
	j.value("critical_last_hour", float64(h.criticals))
	j.value("read_bytes", float64(h.readBytes))
	for _, f := range h.failures {
		j.unknown("reading %s", f)
	}
	finding := fmt.Sprintf("%d error and %d critical record(s) in the last hour, from %d file(s) written in it", h.errors, h.criticals, h.files)
	if h.partial {
		finding += fmt.Sprintf(" (only the newest %s read)", mib(float64(h.readBytes)))
		j.c.Warnings = append(j.c.Warnings, "the last hour's logs exceed the read limit: older records of the hour are not counted")
	}
	j.value("critical_type_last_hour", float64(h.critTypes))
	if h.critTypes > 0 {
		j.critical("%d error(s) of a critical type (memory, database, SystemError) in the last hour", h.critTypes)
		j.recommend("read those records in the newest log files: memory and database failures need attention before data is lost")
	}
	if h.criticals > h.critTypes {
		j.warn("%d CRITICAL record(s) in the last hour", h.criticals)
		j.recommend("read the CRITICAL records in the newest log files (uncaught exceptions) and report them with the log file")
	}
	if float64(h.errors+h.criticals) > t.ErrorsPerHour {
		j.warn("%d errors in the last hour (threshold %g)", h.errors+h.criticals, t.ErrorsPerHour)
		j.recommend("look for the most frequent error type in the logs and the models or actions that cause it")
	}
	return j.done(finding)
}

// checkPerformance judges the operation durations logged in the last hour against the mean
// and latency objectives.
func checkPerformance(h logHour, configured bool, t Thresholds) Check {
	j := newJudgement(CheckPerformance)
	if !configured {
		j.unknown("no log files to read durations from")
		return j.done("not checked")
	}
	n := len(h.durations)
	j.value("operations_last_hour", float64(n))
	if n == 0 {
		return j.done("no timed operations logged in the last hour")
	}
	var total float64
	slow := 0
	for _, d := range h.durations {
		total += d
		if d > t.LatencyBoundSeconds {
			slow++
		}
	}
	mean := total / float64(n)
	sorted := slices.Clone(h.durations)
	slices.Sort(sorted)
	p95 := sorted[min(n-1, int(0.95*float64(n)))]
	slowRatio := float64(slow) / float64(n)
	j.value("mean_seconds", mean)
	j.value("p95_seconds", p95)
	j.value("slow_ratio", slowRatio)
	finding := fmt.Sprintf("%d operation(s) in the last hour: mean %s, p95 %s, %.1f%% over %s", n, seconds(mean), seconds(p95), 100*slowRatio, seconds(t.LatencyBoundSeconds))
	if float64(n) < t.MinEvents {
		return j.done(finding + fmt.Sprintf(" (fewer than %g: too few to judge)", t.MinEvents))
	}
	var why []string
	switch {
	case slowRatio > t.SLOLatencyErrorRatioCritical:
		j.critical("%.0f%% of operations took over %s: the latency objective's monthly budget burns %.0fx too fast", 100*slowRatio, seconds(t.LatencyBoundSeconds), slowRatio/(1-t.SLOLatencyObjectiveRatio))
		why = append(why, "latency")
	case p95 > t.LatencyBoundSeconds:
		j.warn("the 95th percentile is %s, over the %s objective", seconds(p95), seconds(t.LatencyBoundSeconds))
		why = append(why, "latency")
	}
	switch {
	case mean > t.AlertResponseTimeSeconds:
		j.warn("the mean operation time is %s, over the %s alert threshold", seconds(mean), seconds(t.AlertResponseTimeSeconds))
		why = append(why, "mean")
	case mean > t.KPIResponseTimeSeconds:
		// The KPI's alert is info: a recommendation, not a warning.
		finding += fmt.Sprintf("; the mean is over the %s objective", seconds(t.KPIResponseTimeSeconds))
		why = append(why, "mean")
	}
	if len(why) > 0 {
		j.recommend("see which operations are slow (search, parse, thumbnail...) in the logs; large models, a full disk or a fragmented library are the usual causes")
	}
	return j.done(finding)
}
