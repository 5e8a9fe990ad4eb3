// Package applog parses the lines the Candy-Cadence application writes to its logs into small
// records: level, error type, timed operation, cache event, model load and performance alert.
//
// Three formats are recognised line by line: the application's JSON lines, Python's text format
// (`asctime - name - levelname - message` and the operations manual's
// `asctime - levelname - message`), and `[YYYY-mm-dd HH:MM:SS] LEVEL | logger | msg`. In the text
// formats the lines that follow a record without a header of their own (a traceback) belong to
// that record; a Stream assembles them.
//
// Parsing allocates nothing on the hot path: a Record's byte slices point into the line (or into
// the Stream) and are valid only until the next call.
package applog

// Level is a record's severity, from a bounded set.
type Level uint8

// The levels, in Python's order. LevelOther covers custom and unrecognised level names.
const (
	LevelOther Level = iota
	LevelDebug
	LevelInfo
	LevelWarning
	LevelError
	LevelCritical
	NumLevels
)

var levelNames = [NumLevels]string{"other", "debug", "info", "warning", "error", "critical"}

// String returns the lower-case label value of the level.
func (l Level) String() string {
	if l >= NumLevels {
		return levelNames[LevelOther]
	}
	return levelNames[l]
}

// Operation is a timed operation, from a bounded set, so that it can be a label value.
type Operation uint8

// The operations. OpNone means the record carried no duration.
const (
	OpNone       Operation = iota
	OpSearch               // "Search completed in Xs", operation search*
	OpWindowInit           // "Window geometry initialized in Xs"
	OpInit                 // any other "... initialized in Xs"
	OpParse                // operation parse*, e.g. parse_success
	OpCacheLoad            // operation cache_hit / cache_load: a model loaded from the cache
	OpThumbnail            // operation thumbnail*
	OpDatabase             // operation database*, db_*, query*
	OpOther                // any other operation that carries a duration
	NumOperations
)

var operationNames = [NumOperations]string{"", "search", "window_init", "init", "parse", "cache_load", "thumbnail", "database", "other"}

// String returns the label value of the operation ("" for OpNone).
func (o Operation) String() string {
	if o >= NumOperations {
		return operationNames[OpOther]
	}
	return operationNames[o]
}

// CacheEvent is a cache lookup the record reports.
type CacheEvent uint8

// The cache events.
const (
	CacheNone      CacheEvent = iota
	CacheMemoryHit            // "Cache hit (memory): <path>"
	CacheDiskHit              // "Cache hit (disk): <path>"
	CacheMiss                 // "Cache miss: <path>": no tier had it
	CacheModelHit             // operation="cache_hit" / "Loaded <path> from cache": a model load served by the cache
	NumCacheEvents
)

// Tier and Result return the label values of a cache event.
func (c CacheEvent) Tier() string {
	switch c {
	case CacheMemoryHit:
		return "memory"
	case CacheDiskHit:
		return "disk"
	case CacheMiss:
		return "all"
	case CacheModelHit:
		return "model"
	}
	return ""
}

// Result is "hit" or "miss".
func (c CacheEvent) Result() string {
	switch c {
	case CacheMemoryHit, CacheDiskHit, CacheModelHit:
		return "hit"
	case CacheMiss:
		return "miss"
	}
	return ""
}

// ModelLoad says where a loaded model came from.
type ModelLoad uint8

// The model load sources.
const (
	ModelLoadNone  ModelLoad = iota
	ModelLoadParse           // operation="parse_success" / "Successfully parsed <path>"
	ModelLoadCache           // operation="cache_hit" / "Loaded <path> from cache"
	NumModelLoads
)

// String returns the label value of the source ("" for none).
func (m ModelLoad) String() string {
	switch m {
	case ModelLoadParse:
		return "parse"
	case ModelLoadCache:
		return "cache"
	}
	return ""
}

// Record is what one log record tells the metrics.
type Record struct {
	Level Level
	// Error is set for ERROR and CRITICAL records, except the companion lines the operations
	// manual's error monitor writes after an error ("Context: ...", "ALERT: ...").
	Error bool
	// ErrorType is the exception's class name (the last dotted component), empty when the record
	// names none. Valid until the next call that produced the record.
	ErrorType []byte
	// BadErrorType is set when the record named a type that is not a Python class name
	// (ErrorType then stays empty): counted as "other", never as a label of its own.
	BadErrorType bool
	// Op is the timed operation and Duration its length in seconds; OpNone when the record
	// carries no duration.
	Op        Operation
	Duration  float64
	Cache     CacheEvent
	ModelLoad ModelLoad
	PerfAlert bool // "PERFORMANCE ALERT:"
	// AppClose is set for "Application closing" and "Application closed" (the main window's
	// clean close); PID and Timestamp then tell which process wrote it and when.
	AppClose bool
	// PID is the record's `process` member, 0 when it has none (only JSON records carry it).
	PID int32
	// Timestamp is the raw `timestamp` member of a JSON record (local time, no zone), empty
	// without one. Valid until the next call that produced the record.
	Timestamp []byte
}
