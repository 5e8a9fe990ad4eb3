package main

import (
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/fleet"
)

// expectation is what the shipped rules and routing promise when a fault happens on one
// workstation: this alert, at this severity, delivered to this receiver. When the rules or the
// routing change, this table is what changes.
type expectation struct {
	fault    fleet.Fault
	alert    string
	severity string
	receiver string
	// atStart injects the fault by flag when the workstation starts rather than through the
	// control interface once it runs.
	atStart bool
	// timeout, when set, replaces alertTimeout.
	timeout time.Duration
	// inhibited, when set, is an alert that must fire in Prometheus for the same workstation
	// and never reach a receiver: the same incident, already paged by alert.
	inhibited string
	// pending, when set, says why no shipped rule answers this fault yet: the fault is still
	// simulated and reported, and the test does not fail for it.
	pending string
}

// hangPending is why the hang fault has no alert: see docs/rules.md, "What is not alerted on".
const hangPending = "a hung application and an idle one write the same nothing and keep the same process; " +
	"no metric of the files or the process table tells them apart, so no shipped rule pages for it"

var expectations = []expectation{
	{fault: fleet.FaultCrash, alert: "CandyCadenceAppCrashed", severity: "critical", receiver: "paging"},
	{fault: fleet.FaultCrashSilent, alert: "CandyCadenceAppCrashed", severity: "critical", receiver: "paging"},
	// The loop is one incident: the first crash pages, the loop alert is inhibited by it.
	{fault: fleet.FaultCrashLoop, alert: "CandyCadenceAppCrashed", severity: "critical", receiver: "paging", inhibited: "CandyCadenceAppCrashLooping"},
	{fault: fleet.FaultHang, pending: hangPending},
	{fault: fleet.FaultErrorBurst, alert: "CandyCadenceErrorTypeRepeated", severity: "warning", receiver: "chat"},
	// From the start: the response-time mean covers 5 minutes, and a few slow searches do not
	// outweigh minutes of normal work in a test that lasts minutes.
	// Its traffic guard sums a subquery whose samples fall on the clock's 5-minute marks: the
	// first may be 5 minutes away.
	{fault: fleet.FaultSlowSearch, alert: "CandyCadenceResponseTimeHigh", severity: "warning", receiver: "chat", atStart: true, timeout: 8 * time.Minute},
	{fault: fleet.FaultDBLocked, alert: "CandyCadenceDatabaseDown", severity: "critical", receiver: "paging"},
	{fault: fleet.FaultDBCorrupt, alert: "CandyCadenceDatabaseIntegrityCheckFailed", severity: "critical", receiver: "paging"},
	// A library that is not there is not a library that fails: a ticket, never a page.
	{fault: fleet.FaultDBMissing, alert: "CandyCadenceLibraryNotFound", severity: "warning", receiver: "chat"},
	// The running application's cache writes fail (OperationalError, a critical type); the
	// DatabaseDown ticket is for a cache that exists and does not answer.
	{fault: fleet.FaultCacheMissing, alert: "CandyCadenceCriticalError", severity: "critical", receiver: "paging"},
	{fault: fleet.FaultLogsMissing, alert: "CandyCadenceLogsNotFollowed", severity: "warning", receiver: "chat"},
	{fault: fleet.FaultDiskFull, alert: "CandyCadenceFilesystemAlmostFull", severity: "warning", receiver: "chat"},
	// The test leaks fast (leakFast) so that memory passes the threshold within the run;
	// CandyCadenceAppMemoryGrowing (info), the forecast, waits for an hour of uptime.
	{fault: fleet.FaultMemoryLeak, alert: "CandyCadenceAppMemoryHigh", severity: "warning", receiver: "chat"},
}

// calmPending, when set, says why the calm phase cannot pass with the shipped rules yet; the
// check still runs and reports what fired.
const calmPending = ""

// calmIgnored are alerts about the machine the test runs on rather than about a workstation:
// every simulated workstation reports the same real CPU and memory, and the calm ones' data
// directories lie on the test machine's disk, whose fullness the test does not control (on a
// disk over 60% used, minutes of the run's own writes are the only trend predict_linear sees).
var calmIgnored = map[string]string{
	"CandyCadenceHostCPUHigh":          "the simulated workstations share the test machine's CPUs",
	"CandyCadenceHostMemoryHigh":       "the simulated workstations share the test machine's memory",
	"CandyCadenceFilesystemAlmostFull": "calm data directories are on the test machine's disk",
	"CandyCadenceFilesystemFillingUp":  "calm data directories are on the test machine's disk",
}

// recordingNeedsHistory are recording rules that cannot yield a series in a run of minutes.
var recordingNeedsHistory = map[string]string{
	"instance_db:candy_cadence_db_size_bytes:growth_ratio1w": "compares with the size a week ago (offset 1w)",
	"instance:candy_cadence_library_models:growth_ratio1w":   "compares with the library a week ago (offset 1w)",
}
