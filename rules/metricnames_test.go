package rules

import (
	"slices"
	"testing"

	"github.com/candy-cadence/candy_cadence_exporter/internal/promql"
)

var metricNames = promql.MetricNames

func TestMetricNames(t *testing.T) {
	cases := []struct {
		expr string
		want []string
	}{
		{`up{job="candy_cadence"} == 0`, []string{"up"}},
		{`sum without (mode) (rate(a_total{mode=~"idle|iowait"}[5m])) / b`, []string{"a_total", "b"}},
		{`sum by (instance) (x) and on (instance) y offset 1w`, []string{"x", "y"}},
		{`x > bool scalar(candy_cadence:threshold:t)`, []string{"x", "candy_cadence:threshold:t"}},
		{`deriv(level:m:op[10m:1m]) * 60 - 1.5e9`, []string{"level:m:op"}},
		{`vector(1500 * 1024 * 1024)`, nil},
		{`time() + 0 * (a == 0 and b > 0 or c unless d)`, []string{"a", "b", "c", "d"}},
		{`a{l="}{"} / ignoring (l) group_left (k) b # comment c`, []string{"a", "b"}},
		{`predict_linear(a[6h], 24 * 3600) < 0 and a`, []string{"a"}},
		{`round(x) >= Inf`, []string{"x"}},
	}
	for _, c := range cases {
		if got := metricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("metricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}
