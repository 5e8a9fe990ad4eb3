package main

import (
	"log/slog"

	"github.com/alecthomas/kingpin/v2"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/collector/host"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

func addHostFlags(app *kingpin.Application) collectorEntry {
	enabled := enableFlag(app, "host", "CPU, memory, load, boot time, the filesystems holding the application's data, network devices.")
	var devices host.DeviceFilter
	dataDir := app.Flag("collector.host.data-dir", "The application's data directory, whose filesystem is reported. Default: discovered from the application's known locations.").PlaceHolder("DIR").String()
	extra := app.Flag("collector.host.filesystem", "Another directory whose filesystem is reported (repeatable).").PlaceHolder("DIR").Strings()
	app.Flag("collector.host.netdev-include", "Regular expression of network devices to report. Empty reports every device not excluded.").
		Default("").SetValue(regexpValue{&devices.Include})
	app.Flag("collector.host.netdev-exclude", "Regular expression of network devices to leave out. Default: loopback and virtual interfaces.").
		Default(host.DefaultNetdevExclude).SetValue(regexpValue{&devices.Exclude})
	return collectorEntry{
		name:    "host",
		enabled: enabled,
		build: func(env appdirs.Env, logger *slog.Logger) (collector.Collector, error) {
			return host.New(host.Config{DataDir: *dataDir, ExtraDirs: *extra, Devices: &devices}, env, logger)
		},
	}
}
