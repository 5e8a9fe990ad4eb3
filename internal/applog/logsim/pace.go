package logsim

import (
	"math/rand/v2"
	"time"
)

// Pace is how the application logs while a user works: operations at a steady rate, each a
// run of DEBUG records written back to back, some ending with one INFO or ERROR record, and a
// pause until the next operation. Every change of level rotates the file, and the names have a
// resolution of one second, so an ERROR between two DEBUG runs makes the application reopen the
// first run's file with mode 'w' at the start of a later operation: the run stays on disk only
// for the pause between operations.
type Pace struct {
	OpsPerSecond float64
	// DebugPerOp is the shortest DEBUG run; runs alternate between it and one more.
	DebugPerOp int
	// ErrorChance and InfoChance are the chances that an operation ends with an ERROR (or INFO)
	// record; each such record makes two changes of level.
	ErrorChance, InfoChance float64
}

// NormalPace is the application's normal pace scaled to about recordsPerSecond records a
// second: at 100, about 20 operations a second, 110 DEBUG records, a few INFO and ERROR
// records (some with tracebacks) and 7 changes of level a second.
func NormalPace(recordsPerSecond int) Pace {
	const perOp = 5.5 + 0.175 // DEBUG records plus the chance of a closing record
	return Pace{
		OpsPerSecond: float64(recordsPerSecond) / perOp,
		DebugPerOp:   5,
		ErrorChance:  0.1,
		InfoChance:   0.075,
	}
}

// Written is one record the application wrote.
type Written struct {
	Seq   int
	Gen   int       // the file incarnation that holds it
	Level string    // as in the record
	At    time.Time // when its write returned
	Exp   Expect
}

// Run writes through w at the pace for d, with whole-second timestamps as the application's
// records have, and reports every record once its write returned. The seed fixes the sequence
// of levels. Between two operations there is always at least half the interval.
func (p Pace) Run(w *Writer, d time.Duration, seed uint64, wrote func(Written)) error {
	rng := rand.New(rand.NewPCG(seed, 15))
	interval := time.Duration(float64(time.Second) / p.OpsPerSecond)
	start := time.Now()
	next := start
	seq := 0
	for op := 0; ; op++ {
		if next.Sub(start) >= d {
			return nil
		}
		if wait := time.Until(next); wait > 0 {
			time.Sleep(wait)
		}
		for _, level := range p.op(rng, op) {
			line, exp := AppRecord(seq, level, time.Now())
			gen, err := w.Write(level, line)
			if err != nil {
				return err
			}
			wrote(Written{Seq: seq, Gen: gen, Level: level, At: time.Now(), Exp: exp})
			seq++
		}
		// Operations keep their schedule, but one delayed (the machine was busy) does not
		// make the next follow without a pause: a user's operations never come back to back.
		next = start.Add(time.Duration(op+1) * interval)
		if earliest := time.Now().Add(interval / 2); next.Before(earliest) {
			next = earliest
		}
	}
}

// op returns the levels of one operation's records.
func (p Pace) op(rng *rand.Rand, n int) []string {
	levels := make([]string, 0, p.DebugPerOp+2)
	for range p.DebugPerOp + n%2 {
		levels = append(levels, "DEBUG")
	}
	switch x := rng.Float64(); {
	case x < p.ErrorChance:
		levels = append(levels, "ERROR")
	case x < p.ErrorChance+p.InfoChance:
		levels = append(levels, "INFO")
	}
	return levels
}
