//go:build !linux

package tailer

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// fsnotifySource adapts fsnotify where inotify is not available. It does not report when a
// writer closes a file, so reopens are noticed by content alone.
type fsnotifySource struct {
	log    *slog.Logger
	w      *fsnotify.Watcher
	mu     sync.Mutex
	queue  []fileEvent
	readyC chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup
	failed map[string]bool
}

func newEventSource(logger *slog.Logger) (eventSource, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	s := &fsnotifySource{log: logger, w: w, readyC: make(chan struct{}, 1), done: make(chan struct{}), failed: map[string]bool{}}
	s.wg.Add(1)
	go s.forward()
	return s, nil
}

// forward moves fsnotify's events into the queue that take empties.
func (s *fsnotifySource) forward() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case ev, ok := <-s.w.Events:
			if !ok {
				s.push(fileEvent{op: evRescan})
				return
			}
			s.push(convert(ev))
		case err, ok := <-s.w.Errors:
			if !ok {
				return
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				s.log.Warn("file events failed; scanning", "err", err)
			}
			s.push(fileEvent{op: evRescan})
		}
	}
}

func convert(ev fsnotify.Event) fileEvent {
	switch {
	case ev.Op.Has(fsnotify.Create):
		return fileEvent{path: ev.Name, op: evCreate}
	case ev.Op.Has(fsnotify.Remove), ev.Op.Has(fsnotify.Rename):
		return fileEvent{path: ev.Name, op: evGone}
	case ev.Op.Has(fsnotify.Write):
		return fileEvent{path: ev.Name, op: evWrite}
	}
	return fileEvent{path: ev.Name, op: evWrite} // attribute changes: a read finds nothing new
}

func (s *fsnotifySource) push(ev fileEvent) {
	s.mu.Lock()
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.readyC <- struct{}{}:
	default:
	}
}

func (s *fsnotifySource) ready() <-chan struct{} { return s.readyC }

func (s *fsnotifySource) resume() {}

func (s *fsnotifySource) take(apply func(fileEvent)) {
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	for _, ev := range q {
		apply(ev)
	}
}

func (s *fsnotifySource) watch(dirs []string) {
	current := map[string]bool{}
	for _, d := range s.w.WatchList() {
		current[d] = true
	}
	for _, d := range dirs {
		if current[d] {
			continue
		}
		if err := s.w.Add(d); err != nil {
			s.failed[d] = true
			continue
		}
		delete(s.failed, d)
		s.log.Debug("watching log directory for file events", "dir", d)
	}
}

func (s *fsnotifySource) close() {
	close(s.done)
	s.w.Close()
	s.wg.Wait()
}
