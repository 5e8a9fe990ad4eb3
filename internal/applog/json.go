package applog

import (
	"bytes"
	"strconv"
	"unsafe"
)

// A small JSON scanner: it checks a line's structure and hands out the raw bytes of the
// top-level values, without decoding what the metrics do not need. encoding/json would
// allocate for every line and is several times slower.

// maxJSONDepth bounds nesting; deeper lines are malformed rather than a stack risk.
const maxJSONDepth = 64

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanString returns the index just past the string starting at b[i] == '"'.
func scanString(b []byte, i int) (int, bool) {
	i++
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return 0, false
		}
		q := i + j
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for k := q - 1; k >= i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, true
		}
		i = q + 1
	}
}

func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

func scanNumber(b []byte, i int) (int, bool) {
	start := i
	for i < len(b) {
		c := b[i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			i++
			continue
		}
		break
	}
	return i, i > start
}

// scanValue returns the index just past the value starting at b[i].
func scanValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '{' || c == '[':
		return scanContainer(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 'N': // Python's json.dumps writes NaN for float('nan')
		return scanLiteral(b, i, "NaN")
	case c == 'I':
		return scanLiteral(b, i, "Infinity")
	}
	return 0, false
}

// scanContainer skips a nested object or array, checking that brackets balance. Values inside
// are not checked one by one: the metrics never look inside them except through objectScanner.
func scanContainer(b []byte, i int) (int, bool) {
	var stack [maxJSONDepth]byte
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			end, ok := scanString(b, i)
			if !ok {
				return 0, false
			}
			i = end
			continue
		case '{', '[':
			if depth == maxJSONDepth {
				return 0, false
			}
			stack[depth] = c + 2 // '{'+2 == '}', '['+2 == ']'
			depth++
		case '}', ']':
			if depth == 0 || stack[depth-1] != c {
				return 0, false
			}
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
		i++
	}
	return 0, false
}

// objectScanner walks the members of one JSON object.
type objectScanner struct {
	b       []byte
	i       int
	members int
	err     bool
}

// newObjectScanner starts on an object; ok is false when b does not start with '{'.
func newObjectScanner(b []byte) (objectScanner, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return objectScanner{}, false
	}
	return objectScanner{b: b, i: i + 1}, true
}

// next returns the next member's key (without quotes) and raw value. It returns ok false at
// the end of the object or on a syntax error (then s.err is set).
func (s *objectScanner) next() (key, value []byte, ok bool) {
	b := s.b
	i := skipSpace(b, s.i)
	if i >= len(b) {
		s.err = true
		return nil, nil, false
	}
	if b[i] == '}' {
		s.i = i + 1
		return nil, nil, false
	}
	if s.members > 0 {
		if b[i] != ',' {
			s.err = true
			return nil, nil, false
		}
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		s.err = true
		return nil, nil, false
	}
	kend, ok := scanString(b, i)
	if !ok {
		s.err = true
		return nil, nil, false
	}
	key = b[i+1 : kend-1]
	i = skipSpace(b, kend)
	if i >= len(b) || b[i] != ':' {
		s.err = true
		return nil, nil, false
	}
	i = skipSpace(b, i+1)
	vend, ok := scanValue(b, i)
	if !ok {
		s.err = true
		return nil, nil, false
	}
	value = b[i:vend]
	i = skipSpace(b, vend)
	if i >= len(b) || (b[i] != ',' && b[i] != '}') {
		s.err = true
		return nil, nil, false
	}
	s.i = i
	s.members++
	return key, value, true
}

// rest reports whether only white space follows the object.
func (s *objectScanner) rest() bool {
	return skipSpace(s.b, s.i) == len(s.b)
}

// stringValue returns the content of a JSON string value without its quotes, and false for
// any other kind of value. Escapes stay as they are: nothing the metrics match needs them.
func stringValue(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	return v[1 : len(v)-1], true
}

// parseFloat parses b without allocating for the string conversion.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	return f, err == nil
}

// numberValue returns a JSON number, or a string holding one, as a float.
func numberValue(v []byte) (float64, bool) {
	if s, ok := stringValue(v); ok {
		v = s
	}
	return parseFloat(v)
}
