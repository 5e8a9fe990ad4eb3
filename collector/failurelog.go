package collector

import (
	"context"
	"log/slog"
)

// FailureLog remembers the last failure of something checked again and again (a collector, a
// database read, a background refresh), so that a failure is logged when it starts or changes
// and a recovery when it ends; a failure that only repeats is logged at debug level.
// The zero value is ready; it is not safe for concurrent use.
type FailureLog struct{ last string }

// Update logs err at level with failMsg when it is new or differs from the last one, and okMsg
// at info level when err is nil after a failure.
func (f *FailureLog) Update(logger *slog.Logger, level slog.Level, failMsg, okMsg string, err error, attrs ...any) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	prev := f.last
	f.last = msg
	switch {
	case err != nil && msg != prev:
		logger.Log(context.Background(), level, failMsg, append(attrs, "err", err)...)
	case err != nil:
		logger.Debug(failMsg, append(attrs, "err", err)...)
	case prev != "":
		logger.Info(okMsg, attrs...)
	}
}
