package tailer

import (
	"context"
	"errors"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Run follows the files until ctx is done, then closes them. It polls every PollInterval and,
// with FileEvents, reads a file as soon as the system says it changed.
func (t *Tailer) Run(ctx context.Context) {
	defer t.Close()
	t.Poll()
	w := t.newWatcher()
	defer w.close()
	ticker := time.NewTicker(t.cfg.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			w.addDirs()
			t.Poll()
		case ev, ok := <-w.events():
			if !ok {
				w.disable("file event channel closed")
				continue
			}
			t.handleEvents(ev, w)
		case err, ok := <-w.errors():
			if !ok {
				w.disable("file event error channel closed")
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				t.log.Debug("file events overflowed; scanning", "err", err)
			} else {
				t.log.Warn("file events failed; scanning", "err", err)
			}
			t.Poll()
		}
	}
}

// handleEvents takes the first event and every event already queued behind it, so that a
// burst of writes becomes one read per file.
func (t *Tailer) handleEvents(first fsnotify.Event, w *watcher) {
	written := map[string]struct{}{}
	scan := false
	note := func(ev fsnotify.Event) {
		if ev.Op.Has(fsnotify.Write) && !ev.Op.Has(fsnotify.Create|fsnotify.Remove|fsnotify.Rename) {
			written[ev.Name] = struct{}{}
			return
		}
		if ev.Op.Has(fsnotify.Create) || ev.Op.Has(fsnotify.Remove) || ev.Op.Has(fsnotify.Rename) {
			scan = scan || t.matches(ev.Name) || t.byPath[ev.Name] != nil
		}
	}
	note(first)
	for range 4096 {
		select {
		case ev, ok := <-w.events():
			if !ok {
				return
			}
			note(ev)
			continue
		default:
		}
		break
	}
	if scan {
		t.Poll()
		return
	}
	for path := range written {
		t.readPath(path)
	}
}

// watcher wraps fsnotify; a nil *fsnotify.Watcher means polling only.
type watcher struct {
	t       *Tailer
	w       *fsnotify.Watcher
	dirs    []string
	watched map[string]bool
}

func (t *Tailer) newWatcher() *watcher {
	w := &watcher{t: t, watched: map[string]bool{}}
	if !t.cfg.FileEvents {
		return w
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		t.log.Warn("file events unavailable; polling only", "poll_interval", t.cfg.PollInterval, "err", err)
		return w
	}
	w.w = fw
	for _, d := range t.dirs { // directories named by a pattern of their own are left to polling
		w.dirs = append(w.dirs, d.dir)
	}
	w.addDirs()
	return w
}

// addDirs watches the directories that exist and are not watched yet; a directory that
// appears later (the application's first start) is picked up at the next poll.
func (w *watcher) addDirs() {
	if w.w == nil {
		return
	}
	current := map[string]bool{}
	for _, d := range w.w.WatchList() {
		current[d] = true
	}
	for _, d := range w.dirs {
		if current[d] {
			continue
		}
		if err := w.w.Add(d); err != nil {
			if w.watched[d] {
				w.t.log.Debug("log directory no longer watched", "dir", d, "err", err)
			}
			w.watched[d] = false
			continue
		}
		w.watched[d] = true
		w.t.log.Debug("watching log directory for file events", "dir", d)
	}
}

func (w *watcher) events() <-chan fsnotify.Event {
	if w.w == nil {
		return nil
	}
	return w.w.Events
}

func (w *watcher) errors() <-chan error {
	if w.w == nil {
		return nil
	}
	return w.w.Errors
}

func (w *watcher) disable(why string) {
	w.t.log.Warn("file events stopped; polling only", "reason", why)
	w.close()
}

func (w *watcher) close() {
	if w.w != nil {
		w.w.Close()
		w.w = nil
	}
}
