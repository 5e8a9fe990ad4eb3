package tailer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inotifySource reads inotify itself rather than through fsnotify, for two reasons. It must
// see close-write events, which tell that the application closed a log file, so that its next
// write to the name is known to come through a new open (with mode 'w', a new incarnation).
// And the tailer must be able to ask, right after a read, for every event the kernel has queued
// up to that moment (take reads the descriptor until it is empty): that is how a read that
// raced with a reopen is told apart from one that did not.
type inotifySource struct {
	log     *slog.Logger
	fd      int
	file    *os.File // the descriptor in Go's network poller, which wakes the waiting goroutine
	readyC  chan struct{}
	resumeC chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
	dirs    map[int32]string // watch descriptor -> directory
	byDir   map[string]int32
	failed  map[string]bool // directories that could not be watched, logged once
	buf     []byte
}

const inotifyMask = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_DELETE |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

func newEventSource(logger *slog.Logger) (eventSource, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	s := &inotifySource{
		log: logger, fd: fd, file: os.NewFile(uintptr(fd), "inotify"),
		readyC: make(chan struct{}), resumeC: make(chan struct{}), done: make(chan struct{}),
		dirs: map[int32]string{}, byDir: map[string]int32{}, failed: map[string]bool{},
		buf: make([]byte, 64<<10),
	}
	conn, err := s.file.SyscallConn()
	if err != nil {
		s.file.Close()
		return nil, fmt.Errorf("inotify: %w", err)
	}
	s.wg.Add(1)
	go s.wait(conn)
	return s, nil
}

// wait parks in Go's network poller until events are queued (without reading them), announces
// them, and waits until the tailer has taken them before it waits again.
func (s *inotifySource) wait(conn syscall.RawConn) {
	defer s.wg.Done()
	queued := func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, _ := unix.Poll(fds, 0)
		return n > 0
	}
	for {
		if err := conn.Read(queued); err != nil {
			return // closed
		}
		select {
		case s.readyC <- struct{}{}:
		case <-s.done:
			return
		}
		select {
		case <-s.resumeC:
		case <-s.done:
			return
		}
	}
}

func (s *inotifySource) ready() <-chan struct{} { return s.readyC }

func (s *inotifySource) resume() {
	select {
	case s.resumeC <- struct{}{}:
	case <-s.done:
	}
}

func (s *inotifySource) watch(dirs []string) {
	for _, d := range dirs {
		if _, ok := s.byDir[d]; ok {
			continue
		}
		wd, err := unix.InotifyAddWatch(s.fd, d, inotifyMask)
		if err != nil {
			if !s.failed[d] && !errors.Is(err, unix.ENOENT) {
				s.log.Warn("log directory cannot be watched; it is polled", "dir", d, "err", err)
			}
			s.failed[d] = true
			continue
		}
		delete(s.failed, d)
		s.dirs[int32(wd)] = d
		s.byDir[d] = int32(wd)
		s.log.Debug("watching log directory for file events", "dir", d)
	}
}

// take reads every event queued now.
func (s *inotifySource) take(apply func(fileEvent)) {
	for {
		n, err := unix.Read(s.fd, s.buf)
		if err != nil {
			if !errors.Is(err, unix.EINTR) {
				return // EAGAIN: nothing more queued
			}
			continue
		}
		if n <= 0 {
			return
		}
		s.parse(s.buf[:n], apply)
	}
}

func (s *inotifySource) parse(b []byte, apply func(fileEvent)) {
	for len(b) >= unix.SizeofInotifyEvent {
		raw := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := unix.SizeofInotifyEvent + int(raw.Len)
		if end > len(b) {
			return
		}
		name := b[unix.SizeofInotifyEvent:end]
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		mask := raw.Mask
		wd := raw.Wd
		b = b[end:]
		if mask&unix.IN_Q_OVERFLOW != 0 {
			apply(fileEvent{op: evRescan})
			continue
		}
		dir, ok := s.dirs[wd]
		if !ok {
			continue
		}
		if mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 {
			if mask&unix.IN_IGNORED != 0 {
				delete(s.dirs, wd)
				delete(s.byDir, dir)
			}
			apply(fileEvent{op: evRescan})
			continue
		}
		if mask&unix.IN_ISDIR != 0 || len(name) == 0 {
			continue
		}
		path := filepath.Join(dir, string(name))
		switch {
		case mask&unix.IN_CREATE != 0:
			apply(fileEvent{path: path, op: evCreate, fresh: true})
		case mask&unix.IN_MOVED_TO != 0:
			apply(fileEvent{path: path, op: evCreate})
		case mask&unix.IN_MODIFY != 0:
			apply(fileEvent{path: path, op: evWrite})
		case mask&unix.IN_CLOSE_WRITE != 0:
			apply(fileEvent{path: path, op: evCloseWrite})
		case mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0:
			apply(fileEvent{path: path, op: evGone})
		}
	}
}

func (s *inotifySource) close() {
	close(s.done)
	s.file.Close() // wakes the waiting goroutine with an error
	s.wg.Wait()
}
