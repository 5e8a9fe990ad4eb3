package rules

import _ "embed" // for ThresholdsYAML

// ThresholdsYAML is thresholds.yml as shipped, embedded so that the exporter's health check
// judges with the very numbers the alerts use.
//
//go:embed thresholds.yml
var ThresholdsYAML []byte
