// Package collectortest holds what every collector's tests share: the adapter from a
// collector to a registry, the golden-file comparison with promlint, one scrape under a
// deadline with its samples keyed as name{label="value",...}, and a log buffer.
package collectortest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
)

// update rewrites the golden files in testdata/ instead of comparing against them:
// go test ./collector/<name> -run <Test> -update
var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// updateTimeout bounds one Update made through the registry.
const updateTimeout = 10 * time.Second

// asPrometheus adapts a Collector to prometheus.Collector (unchecked: no Describe). An
// Update error fails the test: golden outputs come from collectors that succeed.
type asPrometheus struct {
	t testing.TB
	c collector.Collector
}

func (asPrometheus) Describe(chan<- *prometheus.Desc) {}

func (a asPrometheus) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), updateTimeout)
	defer cancel()
	if err := a.c.Update(ctx, ch); err != nil {
		a.t.Errorf("Update: %v", err)
	}
}

// Registry returns a pedantic registry that gathers c with one Update per Gather.
func Registry(t testing.TB, c collector.Collector) *prometheus.Registry {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(asPrometheus{t: t, c: c})
	return reg
}

// AssertGolden compares everything c exposes with testdata/<name>.prom (rewriting it with
// -update) and lints every family with promlint.
func AssertGolden(t *testing.T, c collector.Collector, name string) {
	t.Helper()
	AssertGoldenGathered(t, Registry(t, c), name)
}

// AssertGoldenGathered is AssertGolden for a gatherer, such as one that replaces values that
// differ from run to run.
func AssertGoldenGathered(t *testing.T, reg prometheus.Gatherer, name string) {
	t.Helper()
	path := filepath.Join("testdata", name+".prom")
	if *update {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for _, mf := range families {
			if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	defer f.Close()
	if err := testutil.GatherAndCompare(reg, f); err != nil {
		t.Errorf("output differs from %s (run with -update if the change is intended):\n%v", path, err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// FamilyNames returns the names of the metric families c exposes.
func FamilyNames(t *testing.T, c collector.Collector) map[string]bool {
	t.Helper()
	mfs, err := Registry(t, c).Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	return names
}
