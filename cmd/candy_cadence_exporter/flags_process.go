package main

import (
	"log/slog"
	"regexp"

	"github.com/alecthomas/kingpin/v2"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
	"github.com/candy-cadence/candy_cadence_exporter/collector/process"
	"github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"
)

func addProcessFlags(app *kingpin.Application) collectorEntry {
	enabled := enableFlag(app, "process", "the application's processes (up, CPU, memory, threads, file descriptors, I/O, starts and exits).")
	var patterns process.Patterns
	app.Flag("collector.process.name-regex", "Regular expression on the process name that selects the application. Empty matches nothing.").
		Default(process.DefaultNameRegex).SetValue(regexpValue{&patterns.Name})
	app.Flag("collector.process.exe-regex", "Regular expression on the executable's full path that selects the application. Empty matches nothing.").
		Default(process.DefaultExeRegex).SetValue(regexpValue{&patterns.Exe})
	app.Flag("collector.process.cmdline-regex", "Regular expression on the command line (arguments joined by spaces, relative .py scripts made absolute) that selects the application. Empty matches nothing.").
		Default(process.DefaultCmdlineRegex).SetValue(regexpValue{&patterns.Cmdline})
	return collectorEntry{
		name:    "process",
		enabled: enabled,
		build: func(env appdirs.Env, logger *slog.Logger) (collector.Collector, error) {
			return process.New(process.Config{Match: &patterns}, env, logger)
		},
	}
}

// regexpValue is a kingpin flag value holding a regular expression, where the empty string
// means "no pattern" rather than "match everything".
type regexpValue struct{ re **regexp.Regexp }

func (v regexpValue) Set(s string) error {
	if s == "" {
		*v.re = nil
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return err
	}
	*v.re = re
	return nil
}

func (v regexpValue) String() string {
	if v.re == nil || *v.re == nil {
		return ""
	}
	return (*v.re).String()
}
