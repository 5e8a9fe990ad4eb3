package main

import (
	"fmt"
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

// collectorEntry is one collector as main sees it: its enable flag and how to build it from
// its own flags once they are parsed.
type collectorEntry struct {
	name    string
	enabled *bool
	build   func(env appdirs.Env, logger *slog.Logger) (collector.Collector, error)
}

type collectorSet []collectorEntry

// addCollectorFlags declares every collector's --[no-]collector.<name> flag and its own flags.
// Each add function below keeps one collector's flags together.
func addCollectorFlags(app *kingpin.Application) collectorSet {
	return collectorSet{
		addProcessFlags(app),
		addHostFlags(app),
		addSQLiteFlags(app),
		addLogsFlags(app),
	}
}

func enableFlag(app *kingpin.Application, name, help string) *bool {
	return app.Flag("collector."+name, "Enable the "+name+" collector: "+help).Default("true").Bool()
}

// build constructs the enabled collectors, in a fixed order.
func (s collectorSet) build(env appdirs.Env, logger *slog.Logger) ([]collector.Named, error) {
	var out []collector.Named
	for _, e := range s {
		if !*e.enabled {
			continue
		}
		c, err := e.build(env, logger.With("collector", e.name))
		if err != nil {
			return nil, fmt.Errorf("collector %s: %w", e.name, err)
		}
		out = append(out, collector.Named{Name: e.name, Collector: c})
	}
	return out, nil
}
