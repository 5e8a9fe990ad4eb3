package promql

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	cases := []struct {
		expr string
		want []string
	}{
		// As the rules write PromQL.
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
		// As the dashboards write it, with Grafana's variables.
		{`count(up{job=~"$job"} == 1)`, []string{"up"}},
		{`sum by (reason) (increase(a_total{x="y"}[$__rate_interval]))`, []string{"a_total"}},
		{`histogram_quantile(0.95, sum by (operation, le) (rate(h_bucket{a=~"b|c"}[$__rate_interval])))`, []string{"h_bucket"}},
		{`x / ignoring (tier) group_left () (sum by (instance) (y) > 0)`, []string{"x", "y"}},
		{`1 - max(instance:a:ratio_30d{l="}"}) / scalar(1 - candy_cadence:threshold:t)`, []string{"instance:a:ratio_30d", "candy_cadence:threshold:t"}},
		{`predict_linear(a[6h], 24 * 3600)`, []string{"a"}},
		{`label_replace(ALERTS, "runbook_url", "https://x/#a", "alertname", "A")`, []string{"ALERTS"}},
		{`topk(10, sum by (instance) (b)) > 0 and on (instance) c offset 1w`, []string{"b", "c"}},
	}
	for _, c := range cases {
		if got := MetricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("MetricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}
