//go:build !linux && !windows

package process

import (
	"context"
	"os"
	"strconv"

	"github.com/shirou/gopsutil/v4/process"
)

// gopsutilSource serves the platforms without a dedicated listing.
type gopsutilSource struct{}

func newProcessSource() processSource { return gopsutilSource{} }

func (gopsutilSource) List(ctx context.Context) ([]procRef, error) {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, err
	}
	refs := make([]procRef, 0, len(procs))
	for _, p := range procs {
		name, _ := p.NameWithContext(ctx)
		created, _ := p.CreateTimeWithContext(ctx)
		ppid, _ := p.PpidWithContext(ctx)
		refs = append(refs, procRef{PID: p.Pid, PPID: ppid, Name: name, Token: uint64(created)})
	}
	return refs, nil
}

// Poll reads every process: gopsutil has no cheaper listing that keeps names.
func (s gopsutilSource) Poll(ctx context.Context, _ map[int32]procRef) ([]procRef, error) {
	return s.List(ctx)
}

func (gopsutilSource) Identity(ctx context.Context, ref procRef) procIdentity {
	return gopsutilIdentity(ctx, ref.PID)
}

func (gopsutilSource) Stats(ctx context.Context, ref procRef) procStats {
	return gopsutilStats(ctx, ref.PID)
}

func (gopsutilSource) Owner(ctx context.Context, ref procRef) string {
	p, err := process.NewProcessWithContext(ctx, ref.PID)
	if err != nil {
		return ""
	}
	uids, err := p.UidsWithContext(ctx)
	if err != nil || len(uids) < 2 {
		return ""
	}
	return strconv.Itoa(int(uids[1]))
}

func (gopsutilSource) Self() (string, uint64) {
	var token uint64
	if p, err := process.NewProcess(int32(os.Getpid())); err == nil {
		if created, err := p.CreateTime(); err == nil {
			token = uint64(created)
		}
	}
	return strconv.Itoa(os.Geteuid()), token
}
