//go:build !linux && !windows

package process

import (
	"context"

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
		refs = append(refs, procRef{PID: p.Pid, Name: name, Token: uint64(created)})
	}
	return refs, nil
}

func (gopsutilSource) Identity(ctx context.Context, ref procRef) procIdentity {
	return gopsutilIdentity(ctx, ref.PID)
}

func (gopsutilSource) Stats(ctx context.Context, ref procRef) procStats {
	return gopsutilStats(ctx, ref.PID)
}
