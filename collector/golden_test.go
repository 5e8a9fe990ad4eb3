package collector

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

// update rewrites the golden files in testdata/ instead of comparing against them:
// go test ./collector -run <Test> -update
var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// asPrometheus adapts a Collector to prometheus.Collector for tests (unchecked: no Describe).
type asPrometheus struct{ c Collector }

func (asPrometheus) Describe(chan<- *prometheus.Desc) {}

func (a asPrometheus) Collect(ch chan<- prometheus.Metric) {
	if err := a.c.Update(context.Background(), ch); err != nil {
		panic(err) // surfaces in the test: golden outputs come from collectors that succeed
	}
}

// assertGolden compares everything c exposes with testdata/<name>.prom (rewriting it with
// -update) and lints every family with promlint.
func assertGolden(t *testing.T, c Collector, name string) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(asPrometheus{c})
	assertGoldenGathered(t, reg, name)
}

// assertGoldenGathered is assertGolden for a gatherer, such as one that replaces values that
// differ from run to run.
func assertGoldenGathered(t *testing.T, reg prometheus.Gatherer, name string) {
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
