package process

import (
	"context"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// toolhelpSource lists processes with one Toolhelp snapshot, which names every process
// without opening it: protected processes and other users' processes are listed too.
type toolhelpSource struct{}

func newProcessSource() processSource { return toolhelpSource{} }

func (toolhelpSource) List(ctx context.Context) ([]procRef, error) {
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
		refs = append(refs, procRef{
			PID:   int32(entry.ProcessID),
			Name:  windows.UTF16ToString(entry.ExeFile[:]),
			Token: creationTime(entry.ProcessID),
		})
	}
	if err != windows.ERROR_NO_MORE_FILES {
		return nil, fmt.Errorf("process snapshot: %w", err)
	}
	return refs, nil
}

func (toolhelpSource) Identity(ctx context.Context, ref procRef) procIdentity {
	return gopsutilIdentity(ctx, ref.PID)
}

func (toolhelpSource) Stats(ctx context.Context, ref procRef) procStats {
	return gopsutilStats(ctx, ref.PID)
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
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 0
	}
	return uint64(created.HighDateTime)<<32 | uint64(created.LowDateTime)
}
