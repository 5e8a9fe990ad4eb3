package health

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
)

// snapshot is one gathering of the collectors' metrics, looked up by name and labels.
type snapshot struct {
	at       time.Time
	families map[string]*dto.MetricFamily
}

// gather runs the collectors once through runner, as a scrape would.
func gather(ctx context.Context, runner *collector.Runner, now time.Time) snapshot {
	reg := prometheus.NewRegistry()
	reg.MustRegister(runner.ForScrape(ctx))
	mfs, _ := reg.Gather() // a failed collector shows as collector_success 0, judged below
	s := snapshot{at: now, families: make(map[string]*dto.MetricFamily, len(mfs))}
	for _, mf := range mfs {
		s.families[mf.GetName()] = mf
	}
	return s
}

// metrics returns the series of name whose labels include every pair of labels.
func (s snapshot) metrics(name string, labels ...string) []*dto.Metric {
	mf := s.families[collector.Namespace+"_"+name]
	if mf == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range mf.GetMetric() {
		if hasLabels(m, labels) {
			out = append(out, m)
		}
	}
	return out
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == pairs[i] && lp.GetValue() == pairs[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// value returns the value of the one series of name with labels, and whether it exists.
func (s snapshot) value(name string, labels ...string) (float64, bool) {
	ms := s.metrics(name, labels...)
	if len(ms) == 0 {
		return 0, false
	}
	return metricValue(ms[0]), true
}

// sum adds every series of name with labels.
func (s snapshot) sum(name string, labels ...string) (float64, bool) {
	ms := s.metrics(name, labels...)
	var total float64
	for _, m := range ms {
		total += metricValue(m)
	}
	return total, len(ms) > 0
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// collectorRan tells whether a collector is enabled (it reports its success either way).
func (s snapshot) collectorRan(name string) bool {
	_, ok := s.value("exporter_collector_success", "collector", name)
	return ok
}
