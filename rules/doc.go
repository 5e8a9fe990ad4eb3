// Package rules holds the Prometheus rules bundle of Candy-Cadence: thresholds.yml,
// recording.yml and alerts.yml, with their promtool unit tests in tests/. Its only Go code
// embeds thresholds.yml for the exporter's health check. Its Go tests check what promtool
// cannot: that every alert follows the conventions, has a runbook section, a firing and a
// silent test, and that every rule reads only metrics the exporter exposes or other rules
// record.
package rules
