package logsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Levels are the application's level names, as they appear in records and file names.
var Levels = []string{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}

// Expect is what the log collector must count for one record, stated independently of its
// parser: the label values of each metric the record touches ("" for none).
type Expect struct {
	Level       string
	ErrorType   string
	Operation   string
	Duration    float64 // a multiple of 1/1024 s, so sums are exact in any order
	CacheTier   string
	CacheResult string
	ModelSource string
	PerfAlert   bool
}

// SeqKey is the extra member that carries a record's sequence number; ParseSeq reads it back.
const SeqKey = `"sim_seq": `

// Record returns record number seq at the given level, in the application's JSON format, and
// what it must count. The variants cycle with seq, covering every measurement the
// application logs at that level.
func Record(seq int, level string, at time.Time) ([]byte, Expect) {
	path := fmt.Sprintf(`C:\\Users\\ana\\Documents\\Models\\project-%02d\\part-%05d.stl`, seq%37, seq)
	msg, extra, exp := content(seq, level, path)
	var b strings.Builder
	fmt.Fprintf(&b, `{"timestamp": "%s", "level": "%s", "logger": "src.core.app", "function": "run", "line": %d, "message": "%s", "module": "app", "thread": 140234567890, "process": 4242, "app_version": "1.4.2", "correlation_id": "%08x"`,
		at.Format("2006-01-02T15:04:05.000000"), level, 100+seq%900, msg, uint32(seq)*2654435761)
	for _, e := range extra {
		b.WriteString(", ")
		b.WriteString(e)
	}
	fmt.Fprintf(&b, ", %s%d}", SeqKey, seq)
	return []byte(b.String()), exp
}

// AppRecord is Record laid out as the worst case for a reader that compares bytes: every byte
// but the sequence number (eight digits, after the first 256 bytes) and the timestamp is the
// same for all records of one level and message variant, the timestamp has whole seconds, and
// more than 64 constant bytes end the line. Two files the application writes in one second
// can then start with the same bytes and have the same bytes before any record boundary.
func AppRecord(seq int, level string, at time.Time) ([]byte, Expect) {
	msg, extra, exp := content(seq, level, `C:\\Users\\ana\\Documents\\Models\\gear.stl`)
	var b strings.Builder
	fmt.Fprintf(&b, `{"timestamp": "%s", "level": "%s", "logger": "src.core.app", "function": "run", "line": 212, "message": "%s"`,
		at.Truncate(time.Second).Format("2006-01-02T15:04:05"), level, msg)
	for _, e := range extra {
		b.WriteString(", ")
		b.WriteString(e)
	}
	b.WriteString(`, "module": "app", "thread": 140234567890, "process": 4242, "app_version": "1.4.2", "correlation_id": "0000000000000000"`)
	fmt.Fprintf(&b, `, %s%08d, "session": "7f3a9c2e5b1d4f6a8c0e2b4d6f8a1c3e", "operation_id": "none", "user": "local"}`, SeqKey, seq)
	return []byte(b.String()), exp
}

// content returns the message, the extra members and the expectation of record seq.
func content(seq int, level, path string) (msg string, extra []string, exp Expect) {
	exp = Expect{Level: strings.ToLower(level)}
	k := seq / 7 // varies the variant independently of the level's batch position
	dur := float64(1+(seq*37)%6000) / 1024
	switch level {
	case "DEBUG":
		switch k % 3 {
		case 0:
			msg, exp.CacheTier, exp.CacheResult = "Cache hit (memory): "+path, "memory", "hit"
		case 1:
			msg, exp.CacheTier, exp.CacheResult = "Cache hit (disk): "+path, "disk", "hit"
		default:
			msg, exp.CacheTier, exp.CacheResult = "Cache miss: "+path, "all", "miss"
		}
	case "INFO":
		switch k % 5 {
		case 0:
			msg = fmt.Sprintf("Search completed in %ss: %d results", strconv.FormatFloat(dur, 'f', -1, 64), seq%50)
			exp.Operation, exp.Duration = "search", dur
		case 1:
			msg = "Successfully parsed " + path
			extra = append(extra, `"operation": "parse_success"`, fmt.Sprintf(`"file_size": %d`, 1000+seq), fmt.Sprintf(`"duration_ms": %s`, strconv.FormatFloat(dur*1000, 'f', -1, 64)))
			// The parser scales milliseconds by 1e-3: expect that exact float.
			exp.Operation, exp.Duration, exp.ModelSource = "parse", dur*1000*1e-3, "parse"
		case 2:
			msg = "Loaded " + path + " from cache"
			extra = append(extra, `"operation": "cache_hit"`, fmt.Sprintf(`"duration": %s`, strconv.FormatFloat(dur, 'f', -1, 64)))
			exp.Operation, exp.Duration, exp.ModelSource = "cache_load", dur, "cache"
			exp.CacheTier, exp.CacheResult = "model", "hit"
		case 3:
			msg = fmt.Sprintf("Window geometry initialized in %ss", strconv.FormatFloat(dur, 'f', -1, 64))
			exp.Operation, exp.Duration = "window_init", dur
		default:
			msg = "Viewer camera reset"
		}
	case "WARNING":
		if k%2 == 0 {
			msg, exp.PerfAlert = "PERFORMANCE ALERT: render took 2.4s", true
		} else {
			msg = "Thumbnail generation slow"
		}
	case "ERROR":
		exp.ErrorType = "unknown"
		switch k % 5 {
		case 0:
			msg, exp.ErrorType = "Failed to parse "+path, "CorruptedFileError"
			extra = append(extra, `"exception": {"type": "CorruptedFileError", "message": "unexpected end of file", "traceback": ["Traceback (most recent call last):\n", "  File \"src\\parsers\\stl_parser.py\", line 210, in parse\n", "CorruptedFileError: unexpected end of file\n"]}`)
		case 1:
			msg, exp.ErrorType = "Error in get_model: database is locked", "OperationalError"
			extra = append(extra, `"custom_error_type": "OperationalError"`)
		case 2:
			msg, exp.ErrorType = "Plugin failed", "PluginCrashError" // not a known type
			extra = append(extra, `"exception": {"type": "acme.PluginCrashError", "message": "boom"}`)
		case 3:
			msg = "Something failed"
		default:
			msg, exp.ErrorType = "Bad value", "ValueError"
			extra = append(extra, `"custom_error_type": "ValueError"`)
		}
	case "CRITICAL":
		if k%2 == 0 {
			msg, exp.ErrorType = "Unhandled exception", "MemoryError"
			extra = append(extra, `"exception_type": "MemoryError"`)
		} else {
			msg, exp.ErrorType = "Unhandled exception", "SystemError"
			extra = append(extra, `"exception_type": "SystemError"`)
		}
	}
	return msg, extra, exp
}

// ParseSeq returns the sequence number of a line Record wrote.
func ParseSeq(line []byte) (int, bool) {
	s := string(line)
	i := strings.LastIndex(s, SeqKey)
	if i < 0 {
		return 0, false
	}
	s = s[i+len(SeqKey):]
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	return n, err == nil
}
