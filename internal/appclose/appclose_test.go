package appclose

import (
	"sync"
	"testing"
	"time"
)

func TestClosedMatchesByPIDAndTime(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	l := NewLog()
	l.Add(Notice{PID: 42, At: t0.Add(10 * time.Second)})
	exit := Exit{PIDs: []int32{40, 42}, Since: t0, LastSeen: t0.Add(20 * time.Second), Gone: t0.Add(21 * time.Second)}
	if !l.Closed(exit, exit.Gone.Add(5*time.Second)) {
		t.Error("a record of the instance's child was not taken as its close")
	}
	other := exit
	other.PIDs = []int32{7}
	if l.Closed(other, exit.Gone.Add(5*time.Second)) {
		t.Error("a record of another process was taken as this one's close")
	}
	earlier := exit
	earlier.Since = t0.Add(11 * time.Second) // the same PID, a later process
	if l.Closed(earlier, exit.Gone.Add(5*time.Second)) {
		t.Error("a record written before the process began was taken as its close")
	}
	if l.Closed(exit, t0.Add(9*time.Second)) {
		t.Error("a record after the end of the grace period was taken")
	}
}

func TestClosedWithoutPID(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	l := NewLog()
	l.Add(Notice{At: t0})
	exit := Exit{PIDs: []int32{5}, Since: t0.Add(-time.Hour), LastSeen: t0.Add(30 * time.Second), Gone: t0.Add(31 * time.Second)}
	if !l.Closed(exit, exit.Gone.Add(5*time.Second)) {
		t.Error("a record without PID half a minute before the exit was not taken")
	}
	late := exit
	late.LastSeen = t0.Add(PIDlessWindow + time.Second)
	if l.Closed(late, late.LastSeen.Add(5*time.Second)) {
		t.Error("a record without PID long before the exit was taken")
	}
}

func TestLogIsBoundedAndNilSafe(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	l := NewLog()
	for i := range 3 * maxNotices {
		l.Add(Notice{PID: int32(i + 1), At: t0})
	}
	if len(l.notices) != maxNotices {
		t.Fatalf("%d notices kept, want %d", len(l.notices), maxNotices)
	}
	exit := Exit{PIDs: []int32{1}, Since: t0, LastSeen: t0, Gone: t0}
	if l.Closed(exit, t0) {
		t.Error("the oldest notice survived past the bound")
	}
	exit.PIDs = []int32{3 * maxNotices}
	if !l.Closed(exit, t0) {
		t.Error("the newest notice was lost")
	}
	var none *Log
	none.Add(Notice{PID: 1, At: t0})
	if none.Following() || none.Closed(exit, t0) {
		t.Error("a nil Log claims to know something")
	}
}

func TestFollowing(t *testing.T) {
	l := NewLog()
	if l.Following() {
		t.Fatal("following before anything follows")
	}
	var mu sync.Mutex
	files := 0
	l.Follow(func() bool { mu.Lock(); defer mu.Unlock(); return files > 0 })
	if l.Following() {
		t.Fatal("following with no file")
	}
	mu.Lock()
	files = 1
	mu.Unlock()
	if !l.Following() {
		t.Fatal("not following with a file")
	}
}
