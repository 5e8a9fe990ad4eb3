package rules

import _ "embed" // for ThresholdsYAML and AlertsYAML

// ThresholdsYAML is thresholds.yml as shipped, embedded so that the exporter's health check
// judges with the very numbers the alerts use.
//
//go:embed thresholds.yml
var ThresholdsYAML []byte

// AlertsYAML is alerts.yml as shipped: the health check takes the critical error types from
// its CandyCadenceCriticalError alert.
//
//go:embed alerts.yml
var AlertsYAML []byte
