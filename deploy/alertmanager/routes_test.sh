#!/bin/sh
# Routing tests of alertmanager.yml: each case gives the receiver an alert with these labels
# must reach; amtool fails the case when the route tree sends it elsewhere.
# Usage: AMTOOL=/path/to/amtool deploy/alertmanager/routes_test.sh   (amtool from PATH by default)
set -u
amtool=${AMTOOL:-amtool}
config="$(dirname "$0")/alertmanager.yml"
failed=0

expect() {
	want=$1
	shift
	if out=$("$amtool" config routes test --config.file="$config" --verify.receivers="$want" "$@" 2>&1); then
		echo "ok    $want <- $*"
	else
		echo "FAIL  want $want <- $*: $out"
		failed=1
	fi
}

# critical pages
expect paging alertname=CandyCadenceAppCrashed severity=critical component=process instance=ws1:10933
expect paging alertname=CandyCadenceFleetAvailabilityErrorBudgetBurn severity=critical component=fleet long=1h short=5m job=candy_cadence site=hq
expect paging alertname=CandyCadenceAppCrashLooping severity=critical component=process instance=ws1:10933
expect paging alertname=CandyCadenceCriticalError severity=critical component=errors family=runtime type=MemoryError instance=ws1:10933
# a fleet-wide outage pages (only within working hours: amtool does not evaluate time intervals)
expect paging alertname=CandyCadenceFleetWorkstationsDown severity=critical component=fleet job=candy_cadence
expect paging alertname=CandyCadenceDatabaseDown severity=critical component=database db=library instance=ws1:10933
# warning goes to the chat channel
expect chat alertname=CandyCadenceAvailabilityErrorBudgetBurn severity=warning component=application long=1h short=5m instance=ws1:10933
expect chat alertname=CandyCadenceFleetLatencyErrorBudgetBurn severity=warning component=fleet long=1d short=2h job=candy_cadence
expect chat alertname=CandyCadenceDatabaseDown severity=warning component=database db=cache instance=ws1:10933
expect chat alertname=CandyCadenceExporterNotSeen severity=warning component=exporter instance=ws1:10933
expect chat alertname=CandyCadenceLibraryNotFound severity=warning component=database db=library instance=ws1:10933
# info goes nowhere
expect null alertname=CandyCadenceHostMemoryHigh severity=info component=host instance=ws1:10933
expect null alertname=CandyCadenceReliabilityObjectiveMissed severity=info component=errors instance=ws1:10933
expect null alertname=CandyCadenceAvailabilityErrorBudgetExhausted severity=info component=application instance=ws1:10933
# the watchdog goes to the dead man's switch only
expect deadmansswitch alertname=CandyCadenceWatchdog severity=info component=monitoring
# an alert without a known severity (another rule file, a typo) still reaches people
expect chat alertname=SomeOtherAlert instance=ws1:10933
expect chat alertname=SomeOtherAlert severity=page instance=ws1:10933

exit $failed
