// Command dashboardgen writes the Grafana dashboards of package dashboards into a directory
// (dashboards/ of the repository: `make dashboards` runs it). It removes JSON files there that
// no dashboard produces any more, so that a renamed dashboard leaves nothing stale behind.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/candy-cadence/candy_cadence_exporter/internal/dashboards"
)

func main() {
	out := flag.String("out", "dashboards", "directory to write the dashboards' JSON into")
	rules := flag.String("rules", "rules", "directory of the rule files, for the alerts' runbook addresses")
	flag.Parse()
	if err := run(*out, *rules); err != nil {
		fmt.Fprintln(os.Stderr, "dashboardgen:", err)
		os.Exit(1)
	}
}

func run(out, rules string) error {
	runbooks, err := dashboards.ReadRunbooks(rules)
	if err != nil {
		return err
	}
	files, err := dashboards.Generate(runbooks)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(out, "*.json"))
	if err != nil {
		return err
	}
	for _, p := range old {
		if _, keep := files[filepath.Base(p)]; !keep {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
