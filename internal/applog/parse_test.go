package applog

import (
	"fmt"
	"strings"
	"testing"
)

// jsonLine builds a record as the application's JSON formatter writes it (json.dumps with
// its default separators), with extra members appended.
func jsonLine(level, message string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"timestamp": "2025-03-14T09:26:53.589793", "level": %q, "logger": "src.core.model_loader", "function": "load_model", "line": 142, "message": %q, "module": "model_loader", "thread": 140234567890, "process": 4242`, level, message)
	for _, e := range extra {
		b.WriteString(", ")
		b.WriteString(e)
	}
	b.WriteString("}")
	return b.String()
}

type want struct {
	kind      LineKind
	level     Level
	isError   bool
	errType   string
	badType   bool
	op        Operation
	duration  float64
	cache     CacheEvent
	modelLoad ModelLoad
	perfAlert bool
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		want want
	}{
		{"json info", jsonLine("INFO", "Application started"), want{kind: LineJSON, level: LevelInfo}},
		{"json search", jsonLine("INFO", "Search completed in 0.123s: 42 results"),
			want{kind: LineJSON, level: LevelInfo, op: OpSearch, duration: 0.123}},
		{"json window init", jsonLine("INFO", "Window geometry initialized in 0.412s"),
			want{kind: LineJSON, level: LevelInfo, op: OpWindowInit, duration: 0.412}},
		{"json other init", jsonLine("INFO", "VTK renderer initialized in 1.5s"),
			want{kind: LineJSON, level: LevelInfo, op: OpInit, duration: 1.5}},
		{"json cache memory", jsonLine("DEBUG", `Cache hit (memory): C:\\Users\\me\\models\\gear.stl`),
			want{kind: LineJSON, level: LevelDebug, cache: CacheMemoryHit}},
		{"json cache disk", jsonLine("DEBUG", "Cache hit (disk): /home/me/models/gear.stl"),
			want{kind: LineJSON, level: LevelDebug, cache: CacheDiskHit}},
		{"json cache miss", jsonLine("DEBUG", "Cache miss: /home/me/models/gear.stl"),
			want{kind: LineJSON, level: LevelDebug, cache: CacheMiss}},
		{"json parse success", jsonLine("INFO", "Successfully parsed /m/a.stl", `"operation": "parse_success"`, `"file_size": 1048576`, `"duration_ms": 250`),
			want{kind: LineJSON, level: LevelInfo, op: OpParse, duration: 0.25, modelLoad: ModelLoadParse}},
		{"json parse success without duration", jsonLine("INFO", "Successfully parsed /m/a.stl", `"operation": "parse_success"`, `"file_size": 10`),
			want{kind: LineJSON, level: LevelInfo, modelLoad: ModelLoadParse}},
		{"json cache load", jsonLine("INFO", "Loaded /m/a.stl from cache", `"operation": "cache_hit"`, `"duration": 0.004`),
			want{kind: LineJSON, level: LevelInfo, op: OpCacheLoad, duration: 0.004, modelLoad: ModelLoadCache, cache: CacheModelHit}},
		{"json unknown operation", jsonLine("INFO", "done", `"operation": "export_stl"`, `"elapsed_seconds": "2.5"`),
			want{kind: LineJSON, level: LevelInfo, op: OpOther, duration: 2.5}},
		{"json perf alert", jsonLine("WARNING", "PERFORMANCE ALERT: memory usage 1600 MB exceeds 1500 MB"),
			want{kind: LineJSON, level: LevelWarning, perfAlert: true}},
		{"json exception", jsonLine("ERROR", "Failed to load", `"exception": {"type": "CorruptedFileError", "message": "bad header", "traceback": ["Traceback (most recent call last):\n", "  File \"x.py\", line 1\n", "CorruptedFileError: bad header\n"]}`),
			want{kind: LineJSON, level: LevelError, isError: true, errType: "CorruptedFileError"}},
		{"json decorated", jsonLine("ERROR", "Error in load_model: disk I/O error", `"custom_error_type": "sqlite3.OperationalError"`),
			want{kind: LineJSON, level: LevelError, isError: true, errType: "OperationalError"}},
		{"json global hook", jsonLine("CRITICAL", "Unhandled exception", `"exception_type": "MemoryError"`),
			want{kind: LineJSON, level: LevelCritical, isError: true, errType: "MemoryError"}},
		{"json error without type", jsonLine("ERROR", "Something failed"),
			want{kind: LineJSON, level: LevelError, isError: true}},
		{"json bad type", jsonLine("ERROR", "x", `"exception_type": "not a class; DROP TABLE"`),
			want{kind: LineJSON, level: LevelError, isError: true, badType: true}},
		{"json warning with type is no error", jsonLine("WARNING", "retrying", `"exception_type": "TimeoutException"`),
			want{kind: LineJSON, level: LevelWarning}},
		{"json custom level", jsonLine("Level 5", "trace"), want{kind: LineJSON, level: LevelOther}},
		{"json nested extra", jsonLine("INFO", "x", `"context": {"a": [1, 2, {"b": "}]"}], "c": null, "d": true, "e": -1.5e3}`),
			want{kind: LineJSON, level: LevelInfo}},
		{"json truncated", `{"timestamp": "2025-03-14T09:26:53", "level": "INFO", "mess`, want{kind: LineOther}},
		{"json trailing garbage", jsonLine("INFO", "x") + "}", want{kind: LineOther}},
		{"json leading comma", `{, "level": "INFO"}`, want{kind: LineOther}},
		{"json trailing comma", `{"level": "INFO",}`, want{kind: LineOther}},
		{"json crlf", jsonLine("INFO", "x") + "\r", want{kind: LineJSON, level: LevelInfo}},
		{"python text", "2025-03-14 09:26:53,589 - candy_cadence.ui - WARNING - low memory",
			want{kind: LineText, level: LevelWarning}},
		{"manual error monitor", "2025-03-14 09:26:53,589 - ERROR - Error: DatabaseError - database disk image is malformed",
			want{kind: LineText, level: LevelError, isError: true, errType: "DatabaseError"}},
		{"manual context line", `2025-03-14 09:26:53,590 - ERROR - Context: {"file": "a.stl"}`,
			want{kind: LineText, level: LevelError}},
		{"manual alert line", `2025-03-14 09:26:53,590 - CRITICAL - ALERT: critical_error - {"error_type": "MemoryError"}`,
			want{kind: LineText, level: LevelCritical}},
		{"python text search", "2025-03-14 09:26:53,589 - search - INFO - Search completed in 2.5s: 3 results",
			want{kind: LineText, level: LevelInfo, op: OpSearch, duration: 2.5}},
		{"python text empty message", "2025-03-14 09:26:53,589 - app - ERROR - ",
			want{kind: LineText, level: LevelError, isError: true}},
		{"bracket", "[2025-03-14 09:26:53] ERROR | candy_cadence.db | Error: OperationalError - database is locked",
			want{kind: LineText, level: LevelError, isError: true, errType: "OperationalError"}},
		{"bracket padded level", "[2025-03-14 09:26:53] INFO     | perf | PERFORMANCE ALERT: slow render",
			want{kind: LineText, level: LevelInfo, perfAlert: true}},
		{"traceback frame", `  File "src/main.py", line 12, in <module>`, want{kind: LineOther}},
		{"blank", "   ", want{kind: LineBlank}},
		{"garbage", "\x00\x01\x02 binary", want{kind: LineOther}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Record
			kind := ParseLine([]byte(tt.line), &r)
			got := want{kind, r.Level, r.Error, string(r.ErrorType), r.BadErrorType, r.Op, r.Duration, r.Cache, r.ModelLoad, r.PerfAlert}
			if got != tt.want {
				t.Errorf("ParseLine(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParseLineAllocatesNothing(t *testing.T) {
	lines := [][]byte{
		[]byte(jsonLine("INFO", "Search completed in 0.123s: 42 results")),
		[]byte(jsonLine("ERROR", "Failed", `"exception": {"type": "ValueError", "message": "m", "traceback": ["a", "b"]}`)),
		[]byte(jsonLine("INFO", "Loaded x from cache", `"operation": "cache_hit"`, `"duration": 0.004`)),
		[]byte("2025-03-14 09:26:53,589 - ERROR - Error: DatabaseError - boom"),
		[]byte("[2025-03-14 09:26:53] INFO | ui | Window geometry initialized in 0.412s"),
	}
	var r Record
	allocs := testing.AllocsPerRun(100, func() {
		for _, l := range lines {
			ParseLine(l, &r)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseLine allocated %.1f times per run, want 0", allocs)
	}
}

func TestLevelStrings(t *testing.T) {
	seen := map[string]bool{}
	for l := range NumLevels {
		s := l.String()
		if s == "" || s != strings.ToLower(s) || seen[s] {
			t.Errorf("level %d has label %q", l, s)
		}
		seen[s] = true
	}
	if Level(200).String() != "other" {
		t.Errorf("out of range level is %q", Level(200).String())
	}
}

func TestParseLineAppClose(t *testing.T) {
	tests := []struct {
		line      string
		close     bool
		pid       int32
		timestamp string
	}{
		{jsonLine("INFO", "Application closing"), true, 4242, "2025-03-14T09:26:53.589793"},
		{jsonLine("INFO", "Application closed"), true, 4242, "2025-03-14T09:26:53.589793"},
		{jsonLine("INFO", "Application closed successfully"), true, 4242, "2025-03-14T09:26:53.589793"},
		{jsonLine("INFO", "Application closes its views"), false, 4242, "2025-03-14T09:26:53.589793"},
		{jsonLine("INFO", "Application closedown"), false, 4242, "2025-03-14T09:26:53.589793"},
		{jsonLine("INFO", "Application started"), false, 4242, "2025-03-14T09:26:53.589793"},
		{`{"level": "INFO", "message": "Application closing", "process": "x"}`, true, 0, ""},
		{`{"level": "INFO", "message": "Application closing", "process": -3}`, true, 0, ""},
		{"2025-03-14 09:26:53,589 - src.gui.main_window - INFO - Application closing", true, 0, ""},
	}
	for _, tc := range tests {
		var r Record
		ParseLine([]byte(tc.line), &r)
		if r.AppClose != tc.close || r.PID != tc.pid || string(r.Timestamp) != tc.timestamp {
			t.Errorf("ParseLine(%s): close=%v pid=%d timestamp=%q, want %v %d %q", tc.line, r.AppClose, r.PID, r.Timestamp, tc.close, tc.pid, tc.timestamp)
		}
	}
}
