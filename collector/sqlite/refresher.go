package sqlite

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/sqlitero"
)

// refresher runs one expensive read of a database file in the background (row counts and
// aggregates, or the integrity check): at most one at a time, at most once per interval, and
// keeps the last result with the identity of the file it describes, so that a replaced file
// starts afresh. Its own mutex guards it; the background run takes no other lock.
type refresher[T any] struct {
	interval time.Duration // 0: never runs
	now      func() time.Time
	read     func(ctx context.Context, path string, id sqlitero.FileID) (T, error)
	// changed, when set, sees each new result beside the previous one (nil when none).
	changed func(path string, prev *T, cur T)

	bgCtx  context.Context // cancelled at shutdown; runs use it
	bg     *sync.WaitGroup
	logger *slog.Logger
	// failMsg and okMsg are the log lines of a run that fails and of the first that succeeds again.
	failMsg, okMsg string

	mu       sync.Mutex
	result   *T
	resultID sqlitero.FileID
	running  chan struct{} // closed when the current run has ended; nil while idle
	next     time.Time
	failures collector.FailureLog
}

// poll starts a run for the file path (identity id) when one is due and none is running, and
// returns the last result if it describes that file, and the current run's end (nil if none).
func (r *refresher[T]) poll(path string, id sqlitero.FileID) (*T, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.result != nil && r.resultID != id {
		r.result = nil // the database was replaced: its results are due at once
		r.next = time.Time{}
	}
	now := r.now()
	if r.interval > 0 && r.running == nil && !now.Before(r.next) {
		r.next = now.Add(r.interval)
		done := make(chan struct{})
		r.running = done
		r.bg.Go(func() { r.runOnce(path, id, done) })
	}
	return r.current(id), r.running
}

// current returns the last result if it describes the file id.
func (r *refresher[T]) current(id sqlitero.FileID) *T {
	if r.result != nil && r.resultID == id {
		return r.result
	}
	return nil
}

// resultFor returns the last result if it describes the file id, without starting a run.
func (r *refresher[T]) resultFor(id sqlitero.FileID) *T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current(id)
}

// retryPause is how long a failed background read waits before its second try.
const retryPause = 50 * time.Millisecond

func (r *refresher[T]) runOnce(path string, id sqlitero.FileID, done chan struct{}) {
	res, err := r.read(r.bgCtx, path, id)
	if err != nil && r.bgCtx.Err() == nil {
		// Once more after a pause before it counts: a reader of a live WAL database can fail
		// for a moment in ways SQLite does not mark as transient (a virtual table's own
		// read of its configuration, for one), and the next run may be an hour away.
		select {
		case <-r.bgCtx.Done():
		case <-time.After(retryPause):
			res, err = r.read(r.bgCtx, path, id)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer close(done)
	r.running = nil
	if r.bgCtx.Err() != nil {
		return // shutting down: not a failure worth a log line
	}
	attrs := []any{"path", path}
	if code := sqlitero.ErrorCode(err); code != 0 {
		attrs = append(attrs, "sqlite_code", code)
	}
	r.failures.Update(r.logger, slog.LevelWarn, r.failMsg, r.okMsg, err, attrs...)
	if err != nil {
		return
	}
	if r.changed != nil {
		r.changed(path, r.result, res)
	}
	r.result, r.resultID = &res, id
}
