package applog

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// FuzzParseLine checks that no input panics and that what ParseLine reports stays within
// its bounds: a label-safe error type, a known level, a finite non-negative duration, and
// every valid JSON object accepted as a record. The seed corpus is testdata/fuzz/FuzzParseLine.
func FuzzParseLine(f *testing.F) {
	f.Add([]byte(jsonLine("ERROR", "x", `"exception": {"type": "sqlite3.OperationalError"}`)))
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		kind := ParseLine(line, &r)
		checkRecord(t, &r)
		trimmed := trimLine(line)
		if kind == LineJSON && trimmed[0] != '{' {
			t.Fatalf("JSON record from a line not starting with '{': %q", line)
		}
		if kind != LineJSON && len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) {
			t.Fatalf("valid JSON object not taken as a record: %q", line)
		}
		// The same bytes as a file's lines: a Stream sends at most one record or malformed
		// line per line.
		var s Stream
		var sink checkingSink
		sink.t = t
		lines := 0
		for l := range bytes.Lines(line) {
			lines++
			s.Line(bytes.TrimSuffix(l, []byte("\n")), &sink)
		}
		s.Flush(&sink)
		if sink.records+sink.malformed > lines {
			t.Fatalf("%d records and %d malformed from %d lines", sink.records, sink.malformed, lines)
		}
	})
}

type checkingSink struct {
	t                  *testing.T
	records, malformed int
}

func (c *checkingSink) Record(r *Record) { c.records++; checkRecord(c.t, r) }
func (c *checkingSink) Malformed()       { c.malformed++ }

func checkRecord(t *testing.T, r *Record) {
	t.Helper()
	if r.Level >= NumLevels || r.Op >= NumOperations || r.Cache >= NumCacheEvents || r.ModelLoad >= NumModelLoads {
		t.Fatalf("out of range enum in %+v", r)
	}
	if len(r.ErrorType) > 0 {
		if _, ok := className(r.ErrorType); !ok || bytes.IndexByte(r.ErrorType, '.') >= 0 {
			t.Fatalf("error type %q is not a class name", r.ErrorType)
		}
		if !r.Error {
			t.Fatalf("error type %q on a record that is no error", r.ErrorType)
		}
	}
	if r.Op != OpNone && (r.Duration < 0 || math.IsNaN(r.Duration) || math.IsInf(r.Duration, 0)) {
		t.Fatalf("duration %v for %v", r.Duration, r.Op)
	}
}
