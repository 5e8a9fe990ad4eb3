// Package appclose carries the application's own word that it is closing cleanly, from the
// logs collector that reads it to the process collector that decides how each exit ended.
//
// The application logs "Application closing" when its main window starts closing and
// "Application closed" at the end of a clean close. An exit without either record is a crash,
// but only a reader that follows the application's logs can say so: Following tells whether
// one does.
package appclose

import (
	"sync"
	"time"
)

// maxNotices bounds the memory whatever the logs contain: a close writes two records, so this
// holds the last 64 closes, far more than can happen within one grace period.
const maxNotices = 128

// Notice is one close record.
type Notice struct {
	// PID is the process that wrote the record (its `process` member); 0 when the record does
	// not say (the text formats).
	PID int32
	// At is the record's own time when it has one, else when the exporter read it.
	At time.Time
}

// Log holds the latest close records. It is safe for concurrent use; the zero value is not
// ready, use NewLog.
type Log struct {
	mu        sync.Mutex
	notices   []Notice // a ring of at most maxNotices, oldest overwritten first
	next      int
	following func() bool
}

// NewLog returns an empty Log that follows no logs until Follow is called.
func NewLog() *Log {
	return &Log{notices: make([]Notice, 0, maxNotices)}
}

// Add records a close record.
func (l *Log) Add(n Notice) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.notices) < maxNotices {
		l.notices = append(l.notices, n)
		return
	}
	l.notices[l.next] = n
	l.next = (l.next + 1) % maxNotices
}

// Follow sets the function that tells whether the application's logs are being followed now
// (the logs collector follows at least one file).
func (l *Log) Follow(following func() bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.following = following
}

// Following reports whether a missing close record means anything: false when nothing
// follows the application's logs (the logs collector is disabled or has no file).
func (l *Log) Following() bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	f := l.following
	l.mu.Unlock()
	return f != nil && f()
}

// Exit describes one exit of an application instance, for Closed.
type Exit struct {
	// PIDs are the instance's process and the application processes it started: the record
	// may come from any of them (a launcher and the Python process it runs).
	PIDs []int32
	// Since is the earliest time a record of this instance can carry: a record of the same PID
	// before it belongs to an earlier process.
	Since time.Time
	// LastSeen is the last time the instance was seen running, Gone when it was seen gone.
	LastSeen, Gone time.Time
}

// PIDlessWindow is how long before its exit a close record without a PID may have been
// written: the application closes its library and saves its settings between the two.
const PIDlessWindow = time.Minute

// Closed reports whether a close record belongs to the exit: one written by one of its
// processes since it began, or, for a record without a PID, one written between
// PIDlessWindow before it was last seen running and until (the end of the grace period).
func (l *Log) Closed(e Exit, until time.Time) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.notices {
		if n.At.Before(e.Since) || n.At.After(until) {
			continue
		}
		if n.PID == 0 {
			if !n.At.Before(e.LastSeen.Add(-PIDlessWindow)) {
				return true
			}
			continue
		}
		for _, pid := range e.PIDs {
			if n.PID == pid {
				return true
			}
		}
	}
	return false
}
