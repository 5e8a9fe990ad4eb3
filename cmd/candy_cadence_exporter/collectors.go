package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

// collectorEntry is one collector as main sees it: its enable flag, how to build it from its
// own flags once they are parsed, and which flag sets each of its Config fields.
type collectorEntry struct {
	name    string
	enabled *bool
	build   func(env appdirs.Env, logger *slog.Logger) (collector.Collector, error)
	// flags maps a Config field to the flag that sets it, to name the flag in a ConfigError.
	flags map[string]*kingpin.FlagClause
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
			return nil, e.flagError(err)
		}
		out = append(out, collector.Named{Name: e.name, Collector: c})
	}
	return out, nil
}

// flagError names the flag behind a collector's ConfigError, with the value it was given.
func (e collectorEntry) flagError(err error) error {
	var cerr *collector.ConfigError
	if errors.As(err, &cerr) {
		if f, ok := e.flags[cerr.Field]; ok {
			return fmt.Errorf("--%s=%s: %s", f.Model().Name, f.Model().Value, cerr.Problem)
		}
	}
	return fmt.Errorf("collector %s: %w", e.name, err)
}
