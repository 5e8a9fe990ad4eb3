package host

import (
	"context"

	"github.com/shirou/gopsutil/v4/cpu"
)

// cpuModes keeps the modes Windows accounts: gopsutil reports interrupt time as Irq, and
// nothing as nice, iowait or steal, which would only be constant zeros.
func cpuModes(t cpu.TimesStat) map[string]float64 {
	return map[string]float64{"user": t.User, "system": t.System, "idle": t.Idle, "irq": t.Irq}
}

// loadAverage reports nothing: Windows has no load average, and an emulation would be a
// different measure under the same name.
func loadAverage(context.Context) (float64, float64, float64, bool, error) {
	return 0, 0, 0, false, nil
}

func isCaseInsensitiveFS() bool { return true }
