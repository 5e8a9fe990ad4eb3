// Package collector holds what every collector shares: the Collector interface, the runner
// that runs the enabled collectors for one scrape under its deadline, the failure log and the
// typed descriptor. Each source has a package of its own below this one (process, host,
// sqlite, logs); HTTP concerns live in internal/scrapehttp.
package collector

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every metric the exporter exposes.
const Namespace = "candy_cadence"

// Collector reads one source and sends its metrics.
//
// Update must return soon after ctx is done. The runner stops reading ch at the deadline,
// so a late Update is abandoned rather than waited for; it must still not block forever.
type Collector interface {
	Update(ctx context.Context, ch chan<- prometheus.Metric) error
}

// Named pairs a collector with the name used in flags, logs and the collector label.
type Named struct {
	Name      string
	Collector Collector
}

// ConfigError is a collector's configuration that cannot work: Field names the Config field,
// so that the command can name the flag that set it.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return e.Field + " " + e.Problem }
