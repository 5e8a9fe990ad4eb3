package applog

import (
	"bytes"
	"fmt"
	"testing"
)

// realisticJSON returns n lines in the mix a busy session of the application writes: mostly
// cache and search records, some model loads, a few warnings and errors with tracebacks.
func realisticJSON(n int) [][]byte {
	out := make([][]byte, 0, n)
	for i := range n {
		var l string
		path := fmt.Sprintf(`C:\\Users\\ana\\Documents\\3D Models\\project-%03d\\part-%05d.stl`, i%97, i)
		extra := []string{`"app_version": "1.4.2"`, fmt.Sprintf(`"correlation_id": "%08x"`, i*2654435761)}
		switch i % 20 {
		case 0, 1, 2, 3:
			l = jsonLine("DEBUG", "Cache hit (memory): "+path, extra...)
		case 4, 5:
			l = jsonLine("DEBUG", "Cache hit (disk): "+path, extra...)
		case 6, 7:
			l = jsonLine("DEBUG", "Cache miss: "+path, extra...)
		case 8, 9, 10:
			l = jsonLine("INFO", fmt.Sprintf("Search completed in %.3fs: %d results", float64(i%900)/1000, i%50), extra...)
		case 11, 12:
			l = jsonLine("INFO", "Successfully parsed "+path, append(extra, `"operation": "parse_success"`, fmt.Sprintf(`"file_size": %d`, 1000+i*37), `"duration_ms": 143.2`)...)
		case 13, 14:
			l = jsonLine("INFO", "Loaded "+path+" from cache", append(extra, `"operation": "cache_hit"`, `"duration": 0.0031`)...)
		case 15:
			l = jsonLine("WARNING", "PERFORMANCE ALERT: render took 2.4s", extra...)
		case 16:
			l = jsonLine("ERROR", "Failed to parse "+path, append(extra, `"exception": {"type": "CorruptedFileError", "message": "unexpected end of file at byte 84", "traceback": ["Traceback (most recent call last):\n", "  File \"src\\\\parsers\\\\stl_parser.py\", line 210, in parse\n    triangles = self._read_binary(f)\n", "CorruptedFileError: unexpected end of file at byte 84\n"]}`)...)
		case 17:
			l = jsonLine("ERROR", "Error in get_model: database is locked", append(extra, `"custom_error_type": "OperationalError"`)...)
		default:
			l = jsonLine("INFO", "Viewer camera reset for "+path, extra...)
		}
		out = append(out, []byte(l))
	}
	return out
}

// BenchmarkParseJSON measures the line parser on realistic JSON lines, on one core.
// go test ./internal/applog -run XXX -bench ParseJSON -cpu 1
func BenchmarkParseJSON(b *testing.B) {
	lines := realisticJSON(10000)
	var size int64
	for _, l := range lines {
		size += int64(len(l)) + 1
	}
	var s Stream
	var sink countingSink
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, l := range lines {
			s.Line(l, &sink)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(lines))/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(size)/float64(len(lines)), "bytes/line")
	if sink.malformed != 0 {
		b.Fatalf("%d malformed lines in the benchmark corpus", sink.malformed)
	}
}

// BenchmarkParseText measures text records with tracebacks.
func BenchmarkParseText(b *testing.B) {
	var buf bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&buf, "2025-03-14 09:26:53,%03d - candy_cadence.db - ERROR - query %d failed\n", i%1000, i)
		buf.WriteString("Traceback (most recent call last):\n  File \"src/core/database.py\", line 88, in execute\n    cur.execute(sql)\nsqlite3.OperationalError: database is locked\n")
		fmt.Fprintf(&buf, "[2025-03-14 09:26:54] INFO | search | Search completed in 0.%03ds: 3 results\n", i%1000)
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	var s Stream
	var sink countingSink
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			s.Line(l, &sink)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(lines))/b.Elapsed().Seconds(), "lines/s")
}
