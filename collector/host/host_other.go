//go:build !linux && !windows

package host

import (
	"context"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/load"
)

func cpuModes(t cpu.TimesStat) map[string]float64 {
	return map[string]float64{"user": t.User, "nice": t.Nice, "system": t.System, "idle": t.Idle, "irq": t.Irq}
}

func loadAverage(ctx context.Context) (float64, float64, float64, bool, error) {
	l, err := load.AvgWithContext(ctx)
	if err != nil {
		return 0, 0, 0, false, err
	}
	return l.Load1, l.Load5, l.Load15, true, nil
}

func isCaseInsensitiveFS() bool { return false }
