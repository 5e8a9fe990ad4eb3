package applog

import "bytes"

// Sink receives what a Stream makes of its lines. The Record is valid only during the call.
type Sink interface {
	Record(r *Record)
	Malformed()
}

// Stream turns the lines of one file into records. A JSON record is complete on its line; a
// text record stays pending while lines without a header (a traceback) follow it, and is sent
// when the next record starts or Flush is called. The zero Stream is ready to use.
type Stream struct {
	cur      Record // the line being parsed
	out      Record // the pending record while it is sent
	pending  Record
	has      bool
	typeBuf  [MaxTypeLen]byte
	explicit bool // the pending record's type came from its message, which a traceback does not override
	tb       tracebackState
}

type tracebackState uint8

const (
	tbNone   tracebackState = iota
	tbFrames                // after "Traceback (most recent call last):", in the indented frames
	tbDone                  // the exception line has been read
)

var tracebackHeader = []byte("Traceback (most recent call last):")

// Line processes one line without its line ending.
func (s *Stream) Line(line []byte, sink Sink) {
	switch ParseLine(line, &s.cur) {
	case LineBlank:
	case LineJSON:
		s.Flush(sink)
		sink.Record(&s.cur)
	case LineText:
		s.Flush(sink)
		s.pending = s.cur
		s.pending.ErrorType = s.typeBuf[:copy(s.typeBuf[:], s.cur.ErrorType)]
		s.explicit = len(s.cur.ErrorType) > 0
		s.tb = tbNone
		s.has = true
	default:
		if !s.has {
			sink.Malformed()
			return
		}
		s.continuation(trimLine(line))
	}
}

// Pending reports whether a text record waits for more lines.
func (s *Stream) Pending() bool { return s.has }

// Flush sends the pending text record, if any.
func (s *Stream) Flush(sink Sink) {
	if !s.has {
		return
	}
	s.has = false
	s.out = s.pending
	sink.Record(&s.out)
}

// continuation reads a traceback line of the pending record: the first unindented line after
// the frames names the exception. A chained exception starts a new traceback, whose exception
// is the one finally raised.
func (s *Stream) continuation(line []byte) {
	if bytes.HasPrefix(line, tracebackHeader) {
		s.tb = tbFrames
		return
	}
	if s.tb != tbFrames || len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return
	}
	s.tb = tbDone
	if s.explicit || !s.pending.Error {
		return
	}
	name := line
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name = line[:i]
	}
	if t, ok := className(name); ok {
		s.pending.ErrorType = s.typeBuf[:copy(s.typeBuf[:], t)]
		s.pending.BadErrorType = false
	}
}
