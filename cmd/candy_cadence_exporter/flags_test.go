package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/candy-cadence/candy_cadence_exporter/collector/logs"
	"github.com/candy-cadence/candy_cadence_exporter/collector/sqlite"
)

// TestFlagDefaultsAreConfigDefaults keeps the flags' defaults, written as users read them in
// --help, equal to the defaults the collectors apply to a zero Config.
func TestFlagDefaultsAreConfigDefaults(t *testing.T) {
	app := kingpin.New("test", "")
	addCollectorFlags(app)
	defaults := map[string]string{}
	for _, f := range app.Model().Flags {
		if len(f.Default) > 0 {
			defaults[f.Name] = f.Default[0]
		}
	}
	durations := map[string]time.Duration{
		"collector.sqlite.stats-interval":     sqlite.DefaultStatsInterval,
		"collector.sqlite.integrity-interval": sqlite.DefaultIntegrityInterval,
		"collector.sqlite.busy-timeout":       sqlite.DefaultBusyTimeout,
		"collector.logs.poll-interval":        logs.DefaultPollInterval,
	}
	for name, want := range durations {
		got, err := time.ParseDuration(defaults[name])
		if err != nil || got != want {
			t.Errorf("--%s defaults to %q, want %s", name, defaults[name], want)
		}
	}
	counts := map[string]int{
		"collector.sqlite.max-formats":           sqlite.DefaultMaxLabelValues,
		"collector.logs.max-unknown-error-types": logs.DefaultMaxUnknownErrorTypes,
	}
	for name, want := range counts {
		if got, err := strconv.Atoi(defaults[name]); err != nil || got != want {
			t.Errorf("--%s defaults to %q, want %d", name, defaults[name], want)
		}
	}
}
