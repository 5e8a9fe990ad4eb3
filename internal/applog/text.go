package applog

import "bytes"

var (
	dashSep = []byte(" - ")
	pipeSep = []byte(" | ")
)

// parseTextHeader recognises the header line of a text record and returns its message.
//
//	2024-01-15 10:30:45,123 - candy_cadence.ui - ERROR - message   (Python's default layout)
//	2024-01-15 10:30:45,123 - ERROR - message                      (the manual's error_monitor.log)
//	[2024-01-15 10:30:45] ERROR | candy_cadence.ui | message
func parseTextHeader(line []byte, r *Record) ([]byte, bool) {
	if line[0] == '[' {
		return parseBracketHeader(line, r)
	}
	i, ok := dateTimeAt(line, 0)
	if !ok || !bytes.HasPrefix(line[i:], dashSep) {
		return nil, false
	}
	rest := line[i+len(dashSep):]
	first, after, found := cutField(rest, dashSep)
	if l := parseLevel(first); l != LevelOther {
		r.Level = l
		return after, true
	}
	if !found {
		return nil, false
	}
	// first was the logger's name; the level follows.
	level, msg, _ := cutField(after, dashSep)
	if len(bytes.TrimSpace(level)) == 0 {
		return nil, false
	}
	r.Level = parseLevel(level)
	return msg, true
}

func parseBracketHeader(line []byte, r *Record) ([]byte, bool) {
	i, ok := dateTimeAt(line, 1)
	if !ok || i+1 >= len(line) || line[i] != ']' || line[i+1] != ' ' {
		return nil, false
	}
	level, rest, found := cutField(line[i+2:], pipeSep)
	if !found || len(bytes.TrimSpace(level)) == 0 {
		return nil, false
	}
	r.Level = parseLevel(level)
	_, msg, _ := cutField(rest, pipeSep)
	return msg, true
}

// cutField splits b at the first sep. A trailing separator without its space (the message
// was empty and the line's trailing space was trimmed) also ends the field.
func cutField(b, sep []byte) (field, rest []byte, found bool) {
	if i := bytes.Index(b, sep); i >= 0 {
		return b[:i], b[i+len(sep):], true
	}
	if trimmed := sep[:len(sep)-1]; bytes.HasSuffix(b, trimmed) {
		return b[:len(b)-len(trimmed)], nil, true
	}
	return b, nil, false
}

// dateTimeAt matches "YYYY-mm-dd HH:MM:SS" (or with a T) at b[i:], followed by an optional
// fraction (",123" or ".123456"), and returns the index after it.
func dateTimeAt(b []byte, i int) (int, bool) {
	const layout = "dddd-dd-dd dd:dd:dd"
	if len(b)-i < len(layout) {
		return 0, false
	}
	for k := range len(layout) {
		c := b[i+k]
		switch layout[k] {
		case 'd':
			if c < '0' || c > '9' {
				return 0, false
			}
		case ' ':
			if c != ' ' && c != 'T' {
				return 0, false
			}
		default:
			if c != layout[k] {
				return 0, false
			}
		}
	}
	i += len(layout)
	if i < len(b) && (b[i] == ',' || b[i] == '.') {
		j := i + 1
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j > i+1 {
			i = j
		}
	}
	return i, true
}
