package main

import "github.com/candy-cadence/candy_cadence_exporter/internal/fleet"

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
	// pending, when set, says why no shipped rule answers this fault yet: the fault is still
	// simulated and reported, and the test does not fail for it.
	pending string
}

const pendingExitReason = "needs candy_cadence_app_exits_total{reason} from the process collector and the fleet rules' crash alerts"

var expectations = []expectation{
	{fault: fleet.FaultCrash, alert: "CandyCadenceAppCrashed", severity: "critical", receiver: "paging"},
	{fault: fleet.FaultCrashSilent, pending: pendingExitReason + " (today's crash rule needs a CRITICAL record)"},
	{fault: fleet.FaultCrashLoop, pending: pendingExitReason},
	{fault: fleet.FaultHang, pending: "no shipped rule sees a running application whose logs and operations stopped; the fleet rules' log-silence alert will"},
	{fault: fleet.FaultErrorBurst, alert: "CandyCadenceErrorTypeRepeated", severity: "warning", receiver: "chat"},
	// From the start: the response-time mean covers 5 minutes, and a few slow searches do not
	// outweigh minutes of normal work in a test that lasts minutes.
	{fault: fleet.FaultSlowSearch, alert: "CandyCadenceResponseTimeHigh", severity: "warning", receiver: "chat", atStart: true},
	{fault: fleet.FaultDBLocked, alert: "CandyCadenceDatabaseDown", severity: "critical", receiver: "paging"},
	{fault: fleet.FaultDBCorrupt, alert: "CandyCadenceDatabaseIntegrityCheckFailed", severity: "critical", receiver: "paging"},
	{fault: fleet.FaultDBMissing, alert: "CandyCadenceDatabaseDown", severity: "critical", receiver: "paging"},
	{fault: fleet.FaultCacheMissing, alert: "CandyCadenceDatabaseDown", severity: "warning", receiver: "chat"},
	{fault: fleet.FaultLogsMissing, pending: "no shipped rule sees that the logs are gone; the fleet rules' log-blindness alert will"},
	{fault: fleet.FaultDiskFull, alert: "CandyCadenceFilesystemAlmostFull", severity: "warning", receiver: "chat"},
	{fault: fleet.FaultMemoryLeak, alert: "CandyCadenceAppMemoryGrowing", severity: "info", receiver: "null"},
}

// calmPending, when set, says why the calm phase cannot pass with the shipped rules yet; the
// check still runs and reports what fired.
const calmPending = "today's rules fire CandyCadenceExporterDown (warning) when a workstation logs off for the night; the fleet rules replace it"

// calmIgnored are alerts about the machine the test runs on rather than about a workstation:
// every simulated workstation reports the same real CPU and memory.
var calmIgnored = map[string]string{
	"CandyCadenceHostCPUHigh":    "the simulated workstations share the test machine's CPUs",
	"CandyCadenceHostMemoryHigh": "the simulated workstations share the test machine's memory",
}

// recordingNeedsHistory are recording rules that cannot yield a series in a run of minutes.
var recordingNeedsHistory = map[string]string{
	"instance_db:candy_cadence_db_size_bytes:growth_ratio1w": "compares with the size a week ago (offset 1w)",
	"instance:candy_cadence_library_models:growth_ratio1w":   "compares with the library a week ago (offset 1w)",
}
