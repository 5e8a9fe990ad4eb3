package collector

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

// sampleKey renders a metric as name{label="value",...}, labels sorted.
func sampleKey(t *testing.T, m prometheus.Metric) string {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	name := fqNameRE.FindStringSubmatch(m.Desc().String())[1]
	if len(pb.GetLabel()) == 0 {
		return name
	}
	labels := make([]string, 0, len(pb.GetLabel()))
	for _, l := range pb.GetLabel() {
		labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

// sampleValue returns a gauge's or counter's value (a histogram's count).
func sampleValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	switch {
	case pb.Gauge != nil:
		return pb.GetGauge().GetValue()
	case pb.Counter != nil:
		return pb.GetCounter().GetValue()
	case pb.Histogram != nil:
		return float64(pb.GetHistogram().GetSampleCount())
	case pb.Untyped != nil:
		return pb.GetUntyped().GetValue()
	}
	t.Fatalf("unsupported metric type: %v", m.Desc())
	return 0
}
