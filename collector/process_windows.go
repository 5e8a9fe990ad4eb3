package collector

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
			PID:  int32(entry.ProcessID),
			Name: windows.UTF16ToString(entry.ExeFile[:]),
			// Windows reuses PIDs quickly; the parent tells a reused PID apart cheaply.
			Token: uint64(entry.ParentProcessID),
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
