// Command candy_cadence_sim simulates workstations running the Candy-Cadence application, each
// with its own exporter, for demos, end-to-end tests and fleet-scale measurements.
//
//	candy_cadence_sim run   [flags]   workstations and their exporters, with a control interface
//	candy_cadence_sim demo  [flags]   the same plus Prometheus, Alertmanager and a webhook sink
//	candy_cadence_sim fault [flags] <workstation> <fault>   inject (or --clear) a fault
//
// Started under the name candy_cadence (a link a workstation creates), it is the application.
// docs/simulator.md describes the workstations, the faults and the control interface.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/fleet"
	"github.com/candy-cadence/candy_cadence_exporter/internal/freeport"
)

func main() {
	if filepath.Base(os.Args[0]) == fleet.AppName {
		os.Exit(fleet.RunApp(os.Args[1:], os.Stdin, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: candy_cadence_sim run|demo|fault [flags] (see -h of each)")
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runFleet(args[1:], false, stdout, stderr)
	case "demo":
		err = runFleet(args[1:], true, stdout, stderr)
	case "fault":
		err = runFault(args[1:], stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q: want run, demo or fault", args[0])
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "candy_cadence_sim:", err)
		return 1
	}
	return 0
}

// faultFlags collects --fault ws01=crash.
type faultFlags map[string][]fleet.Fault

func (f faultFlags) String() string { return "" }

func (f faultFlags) Set(s string) error {
	ws, name, ok := strings.Cut(s, "=")
	if !ok || ws == "" {
		return fmt.Errorf("want <workstation>=<fault>, e.g. ws01=crash")
	}
	flt, err := fleet.ParseFault(name)
	if err != nil {
		return err
	}
	f[ws] = append(f[ws], flt)
	return nil
}

func runFleet(args []string, demo bool, stdout, stderr io.Writer) error {
	name := "run"
	if demo {
		name = "demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("workstations", 3, "number of workstations")
	dir := fs.String("dir", "", "directory of the workstations (default: a new temporary directory, removed at the end)")
	exporter := fs.String("exporter", "", "the exporter's executable (default: candy_cadence_exporter beside this program, then on PATH)")
	control := fs.String("control", "127.0.0.1:0", "loopback address of the control interface")
	day := fs.Duration("day", 10*time.Minute, "length of one compressed day (0: always logged on, application always open)")
	rate := fs.Float64("rate", 2, "user operations per second while the application runs")
	models := fs.Int("models", 2000, "models in each library at creation")
	dataFS := fs.Int("data-fs-mib", 64, "size of the tmpfs mounted on each workstation's data directory, for disk-full (0: none; needs root)")
	restart := fs.Duration("restart-after-crash", time.Minute, "how long the user takes to restart the application after a crash")
	var exporterArgs []string
	fs.Func("exporter-arg", "a further flag for every exporter, e.g. --exporter-arg=--no-collector.logs.file-events (repeatable)", func(s string) error {
		exporterArgs = append(exporterArgs, s)
		return nil
	})
	faults := faultFlags{}
	fs.Var(faults, "fault", "a fault active from the start, <workstation>=<fault> (repeatable)")
	var repo, prometheus, alertmanager *string
	var forDivisor *int
	var scrape, eval *time.Duration
	if demo {
		repo = fs.String("repo", ".", "the repository (rules/ and deploy/ are read from it)")
		prometheus = fs.String("prometheus", "", "Prometheus executable (default: prometheus on PATH, then .tools/bin)")
		alertmanager = fs.String("alertmanager", "", "Alertmanager executable (default: prometheus-alertmanager or alertmanager on PATH, then .tools/bin)")
		forDivisor = fs.Int("for-divisor", 1, "divide every rule's for: by this in the demo's copy of the rules (1: as shipped)")
		scrape = fs.Duration("scrape-interval", 5*time.Second, "scrape interval of the demo's Prometheus (0: as shipped)")
		eval = fs.Duration("evaluation-interval", 5*time.Second, "rule evaluation interval of the demo's Prometheus (0: as shipped)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return fmt.Errorf("--workstations must be at least 1")
	}
	names := make([]string, *n)
	for i := range names {
		names[i] = fmt.Sprintf("ws%02d", i+1)
	}
	for ws := range faults {
		if !contains(names, ws) {
			return fmt.Errorf("--fault names workstation %q: want ws01 to ws%02d", ws, *n)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if *exporter == "" {
		if *exporter, err = fleet.FindBinary(nil, filepath.Join(filepath.Dir(self), "candy_cadence_exporter"), "candy_cadence_exporter"); err != nil {
			return fmt.Errorf("no exporter: build it (make build) or pass --exporter: %w", err)
		}
	}
	var promBin, amBin string
	if demo {
		tools := []string{filepath.Join(*repo, ".tools", "bin")}
		if promBin, err = fleet.FindBinary(tools, *prometheus, "prometheus"); err != nil {
			return fmt.Errorf("no Prometheus: install it or pass --prometheus: %w", err)
		}
		if amBin, err = fleet.FindBinary(tools, *alertmanager, "prometheus-alertmanager", "alertmanager"); err != nil {
			return fmt.Errorf("no Alertmanager: install it or pass --alertmanager: %w", err)
		}
	}
	root := *dir
	if root == "" {
		if root, err = os.MkdirTemp("", "candy-cadence-sim-"); err != nil {
			return err
		}
		defer os.RemoveAll(root)
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stdout, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}

	var stations []*fleet.Workstation
	f := fleet.NewFleet(nil)
	defer func() { f.Workstations = stations; f.Stop() }()
	for i, ws := range names {
		addr, err := freeport.Address()
		if err != nil {
			return err
		}
		w, err := fleet.StartWorkstation(fleet.WorkstationConfig{
			Name: ws, Dir: filepath.Join(root, ws), Sim: self, Exporter: *exporter, ExporterAddr: addr,
			ExporterArgs: append(slices.Clone(simExporterArgs), exporterArgs...), Seed: uint64(i + 1), Rate: *rate, Models: *models,
			Day: *day, RestartAfterCrash: *restart, DataFSBytes: int64(*dataFS) << 20,
			Faults: faults[ws], Logf: logf,
		})
		if err != nil {
			return err
		}
		stations = append(stations, w)
	}
	f.Workstations = stations
	controlAddr, err := f.ServeControl(*control)
	if err != nil {
		return err
	}

	var stack *fleet.Stack
	if demo {
		stack, err = fleet.StartStack(fleet.StackConfig{
			Repo: *repo, Dir: filepath.Join(root, "servers"), Prometheus: promBin, Alertmanager: amBin,
			ForDivisor: *forDivisor, ScrapeInterval: *scrape, EvalInterval: *eval,
			Print: func(n fleet.Notification) {
				on := n.Labels["workstation"]
				if on == "" {
					on = "the fleet" // fleet and monitoring alerts carry no workstation
				}
				fmt.Fprintf(stdout, "%s notification to %-7s [%s] %s (%s) on %s\n", n.At.Format("15:04:05"), n.Receiver,
					n.Status, n.Labels["alertname"], n.Labels["severity"], on)
			},
		}, stations)
		if err != nil {
			return err
		}
		defer stack.Stop()
	}
	printURLs(stdout, root, controlAddr, stations, stack, *dir == "")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping every process the simulator started")
	return nil
}

// simExporterArgs shorten the exporter's background intervals so that a damaged library
// shows within seconds rather than at the next hourly check.
var simExporterArgs = []string{
	"--collector.sqlite.stats-interval=5s",
	"--collector.sqlite.integrity-interval=10s",
}

func printURLs(w io.Writer, root, control string, ws []*fleet.Workstation, st *fleet.Stack, temporary bool) {
	fmt.Fprintln(w)
	if st != nil {
		fmt.Fprintf(w, "Prometheus:    http://%s  (alerts: http://%s/alerts)\n", st.Prometheus.Addr, st.Prometheus.Addr)
		fmt.Fprintf(w, "Alertmanager:  http://%s\n", st.Alertmanager.Addr)
		fmt.Fprintf(w, "Webhook sink:  %s/<receiver> (each notification is printed below)\n", st.Sink.URL)
		fmt.Fprintf(w, "Rules loaded:  %s\n", filepath.Dir(st.RuleFiles[0]))
	}
	fmt.Fprintf(w, "Control:       http://%s/workstations\n", control)
	for _, s := range ws {
		fmt.Fprintf(w, "Workstation %s: exporter http://%s/metrics, files in %s\n", s.Name(), s.ExporterAddr(), s.Layout().Dir)
	}
	fmt.Fprintf(w, "\nInject a fault (clear a lasting one with -X DELETE or --clear):\n")
	fmt.Fprintf(w, "  curl -X POST 'http://%s/faults?workstation=%s&fault=crash'\n", control, ws[0].Name())
	fmt.Fprintf(w, "  candy_cadence_sim fault --control %s %s db-locked\n", control, ws[0].Name())
	fmt.Fprintf(w, "Faults: %s\n", faultNames())
	if st != nil {
		fmt.Fprintf(w, "\nGrafana cannot run here. To see the dashboards, add a Prometheus data source with URL\n")
		fmt.Fprintf(w, "http://%s in your Grafana and import the dashboards of this repository (dashboards/).\n", st.Prometheus.Addr)
	}
	if temporary {
		fmt.Fprintf(w, "\nEverything lives in %s and is removed at the end. Ctrl-C stops.\n\n", root)
	} else {
		fmt.Fprintf(w, "\nEverything lives in %s. Ctrl-C stops.\n\n", root)
	}
}

func faultNames() string {
	var s []string
	for _, f := range fleet.Faults {
		s = append(s, string(f))
	}
	return strings.Join(s, ", ")
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func runFault(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fault", flag.ContinueOnError)
	fs.SetOutput(stderr)
	control := fs.String("control", "", "address of the control interface (printed by run and demo)")
	clear := fs.Bool("clear", false, "clear the fault instead of injecting it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *control == "" || fs.NArg() != 2 {
		return fmt.Errorf("usage: candy_cadence_sim fault --control HOST:PORT [--clear] <workstation> <fault>")
	}
	method := http.MethodPost
	if *clear {
		method = http.MethodDelete
	}
	u := fmt.Sprintf("http://%s/faults?workstation=%s&fault=%s", *control, url.QueryEscape(fs.Arg(0)), url.QueryEscape(fs.Arg(1)))
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New(strings.TrimSpace(string(body)))
	}
	fmt.Fprint(stdout, string(body))
	return nil
}
