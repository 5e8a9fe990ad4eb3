// Package collector holds the exporter's collectors and the code that runs them for one scrape.
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
