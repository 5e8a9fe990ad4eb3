package applog

import (
	"strings"
	"testing"
)

// recorder is a Sink that keeps what it is sent.
type recorder struct {
	records   []want
	malformed int
}

func (r *recorder) Record(rec *Record) {
	r.records = append(r.records, want{LineText, rec.Level, rec.Error, string(rec.ErrorType), rec.BadErrorType, rec.Op, rec.Duration, rec.Cache, rec.ModelLoad, rec.PerfAlert})
}

func (r *recorder) Malformed() { r.malformed++ }

func feed(s *Stream, text string, sink Sink) {
	for line := range strings.Lines(text) {
		s.Line([]byte(strings.TrimSuffix(line, "\n")), sink)
	}
}

func TestStreamTraceback(t *testing.T) {
	const text = `2025-03-14 09:26:53,589 - candy_cadence.db - ERROR - query failed
Traceback (most recent call last):
  File "src/core/database.py", line 88, in execute
    cur.execute(sql)
sqlite3.OperationalError: database is locked
2025-03-14 09:26:54,001 - candy_cadence.ui - INFO - retrying
2025-03-14 09:26:55,000 - candy_cadence.ui - ERROR - chained
Traceback (most recent call last):
  File "a.py", line 1, in f
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "a.py", line 3, in g
ValueError: multi-line
message continues
2025-03-14 09:26:56,000 - app - ERROR - Error: ParsingException - bad file
Traceback (most recent call last):
  File "a.py", line 3, in g
ValueError: the message's type wins
2025-03-14 09:26:57,000 - app - ERROR - no traceback
`
	var s Stream
	var rec recorder
	feed(&s, text, &rec)
	if len(rec.records) != 4 {
		t.Fatalf("got %d records before flush, want 4 (the last waits for its traceback)", len(rec.records))
	}
	s.Flush(&rec)
	var types []string
	for _, r := range rec.records {
		types = append(types, r.errType)
	}
	want := []string{"OperationalError", "", "ValueError", "ParsingException", ""}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("types %q, want %q", types, want)
	}
	if rec.malformed != 0 {
		t.Errorf("malformed %d, want 0", rec.malformed)
	}
}

func TestStreamMalformedAndJSON(t *testing.T) {
	text := "garbage before any record\n" +
		jsonLine("ERROR", "x", `"exception_type": "MemoryError"`) + "\n" +
		"  stray line after a JSON record\n" +
		`{"level": "INFO", "message": "cut` + "\n" +
		"\n" +
		jsonLine("INFO", "Cache miss: x") + "\n"
	var s Stream
	var rec recorder
	feed(&s, text, &rec)
	s.Flush(&rec)
	if rec.malformed != 3 {
		t.Errorf("malformed %d, want 3", rec.malformed)
	}
	if len(rec.records) != 2 || rec.records[0].errType != "MemoryError" || rec.records[1].cache != CacheMiss {
		t.Errorf("records %+v", rec.records)
	}
}

func TestStreamTextThenJSONFlushes(t *testing.T) {
	text := "[2025-03-14 09:26:53] ERROR | db | failed\n" +
		"Traceback (most recent call last):\n" +
		"  File \"a.py\", line 1, in f\n" +
		"DataError: x\n" +
		jsonLine("INFO", "next") + "\n"
	var s Stream
	var rec recorder
	feed(&s, text, &rec)
	if s.Pending() || len(rec.records) != 2 || rec.records[0].errType != "DataError" {
		t.Errorf("pending %v, records %+v", s.Pending(), rec.records)
	}
}

func TestStreamAllocatesNothing(t *testing.T) {
	lines := [][]byte{
		[]byte("2025-03-14 09:26:53,589 - candy_cadence.db - ERROR - query failed"),
		[]byte("Traceback (most recent call last):"),
		[]byte(`  File "src/core/database.py", line 88, in execute`),
		[]byte("sqlite3.OperationalError: database is locked"),
		[]byte(jsonLine("INFO", "Search completed in 0.1s: 1 results")),
	}
	var s Stream
	var sink countingSink
	allocs := testing.AllocsPerRun(100, func() {
		for _, l := range lines {
			s.Line(l, &sink)
		}
	})
	if allocs != 0 {
		t.Errorf("Stream.Line allocated %.1f times per run, want 0", allocs)
	}
}

type countingSink struct{ records, malformed int }

func (c *countingSink) Record(*Record) { c.records++ }
func (c *countingSink) Malformed()     { c.malformed++ }
