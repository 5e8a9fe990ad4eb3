package collector

import "github.com/prometheus/client_golang/prometheus"

// TypedDesc is a descriptor with its value type, so that a collector builds its descriptors
// once and sends values without restating gauge or counter at every call.
type TypedDesc struct {
	Desc      *prometheus.Desc
	ValueType prometheus.ValueType
}

// Gauge describes the gauge Namespace_name.
func Gauge(name, help string, labels ...string) TypedDesc {
	return newTypedDesc(name, help, prometheus.GaugeValue, labels)
}

// Counter describes the counter Namespace_name.
func Counter(name, help string, labels ...string) TypedDesc {
	return newTypedDesc(name, help, prometheus.CounterValue, labels)
}

func newTypedDesc(name, help string, t prometheus.ValueType, labels []string) TypedDesc {
	return TypedDesc{Desc: prometheus.NewDesc(Namespace+"_"+name, help, labels, nil), ValueType: t}
}

// Metric returns a constant metric of value v; the label values follow the descriptor's labels.
// It panics when their number differs, which is a programming error caught by the tests.
func (d TypedDesc) Metric(v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d.Desc, d.ValueType, v, labels...)
}
