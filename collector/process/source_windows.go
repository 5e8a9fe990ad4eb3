package process

import (
	"context"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// toolhelpSource lists processes with one Toolhelp snapshot, which names every process
// without opening it: protected processes and other users' processes are listed too.
//
// It also holds a handle to each application instance while it runs: the handle keeps the
// process object, and with it the exit code, after the exit, and keeps Windows from giving
// the PID to another process meanwhile. Only the collector calls it, under its lock.
type toolhelpSource struct {
	handles map[int32]windows.Handle
}

func newProcessSource() processSource {
	return &toolhelpSource{handles: make(map[int32]windows.Handle)}
}

func (s *toolhelpSource) List(ctx context.Context) ([]procRef, error) { return s.list(ctx, nil) }

func (s *toolhelpSource) Poll(ctx context.Context, known map[int32]procRef) ([]procRef, error) {
	return s.list(ctx, known)
}

// list takes the snapshot; the creation time, which needs the process opened, is read only
// for PIDs not in known under the same name and parent.
func (s *toolhelpSource) list(ctx context.Context, known map[int32]procRef) ([]procRef, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("process snapshot: %w", err)
	}
	defer windows.CloseHandle(snap)
	var entry windows.ProcessEntry32
	entry.Size = uint32(unsafe.Sizeof(entry))
	var refs []procRef
	for err = windows.Process32First(snap, &entry); err == nil; err = windows.Process32Next(snap, &entry) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ref := procRef{
			PID:  int32(entry.ProcessID),
			PPID: int32(entry.ParentProcessID),
			Name: windows.UTF16ToString(entry.ExeFile[:]),
		}
		if h, ok := s.handles[ref.PID]; ok && hasExited(h) {
			continue // an exited process the snapshot still lists while our handle keeps it
		}
		if k, ok := known[ref.PID]; ok && k.Name == ref.Name && k.PPID == ref.PPID {
			ref.Token = k.Token
		} else {
			ref.Token = creationTime(entry.ProcessID)
		}
		refs = append(refs, ref)
	}
	if err != windows.ERROR_NO_MORE_FILES {
		return nil, fmt.Errorf("process snapshot: %w", err)
	}
	return refs, nil
}

func (s *toolhelpSource) Identity(ctx context.Context, ref procRef) procIdentity {
	return gopsutilIdentity(ctx, ref.PID)
}

func (s *toolhelpSource) Stats(ctx context.Context, ref procRef) procStats {
	return gopsutilStats(ctx, ref.PID)
}

// Owner returns the SID of the process token's user; "" where the token cannot be opened
// (another user's process, for a user without administrator rights).
func (s *toolhelpSource) Owner(_ context.Context, ref procRef) string {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(ref.PID))
	if err != nil {
		return ""
	}
	defer windows.CloseHandle(h)
	var token windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &token); err != nil {
		return ""
	}
	defer token.Close()
	return tokenUser(token)
}

func (s *toolhelpSource) Self() (string, uint64) {
	return tokenUser(windows.GetCurrentProcessToken()), creationTime(windows.GetCurrentProcessId())
}

func tokenUser(token windows.Token) string {
	u, err := token.GetTokenUser()
	if err != nil {
		return ""
	}
	return u.User.Sid.String()
}

// Watch opens the process for its exit code; a process that cannot be opened, or is no
// longer the one listed (its creation time differs), is not watched.
func (s *toolhelpSource) Watch(ref procRef) {
	if _, ok := s.handles[ref.PID]; ok {
		return
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION|windows.SYNCHRONIZE, false, uint32(ref.PID))
	if err != nil {
		return
	}
	if handleCreationTime(h) != ref.Token {
		windows.CloseHandle(h)
		return
	}
	s.handles[ref.PID] = h
}

// ExitCode reads the exit code of a watched process and closes its handle.
func (s *toolhelpSource) ExitCode(ref procRef) (uint32, bool) {
	h, ok := s.handles[ref.PID]
	if !ok {
		return 0, false
	}
	delete(s.handles, ref.PID)
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return 0, false
	}
	return exitCodeOf(code)
}

// hasExited reports whether the process of h has ended (its handle is signalled).
func hasExited(h windows.Handle) bool {
	ev, err := windows.WaitForSingleObject(h, 0)
	return err == nil && ev == windows.WAIT_OBJECT_0
}

func (s *toolhelpSource) Close() {
	for pid, h := range s.handles {
		windows.CloseHandle(h)
		delete(s.handles, pid)
	}
}

// creationTime tells a reused PID apart: Windows reuses PIDs quickly, and a new process under
// an old PID has a new creation time (the parent PID need not differ). It is 0 where the
// process cannot be opened even for limited queries (the System and Idle processes), which
// leaves the PID and name to tell such processes apart.
func creationTime(pid uint32) uint64 {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return 0
	}
	defer windows.CloseHandle(h)
	return handleCreationTime(h)
}

func handleCreationTime(h windows.Handle) uint64 {
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 0
	}
	return uint64(created.HighDateTime)<<32 | uint64(created.LowDateTime)
}
