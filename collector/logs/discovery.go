package logs

import "github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"

// Discovery says, as of now, where the log files are: with configured globs, the first file
// they match; else the first of the application's log directories that exists. Every place
// keeps being watched, so nothing stands in for logs not found.
func (c *Collector) Discovery() []appdirs.Discovery {
	if c.discover == nil {
		return nil
	}
	return []appdirs.Discovery{c.discover()}
}

// logsDiscovery returns how to discover the logs of configured globs, or in env's log
// directories when there are none.
func logsDiscovery(configured []string, env appdirs.Env) func() appdirs.Discovery {
	if len(configured) > 0 {
		return func() appdirs.Discovery { return appdirs.DiscoverGlobs("logs", configured, true) }
	}
	dirs := appdirs.LogDirs(appdirs.Layouts(env))
	return func() appdirs.Discovery {
		d := appdirs.Discovery{Source: "logs", LookedIn: dirs}
		if p, ok := appdirs.FirstExisting(dirs, appdirs.DirExists); ok {
			d.Found, d.Path = true, p
		}
		return d
	}
}
