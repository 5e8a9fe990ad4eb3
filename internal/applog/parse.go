package applog

import (
	"bytes"
	"math"
)

// LineKind says what a line is on its own, before the lines around it are known.
type LineKind uint8

// The kinds of line.
const (
	LineBlank LineKind = iota // empty or white space only
	LineJSON                  // a complete JSON record
	LineText                  // the header line of a text record
	LineOther                 // neither: a continuation of a text record, or malformed
)

// MaxTypeLen bounds an error type's name; a longer one is not taken as a class name.
const MaxTypeLen = 128

// ParseLine parses one line without its line ending into r, which it resets first. For
// LineText the record may still gain an error type from the lines that follow (see Stream).
func ParseLine(line []byte, r *Record) LineKind {
	*r = Record{}
	line = trimLine(line)
	if len(line) == 0 {
		return LineBlank
	}
	if line[0] == '{' {
		if parseJSON(line, r) {
			return LineJSON
		}
		*r = Record{}
		return LineOther
	}
	if msg, ok := parseTextHeader(line, r); ok {
		analyseMessage(msg, r, false)
		r.Error = isErrorLevel(r.Level) && !isCompanion(msg)
		if r.Error {
			if t, ok := errorPrefixType(msg); ok {
				setErrorType(r, t)
			}
		}
		return LineText
	}
	return LineOther
}

// trimLine drops a carriage return (Windows line ending), a UTF-8 byte order mark and
// trailing white space.
func trimLine(line []byte) []byte {
	line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
	for len(line) > 0 && isSpace(line[len(line)-1]) {
		line = line[:len(line)-1]
	}
	return line
}

func isErrorLevel(l Level) bool { return l == LevelError || l == LevelCritical }

// parseJSON reads the members the metrics need from one JSON line.
func parseJSON(line []byte, r *Record) bool {
	s, ok := newObjectScanner(line)
	if !ok {
		return false
	}
	var (
		message, operation            []byte
		haveMessage, haveOperation    bool
		excType, customType, hookType []byte
		duration                      float64
		haveDuration                  bool
	)
	for {
		key, val, ok := s.next()
		if !ok {
			break
		}
		switch string(key) {
		case "level", "levelname":
			if v, ok := stringValue(val); ok {
				r.Level = parseLevel(v)
			}
		case "message", "msg":
			message, haveMessage = stringValue(val)
		case "operation":
			operation, haveOperation = stringValue(val)
		case "exception":
			excType = exceptionType(val)
		case "custom_error_type":
			customType, _ = stringValue(val)
		case "exception_type":
			hookType, _ = stringValue(val)
		case "process":
			if pid, ok := parseFloat(val); ok && pid > 0 && pid <= math.MaxInt32 && pid == math.Trunc(pid) {
				r.PID = int32(pid)
			}
		case "timestamp", "asctime":
			r.Timestamp, _ = stringValue(val)
		default:
			if d, ok := durationMember(key, val); ok {
				duration, haveDuration = d, true
			}
		}
	}
	if s.err || !s.rest() {
		return false
	}
	if haveOperation && len(operation) > 0 {
		applyOperation(operation, r)
		if haveDuration && duration >= 0 {
			r.Op, r.Duration = operationOf(operation), duration
		}
	}
	if haveMessage {
		analyseMessage(message, r, haveOperation)
	}
	r.Error = isErrorLevel(r.Level)
	if !r.Error {
		return true
	}
	// The most specific source first: the exception itself, then the type a decorated
	// function names, then the global hook's.
	for _, t := range [...][]byte{excType, customType, hookType} {
		if len(t) > 0 {
			setErrorType(r, t)
			break
		}
	}
	return true
}

// exceptionType returns the "type" member of an "exception" object.
func exceptionType(v []byte) []byte {
	s, ok := newObjectScanner(v)
	if !ok {
		return nil
	}
	for {
		key, val, ok := s.next()
		if !ok {
			return nil
		}
		if string(key) == "type" {
			t, _ := stringValue(val)
			return t
		}
	}
}

// durationMember recognises the members in which records carry a duration.
func durationMember(key, val []byte) (float64, bool) {
	scale := 0.0
	switch string(key) {
	case "duration", "duration_s", "duration_seconds", "elapsed", "elapsed_seconds", "elapsed_time",
		"execution_time", "load_time", "parse_time", "time_taken", "response_time":
		scale = 1
	case "duration_ms", "elapsed_ms", "execution_time_ms", "load_time_ms", "parse_time_ms", "time_ms":
		scale = 1e-3
	default:
		return 0, false
	}
	f, ok := numberValue(val)
	if !ok || f != f || f < 0 || f > 1e9 { // NaN, negative and absurd values are not durations
		return 0, false
	}
	return f * scale, true
}

// applyOperation records what an operation name says besides its duration.
func applyOperation(op []byte, r *Record) {
	switch string(op) {
	case "parse_success":
		r.ModelLoad = ModelLoadParse
	case "cache_hit":
		r.ModelLoad = ModelLoadCache
		r.Cache = CacheModelHit
	}
}

// operationOf maps the application's operation names onto the bounded set.
func operationOf(op []byte) Operation {
	switch {
	case bytes.HasPrefix(op, []byte("search")):
		return OpSearch
	case bytes.HasPrefix(op, []byte("pars")):
		return OpParse
	case string(op) == "cache_hit" || bytes.HasPrefix(op, []byte("cache_load")) || string(op) == "load_from_cache":
		return OpCacheLoad
	case bytes.HasPrefix(op, []byte("window")):
		return OpWindowInit
	case bytes.HasPrefix(op, []byte("init")) || bytes.HasSuffix(op, []byte("_init")):
		return OpInit
	case bytes.HasPrefix(op, []byte("thumbnail")):
		return OpThumbnail
	case bytes.HasPrefix(op, []byte("database")) || bytes.HasPrefix(op, []byte("db_")) || bytes.HasPrefix(op, []byte("query")):
		return OpDatabase
	}
	return OpOther
}

var (
	searchPrefix      = []byte("Search completed in ")
	initializedInfix  = []byte(" initialized in ")
	windowPrefix      = []byte("Window geometry")
	cacheMemoryPrefix = []byte("Cache hit (memory)")
	cacheDiskPrefix   = []byte("Cache hit (disk)")
	cacheMissPrefix   = []byte("Cache miss")
	parsedPrefix      = []byte("Successfully parsed ")
	loadedPrefix      = []byte("Loaded ")
	fromCacheSuffix   = []byte(" from cache")
	perfAlert         = []byte("PERFORMANCE ALERT:")
	errorPrefix       = []byte("Error: ")
	contextPrefix     = []byte("Context: ")
	alertPrefix       = []byte("ALERT: ")
)

// analyseMessage finds the measurements a message carries. haveOperation is set when the
// record already named its operation, so that a model load is not counted twice.
func analyseMessage(msg []byte, r *Record, haveOperation bool) {
	if len(msg) == 0 {
		return
	}
	switch msg[0] {
	case 'S':
		if bytes.HasPrefix(msg, searchPrefix) {
			if d, ok := durationAt(msg[len(searchPrefix):]); ok && r.Op == OpNone {
				r.Op, r.Duration = OpSearch, d
			}
			return
		}
		if !haveOperation && bytes.HasPrefix(msg, parsedPrefix) {
			r.ModelLoad = ModelLoadParse
			return
		}
	case 'C':
		switch {
		case bytes.HasPrefix(msg, cacheMemoryPrefix):
			r.Cache = CacheMemoryHit
			return
		case bytes.HasPrefix(msg, cacheDiskPrefix):
			r.Cache = CacheDiskHit
			return
		case bytes.HasPrefix(msg, cacheMissPrefix):
			r.Cache = CacheMiss
			return
		}
	case 'A':
		r.AppClose = isAppClose(msg)
		return
	case 'L':
		if !haveOperation && bytes.HasPrefix(msg, loadedPrefix) && bytes.Contains(msg, fromCacheSuffix) {
			r.ModelLoad, r.Cache = ModelLoadCache, CacheModelHit
			return
		}
	}
	if bytes.Contains(msg[:min(len(msg), 64)], perfAlert) {
		r.PerfAlert = true
		return
	}
	if i := bytes.Index(msg, initializedInfix); i > 0 && r.Op == OpNone {
		if d, ok := durationAt(msg[i+len(initializedInfix):]); ok {
			r.Op, r.Duration = OpInit, d
			if bytes.HasPrefix(msg, windowPrefix) {
				r.Op = OpWindowInit
			}
		}
	}
}

var appClosePrefix = []byte("Application clos")

// isAppClose recognises "Application closing" and "Application closed", alone or followed by
// more words, but not "Application closes ..." or other words that begin the same.
func isAppClose(msg []byte) bool {
	rest, ok := bytes.CutPrefix(msg, appClosePrefix)
	if !ok {
		return false
	}
	for _, end := range [...]string{"ing", "ed"} {
		if tail, ok := bytes.CutPrefix(rest, []byte(end)); ok {
			return len(tail) == 0 || !isWordByte(tail[0])
		}
	}
	return false
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// durationAt parses "0.123s", "412ms" or "1.5 seconds" at the start of b.
func durationAt(b []byte) (float64, bool) {
	end, ok := scanNumber(b, 0)
	if !ok {
		return 0, false
	}
	f, ok := parseFloat(b[:end])
	if !ok || f != f || f < 0 {
		return 0, false
	}
	unit := b[end:]
	switch {
	case bytes.HasPrefix(unit, []byte("ms")):
		return f / 1e3, true
	case bytes.HasPrefix(unit, []byte("s")), bytes.HasPrefix(unit, []byte(" s")):
		return f, true
	}
	return 0, false
}

// isCompanion reports the lines the manual's error monitor writes beside an error it has
// already logged: its context, and its own alerts about error patterns.
func isCompanion(msg []byte) bool {
	return bytes.HasPrefix(msg, contextPrefix) || bytes.HasPrefix(msg, alertPrefix)
}

// errorPrefixType reads the type in the manual's "Error: <Type> - <message>".
func errorPrefixType(msg []byte) ([]byte, bool) {
	if !bytes.HasPrefix(msg, errorPrefix) {
		return nil, false
	}
	rest := msg[len(errorPrefix):]
	if i := bytes.Index(rest, []byte(" - ")); i >= 0 {
		rest = rest[:i]
	}
	return rest, len(rest) > 0
}

// setErrorType stores the class name of t in r, and reports whether t was one. A name that
// is not a Python identifier sets BadErrorType instead, so that it never becomes a label.
func setErrorType(r *Record, t []byte) bool {
	name, ok := className(t)
	if !ok {
		r.BadErrorType = true
		return false
	}
	r.ErrorType = name
	return true
}

// className returns the last dotted component of a Python class name ("sqlite3.OperationalError"
// -> "OperationalError"), and false for anything that is not a dotted identifier.
func className(t []byte) ([]byte, bool) {
	t = bytes.TrimSpace(t)
	if len(t) == 0 || len(t) > MaxTypeLen {
		return nil, false
	}
	start := 0
	for i, c := range t {
		switch {
		case c == '.':
			if i == start || i == len(t)-1 {
				return nil, false
			}
			start = i + 1
		case c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'):
		case c >= '0' && c <= '9':
			if i == start {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return t[start:], true
}

// parseLevel maps a level name onto the bounded set, ignoring case and padding.
func parseLevel(b []byte) Level {
	b = bytes.TrimSpace(b)
	switch len(b) {
	case 4:
		if equalFold(b, "INFO") {
			return LevelInfo
		}
		if equalFold(b, "WARN") {
			return LevelWarning
		}
	case 5:
		if equalFold(b, "DEBUG") {
			return LevelDebug
		}
		if equalFold(b, "ERROR") {
			return LevelError
		}
		if equalFold(b, "FATAL") {
			return LevelCritical
		}
	case 7:
		if equalFold(b, "WARNING") {
			return LevelWarning
		}
	case 8:
		if equalFold(b, "CRITICAL") {
			return LevelCritical
		}
	}
	return LevelOther
}

// equalFold compares b with the upper-case ASCII word w, ignoring case.
func equalFold(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
