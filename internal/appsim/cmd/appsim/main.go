// Command appsim creates and writes Candy-Cadence databases as the application does, for tests,
// benchmarks and demos. Build it with -tags sqlite_fts5. See package appsim for the commands.
package main

import (
	"os"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
)

func main() {
	os.Exit(appsim.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
