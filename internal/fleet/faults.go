// Package fleet simulates workstations running the Candy-Cadence application: each
// workstation has its own directory tree as the application lays it out, an application
// process that writes its databases and logs as the application does, a day cycle in
// compressed time (the user opens and closes the application; the exporter stops at log-off),
// and faults that can be injected at start or while it runs. The same package starts the real
// Prometheus and Alertmanager around a fleet, for the demo and the end-to-end test.
package fleet

import (
	"fmt"
	"slices"
	"strings"
)

// Fault is one thing that goes wrong on a workstation.
type Fault string

// The faults a workstation can simulate.
const (
	FaultCrash        Fault = "crash"         // a CRITICAL record with an exception, then exit without the closing records
	FaultCrashSilent  Fault = "crash-silent"  // exit without any record
	FaultCrashLoop    Fault = "crash-loop"    // starts and dies within 20 s, again and again
	FaultHang         Fault = "hang"          // process alive, operations stall, logs stop
	FaultErrorBurst   Fault = "error-burst"   // the same ERROR many times within a minute
	FaultSlowSearch   Fault = "slow-search"   // every search takes over 5 s
	FaultDBLocked     Fault = "db-locked"     // another program holds an exclusive lock on the library
	FaultDBCorrupt    Fault = "db-corrupt"    // the library's pages are damaged on disk
	FaultDBMissing    Fault = "db-missing"    // the library file is gone
	FaultCacheMissing Fault = "cache-missing" // the model cache database is gone
	FaultLogsMissing  Fault = "logs-missing"  // the log directory is removed
	FaultDiskFull     Fault = "disk-full"     // the data directory's filesystem is nearly full
	FaultMemoryLeak   Fault = "memory-leak"   // the process's resident memory grows steadily
)

// Faults lists every fault, in the order the documentation gives them.
var Faults = []Fault{
	FaultCrash, FaultCrashSilent, FaultCrashLoop, FaultHang, FaultErrorBurst, FaultSlowSearch,
	FaultDBLocked, FaultDBCorrupt, FaultDBMissing, FaultCacheMissing, FaultLogsMissing,
	FaultDiskFull, FaultMemoryLeak,
}

// appFaults are carried out inside the application process; the others by the workstation.
var appFaults = []Fault{FaultCrash, FaultCrashSilent, FaultHang, FaultErrorBurst, FaultSlowSearch, FaultMemoryLeak}

// oneShot faults happen once and are over; the others last until cleared.
var oneShot = []Fault{FaultCrash, FaultCrashSilent, FaultErrorBurst}

// ParseFault returns the fault named s, or an error listing the names.
func ParseFault(s string) (Fault, error) {
	f := Fault(s)
	if slices.Contains(Faults, f) {
		return f, nil
	}
	names := make([]string, len(Faults))
	for i, f := range Faults {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown fault %q: want one of %s", s, strings.Join(names, ", "))
}

// isAppFault reports whether the application process itself carries out f.
func isAppFault(f Fault) bool { return slices.Contains(appFaults, f) }

// IsOneShot reports whether f happens once rather than lasting until cleared.
func IsOneShot(f Fault) bool { return slices.Contains(oneShot, f) }
