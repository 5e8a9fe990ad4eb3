//go:build !linux

package process

import (
	"context"

	"github.com/shirou/gopsutil/v4/process"
)

// gopsutilIdentity reads what matching needs through gopsutil; a field that cannot be read
// (access denied) stays empty and simply does not match.
func gopsutilIdentity(ctx context.Context, pid int32) procIdentity {
	p, err := process.NewProcessWithContext(ctx, pid)
	if err != nil {
		return procIdentity{}
	}
	var id procIdentity
	id.Exe, _ = p.ExeWithContext(ctx)
	id.Cmdline, _ = p.CmdlineSliceWithContext(ctx)
	if hasRelativeScript(id.Cmdline) {
		id.Cwd, _ = p.CwdWithContext(ctx)
	}
	return id
}

// gopsutilStats reads one process's figures field by field, so that a field denied to us
// leaves only that field unknown.
func gopsutilStats(ctx context.Context, pid int32) procStats {
	out := unknownStats()
	p, err := process.NewProcessWithContext(ctx, pid)
	if err != nil {
		return out
	}
	if t, err := p.TimesWithContext(ctx); err == nil {
		out.CPUUser, out.CPUSystem = t.User, t.System
	}
	if m, err := p.MemoryInfoWithContext(ctx); err == nil {
		out.RSS, out.VMS = float64(m.RSS), float64(m.VMS)
	}
	if n, err := p.NumThreadsWithContext(ctx); err == nil {
		out.Threads = float64(n)
	}
	if n, err := p.NumFDsWithContext(ctx); err == nil {
		out.FDs = float64(n)
	}
	if io, err := p.IOCountersWithContext(ctx); err == nil {
		out.ReadBytes, out.WriteBytes = float64(io.ReadBytes), float64(io.WriteBytes)
	}
	if ms, err := p.CreateTimeWithContext(ctx); err == nil {
		out.StartTime = float64(ms) / 1000
	}
	return out
}
