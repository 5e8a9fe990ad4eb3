package main

import (
	"net/http"
	"net/http/pprof"
	"strconv"

	"github.com/alecthomas/kingpin/v2"
)

// addProfilingFlag declares the opt-in for Go's profiling endpoints. They are off by
// default: a profile shows the exporter's internals, including file paths it has open, to
// anyone who can reach the port, and a CPU profile costs CPU on the user's desktop.
func addProfilingFlag(app *kingpin.Application) *bool {
	return app.Flag("web.enable-pprof", "Serve Go profiling data under /debug/pprof/ (heap, CPU, goroutines) and link it from the landing page.").
		Bool()
}

// handleProfiling serves /debug/pprof/ on mux when enabled, and returns the landing page's
// Profiling setting, which shows the page's links to the heap and CPU profiles only when
// they answer.
func handleProfiling(mux *http.ServeMux, enabled bool) string {
	if enabled {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return strconv.FormatBool(enabled)
}
