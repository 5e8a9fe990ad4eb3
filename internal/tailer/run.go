package tailer

import (
	"context"
	"errors"
	"io/fs"
	"time"
)

// eventOp is what a file event says happened to a name in a watched directory.
type eventOp uint8

const (
	evCreate     eventOp = iota // a name appeared: a new file, or one renamed to it
	evWrite                     // a file was written (or truncated)
	evCloseWrite                // a writer closed a file it had open for writing
	evGone                      // a name went away: deleted, or renamed from
	evRescan                    // events were lost, or a watched directory changed: scan
)

// fileEvent is one file event.
type fileEvent struct {
	path string
	op   eventOp
	// fresh: the system says the file was created (not renamed to the name), so if it cannot
	// be found it vanished unread.
	fresh bool
}

// eventSource delivers file events. ready fires when events wait; take hands over every event
// waiting now, without blocking, in the order the system saw them; resume says the caller is
// done with what ready announced.
type eventSource interface {
	ready() <-chan struct{}
	take(func(fileEvent))
	resume()
	watch(dirs []string)
	close()
}

// Run follows the files until ctx is done, then closes them. It polls every PollInterval and,
// with FileEvents, reads a file as soon as the system says it changed.
func (t *Tailer) Run(ctx context.Context) {
	defer t.Close()
	var dirs []string
	for _, d := range t.dirs { // directories named by a pattern of their own are left to polling
		dirs = append(dirs, d.dir)
	}
	if t.cfg.FileEvents {
		src, err := newEventSource(t.log)
		if err != nil {
			t.log.Warn("file events unavailable; polling only", "poll_interval", t.cfg.PollInterval, "err", err)
		} else {
			// Watch before the first scan: what changes after it is then reported.
			src.watch(dirs)
			t.events = src
			defer func() { src.close(); t.events = nil }()
		}
	}
	t.scan()
	t.readPass() // the loop below reads the rest, slice by slice
	ticker := time.NewTicker(t.cfg.PollInterval)
	defer ticker.Stop()
	scanTimer := time.NewTimer(time.Hour)
	scanTimer.Stop()
	scanArmed := false
	var ready <-chan struct{}
	if t.events != nil {
		ready = t.events.ready()
	}
	for {
		// A file with data left gets its next slice once waiting events have been seen to.
		if len(t.toRead) > 0 {
			select {
			case <-ctx.Done():
				return
			default:
			}
			t.takeEvents()
			t.readPass()
			continue
		}
		if t.scanDue && !scanArmed {
			gap := max(minScanGap, 10*t.scanCost) - time.Since(t.lastScan)
			if gap <= 0 {
				t.scan()
				continue
			}
			scanTimer.Reset(gap)
			scanArmed = true
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if t.events != nil {
				t.events.watch(dirs) // a directory that appeared since (the application's first start)
			}
			// One slice per file here; the loop above gives the rest, minding ctx and events.
			t.takeEvents()
			t.scan()
			t.readPass()
			t.idle()
		case <-scanTimer.C:
			scanArmed = false
			if t.scanDue {
				t.scan()
			}
		case <-ready:
			t.takeEvents()
			t.readPass()
			t.events.resume()
		}
	}
}

// takeEvents applies every file event waiting now.
func (t *Tailer) takeEvents() {
	if t.events != nil {
		t.events.take(t.apply)
	}
}

// apply records what one event says. It starts new files and queues reads but reads nothing,
// so that every event waiting is known before a read is trusted; names going away and lost
// events ask for a scan, which is coalesced.
func (t *Tailer) apply(ev fileEvent) {
	switch ev.op {
	case evRescan:
		t.scanDue = true
	case evCreate:
		t.created(ev)
	case evGone:
		if t.byPath[ev.path] != nil || t.matches(ev.path) {
			t.scanDue = true
		}
	case evWrite:
		f := t.byPath[ev.path]
		if f == nil {
			if t.matches(ev.path) {
				t.scanDue = true // not followed: over the limit, unreadable, or its create was missed
			}
			return
		}
		if f.writerClosed && f.truncating {
			// Its writer opened it again, with mode 'w': a new incarnation, whatever it holds.
			f.writerClosed = false
			if f.reopened {
				if f.unreadWrite {
					t.stats.LostFiles.Add(1) // an incarnation between two reopens, never read
				}
			} else {
				f.oldUnread = f.unreadWrite
			}
			f.reopened = true
		}
		f.unreadWrite = true
		t.queue(f)
	case evCloseWrite:
		if f := t.byPath[ev.path]; f != nil {
			f.writerClosed = true
			f.tracked = true
			t.queue(f)
		}
	}
}

// created follows a file that appeared, or notes that a followed one was renamed to the name.
func (t *Tailer) created(ev fileEvent) {
	if !t.matches(ev.path) {
		return
	}
	id, err := identify(ev.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && ev.fresh {
			t.vanished(ev.path)
		} else {
			t.scanDue = true
		}
		return
	}
	if f := t.files[id]; f != nil {
		if ev.fresh {
			// A name created with the identity of a followed file: a followed file was deleted
			// with no handle kept and its inode went to a new file (or, never the application's
			// doing, a hard link was made). Writes after a create are not a reopen, whatever the
			// deleted file's writer did; the content check tells new content from old.
			f.writerClosed = false
		}
		t.rename(f, ev.path)
		t.queue(f)
		return
	}
	if len(t.files) >= t.cfg.MaxFiles {
		t.scanDue = true // the scan reports it
		return
	}
	f, err := t.start(id, ev.path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && ev.fresh:
		t.vanished(ev.path)
	case err != nil:
		t.scanDue = true // the scan reports it
	case f != nil:
		f.tracked = ev.fresh
		f.seen = t.gen
		t.queue(f)
		t.stats.Files.Store(int64(len(t.files)))
	}
}
