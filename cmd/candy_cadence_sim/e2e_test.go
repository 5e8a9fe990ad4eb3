package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/fleet"
	"github.com/candy-cadence/candy_cadence_exporter/internal/freeport"
	"github.com/candy-cadence/candy_cadence_exporter/internal/servertest"
)

// The e2e timing. Rules' for: durations are divided by forDivisor in the test's copy (a 5m
// for: holds 5s); scrapes every 2s and evaluation every 1s make a condition visible within
// seconds. Windows in expressions are untouched.
const (
	forDivisor     = 60
	scrapeInterval = 2 * time.Second
	evalInterval   = time.Second
	alertTimeout   = 4 * time.Minute
	calmDay        = 50 * time.Second // two of them make the calm phase
	recordingWait  = 5 * time.Minute  // the longest the run waits for every recording rule
	leakFast       = 48 << 20         // memory-leak passes the 1500 MiB threshold in about 30 s
)

// TestFleetEndToEnd runs a small fleet against a real Prometheus loaded with the shipped
// configuration and rules and a real Alertmanager routing with the shipped tree: every fault
// must raise its alert and reach the receiver its severity promises, calm workstations must
// raise nothing above info, every recording rule must yield a series and no rule may fail.
func TestFleetEndToEnd(t *testing.T) {
	if os.Getenv("CANDY_CADENCE_E2E") == "" {
		t.Skip("the fleet end-to-end test runs with make e2e (CANDY_CADENCE_E2E=1)")
	}
	promBin := servertest.Binary(t, "PROMETHEUS", "prometheus")
	amBin := servertest.Binary(t, "ALERTMANAGER", "prometheus-alertmanager", "alertmanager")
	sim, exporter := binaries(t)
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	// The workstations' own events (starts, exits, log-on and log-off) are shown only when
	// the test fails, so that the output is the report lines.
	events := &eventLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("workstation events:\n%s", events.String())
		}
	})

	// One workstation per fault, all at once, and two calm ones with a day cycle.
	type station struct {
		exp  *expectation
		ws   *fleet.Workstation
		from time.Time // when the fault was injected
	}
	var stations []*station
	var all []*fleet.Workstation
	start := func(name string, cfg fleet.WorkstationConfig) *fleet.Workstation {
		addr, err := freeport.Address()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Name, cfg.Dir, cfg.Sim, cfg.Exporter, cfg.ExporterAddr = name, filepath.Join(root, name), sim, exporter, addr
		cfg.ExporterArgs = simExporterArgs
		cfg.Seed = uint64(len(all) + 1)
		cfg.Models = 500
		cfg.Rate = 1.5
		cfg.RestartAfterCrash = 10 * time.Minute // stays down until the test has seen the crash
		cfg.Logf = events.logf
		w, err := fleet.StartWorkstation(cfg)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, w)
		return w
	}
	f := fleet.NewFleet(nil)
	t.Cleanup(func() { f.Workstations = all; f.Stop() })
	for i := range expectations {
		e := &expectations[i]
		cfg := fleet.WorkstationConfig{}
		if e.atStart {
			cfg.Faults = []fleet.Fault{e.fault}
		}
		if e.fault == fleet.FaultDiskFull {
			cfg.DataFSBytes = 64 << 20
		}
		if e.fault == fleet.FaultMemoryLeak {
			cfg.LeakBytesPerSecond = leakFast
		}
		s := &station{exp: e, ws: start(fmt.Sprintf("ws%02d-%s", i+1, e.fault), cfg)}
		if e.atStart {
			s.from = time.Now()
		}
		stations = append(stations, s)
	}
	calm := []*fleet.Workstation{
		start("calm1", fleet.WorkstationConfig{Day: calmDay}),
		start("calm2", fleet.WorkstationConfig{Day: calmDay}),
	}
	f.Workstations = all
	control, err := f.ServeControl("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	stack, err := fleet.StartStack(fleet.StackConfig{
		Repo: repo, Dir: filepath.Join(root, "servers"), Prometheus: promBin, Alertmanager: amBin,
		ForDivisor: forDivisor, ScrapeInterval: scrapeInterval, EvalInterval: evalInterval,
		GroupWait: time.Second, GroupInterval: 2 * time.Second,
	}, all)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stack.Stop()
		if t.Failed() {
			for _, s := range []*fleet.Server{stack.Prometheus, stack.Alertmanager} {
				b, _ := os.ReadFile(s.LogFile)
				t.Logf("%s output (last 3000 bytes):\n%s", s.Name, tail(b, 3000))
			}
		}
	})
	calmStart := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ruleErrors := watchRuleHealth(ctx, stack.Prometheus.Addr)

	badControlInput(t, control, stations[0].ws)

	// Baseline: every fault workstation scraped with its application running for a while, so
	// that counters are seen at their value before the fault.
	waitFor(t, 2*time.Minute, "every fault workstation's application is seen running", func() bool {
		res, err := fleet.Query(ctx, stack.Prometheus.Addr, `count(max_over_time(candy_cadence_up{workstation=~"ws.*"}[1m]) == 1)`)
		return err == nil && len(res) == 1 && res[0].Value == fmt.Sprint(len(stations))
	})
	time.Sleep(10 * time.Second)

	for _, s := range stations {
		if s.exp.atStart {
			continue
		}
		if s.exp.fault == fleet.FaultDiskFull {
			if reason := s.ws.Status().DiskFullReason; reason != "" {
				s.exp = &expectation{fault: s.exp.fault, pending: "this machine cannot mount a small filesystem for the data directory: " + reason}
			}
		}
		if err := postFault(control, s.ws.Name(), string(s.exp.fault)); err != nil {
			if s.exp.pending != "" {
				t.Logf("inject %s: %v", s.exp.fault, err)
				continue
			}
			t.Fatalf("inject %s on %s: %v", s.exp.fault, s.ws.Name(), err)
		}
		s.from = time.Now()
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	var lines []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		line := fmt.Sprintf(format, args...)
		lines = append(lines, line)
		fmt.Println(line)
	}
	for _, s := range stations {
		if s.exp.pending != "" {
			report("fault %s on %s pending: %s", s.exp.fault, s.ws.Name(), s.exp.pending)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			after, err := waitDelivered(ctx, stack, s.ws.ExporterAddr(), *s.exp, s.from)
			if err != nil {
				t.Errorf("fault %s on %s: %v", s.exp.fault, s.ws.Name(), err)
				return
			}
			report("fault %s on %s -> %s (%s) after %.0fs", s.exp.fault, s.ws.Name(), s.exp.alert, s.exp.severity, after.Seconds())
			if s.exp.inhibited != "" {
				if err := waitInhibited(ctx, stack, s.ws.ExporterAddr(), s.exp.inhibited, s.from); err != nil {
					t.Errorf("fault %s on %s: %v", s.exp.fault, s.ws.Name(), err)
					return
				}
				report("fault %s on %s -> %s fired and was inhibited", s.exp.fault, s.ws.Name(), s.exp.inhibited)
			}
		}()
	}
	wg.Wait()

	// The calm phase lasts at least two compressed days: two nights, six sessions.
	if rest := 2*calmDay - time.Since(calmStart); rest > 0 {
		time.Sleep(rest)
	}
	checkCalm(t, stack, calm, report)
	checkRecordingRules(t, ctx, stack.Prometheus.Addr, calmStart.Add(recordingWait))
	cancel()
	for _, e := range ruleErrors() {
		t.Errorf("rule evaluation failed: %s", e)
	}
}

// binaries returns the simulator and exporter built by make (SIM_BINARY, EXPORTER_BINARY),
// or builds them.
func binaries(t *testing.T) (sim, exporter string) {
	sim, exporter = os.Getenv("SIM_BINARY"), os.Getenv("EXPORTER_BINARY")
	if sim != "" && exporter != "" {
		return sim, exporter
	}
	dir := t.TempDir()
	for _, b := range []struct{ out, pkg string }{{"candy_cadence_sim", "."}, {"candy_cadence_exporter", "../candy_cadence_exporter"}} {
		cmd := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", filepath.Join(dir, b.out), b.pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return filepath.Join(dir, "candy_cadence_sim"), filepath.Join(dir, "candy_cadence_exporter")
}

// badControlInput checks that the control interface refuses bad requests with a message and
// changes nothing.
func badControlInput(t *testing.T, control string, ws *fleet.Workstation) {
	before := ws.Status()
	for _, q := range []string{
		"workstation=" + ws.Name() + "&fault=meteor-strike",
		"workstation=nowhere&fault=crash",
		"fault=crash",
	} {
		resp, err := http.Post("http://"+control+"/faults?"+q, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || len(strings.TrimSpace(string(body))) == 0 {
			t.Errorf("POST /faults?%s: %s %q, want 400 and a message", q, resp.Status, body)
		}
	}
	req, _ := http.NewRequest(http.MethodDelete, "http://"+control+"/faults?workstation="+ws.Name()+"&fault=hang", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("clearing a fault that is not active: %s, want 400", resp.Status)
	}
	if after := ws.Status(); !slices.Equal(after.ActiveFaults, before.ActiveFaults) {
		t.Errorf("bad control input changed the faults: %v -> %v", before.ActiveFaults, after.ActiveFaults)
	}
}

func postFault(control, ws, fault string) error {
	resp, err := http.Post(fmt.Sprintf("http://%s/faults?workstation=%s&fault=%s", control, url.QueryEscape(ws), url.QueryEscape(fault)), "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// waitDelivered waits until Alertmanager's API holds the expected alert for the workstation,
// routed to the expected receiver only, and the sink got it on that receiver. It returns the
// time from the fault to the delivery.
func waitDelivered(ctx context.Context, st *fleet.Stack, instance string, e expectation, from time.Time) (time.Duration, error) {
	match := func(l map[string]string) bool {
		return l["alertname"] == e.alert && l["severity"] == e.severity && l["instance"] == instance
	}
	timeout := cmp.Or(e.timeout, alertTimeout)
	deadline := time.Now().Add(timeout)
	inAPI := false
	for time.Now().Before(deadline) {
		if !inAPI {
			alerts, err := fleet.AlertmanagerAlerts(ctx, st.Alertmanager.Addr)
			if err != nil {
				return 0, err
			}
			for _, a := range alerts {
				if !match(a.Labels) {
					continue
				}
				var names []string
				for _, r := range a.Receivers {
					names = append(names, r.Name)
				}
				if !slices.Equal(names, []string{e.receiver}) {
					return 0, fmt.Errorf("%s (%s) is routed to %v, want [%s]", e.alert, e.severity, names, e.receiver)
				}
				inAPI = true
			}
		}
		for _, n := range st.Sink.Notifications() {
			if n.Status != "firing" || !match(n.Labels) {
				continue
			}
			if n.Receiver != e.receiver {
				return 0, fmt.Errorf("%s (%s) was delivered to %s, want %s", e.alert, e.severity, n.Receiver, e.receiver)
			}
			if inAPI {
				return n.At.Sub(from), nil
			}
		}
		time.Sleep(time.Second)
	}
	if inAPI {
		return 0, fmt.Errorf("%s (%s) reached Alertmanager's API but no notification reached %s within %v", e.alert, e.severity, e.receiver, timeout)
	}
	return 0, fmt.Errorf("%s (%s) did not reach Alertmanager within %v", e.alert, e.severity, timeout)
}

// waitInhibited waits until Prometheus fires alert for the workstation, then checks that no
// notification of it reached any receiver by the time Alertmanager has had a group interval
// to send one.
func waitInhibited(ctx context.Context, st *fleet.Stack, instance, alert string, from time.Time) error {
	q := fmt.Sprintf(`ALERTS{alertname=%q, instance=%q, alertstate="firing"}`, alert, instance)
	for deadline := from.Add(alertTimeout); ; time.Sleep(time.Second) {
		res, err := fleet.Query(ctx, st.Prometheus.Addr, q)
		if err != nil {
			return err
		}
		if len(res) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not fire within %v", alert, alertTimeout)
		}
	}
	time.Sleep(10 * time.Second) // longer than the test's group_wait and group_interval
	for _, n := range st.Sink.Notifications() {
		if n.Labels["alertname"] == alert && n.Labels["instance"] == instance {
			return fmt.Errorf("%s reached %s; it must be inhibited while the incident pages", alert, n.Receiver)
		}
	}
	return nil
}

// checkCalm fails (or, while calmPending is set, reports) every alert above info that
// reached Alertmanager for a calm workstation during the run.
func checkCalm(t *testing.T, st *fleet.Stack, calm []*fleet.Workstation, report func(string, ...any)) {
	instances := map[string]string{}
	for _, w := range calm {
		instances[w.ExporterAddr()] = w.Name()
	}
	seen := map[string]bool{}
	var loud []string
	note := func(labels map[string]string) {
		ws, ok := instances[labels["instance"]]
		sev := labels["severity"]
		if !ok || sev == "info" || calmIgnored[labels["alertname"]] != "" {
			return
		}
		key := fmt.Sprintf("%s (%s) on %s", labels["alertname"], sev, ws)
		if !seen[key] {
			seen[key] = true
			loud = append(loud, key)
		}
	}
	for _, n := range st.Sink.Notifications() {
		note(n.Labels)
	}
	// Alerts still pending delivery count too.
	alerts, err := fleet.AlertmanagerAlerts(context.Background(), st.Alertmanager.Addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		note(a.Labels)
	}
	switch {
	case len(loud) == 0 && calmPending == "":
		report("calm: no alert above info")
	case len(loud) == 0:
		report("calm: no alert above info (marked pending, and passing: clear calmPending)")
	case calmPending != "":
		report("calm: pending: %s (fired: %s)", calmPending, strings.Join(loud, ", "))
	default:
		t.Errorf("calm: alerts above info fired: %s", strings.Join(loud, ", "))
	}
}

// checkRecordingRules fails for every recording rule that yielded no series during the run.
// Rules over subqueries with a 1m step (the trends) need samples at two minute boundaries, so
// it waits for them until recordingDeadline.
func checkRecordingRules(t *testing.T, ctx context.Context, prom string, recordingDeadline time.Time) {
	rules, err := fleet.Rules(ctx, prom)
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string]bool{}
	for _, r := range rules {
		if r.Type == "recording" {
			missing[r.Name] = true
		}
	}
	if len(missing) == 0 {
		t.Fatal("Prometheus loaded no recording rules")
	}
	for {
		for name := range missing {
			res, err := fleet.Query(ctx, prom, fmt.Sprintf(`count(last_over_time({__name__=%q}[1h]))`, name))
			if err != nil {
				t.Errorf("recording rule %s: %v", name, err)
				delete(missing, name)
				continue
			}
			if len(res) == 1 && res[0].Value != "0" {
				delete(missing, name)
				if _, excused := recordingNeedsHistory[name]; excused {
					t.Errorf("recording rule %s yielded a series: remove it from recordingNeedsHistory", name)
				}
			}
		}
		waiting := 0
		for name := range missing {
			if _, excused := recordingNeedsHistory[name]; !excused {
				waiting++
			}
		}
		if waiting == 0 || time.Now().After(recordingDeadline) {
			break
		}
		time.Sleep(5 * time.Second)
	}
	names := make([]string, 0, len(missing))
	for name := range missing {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if reason, excused := recordingNeedsHistory[name]; excused {
			fmt.Printf("recording %s pending: %s\n", name, reason)
		} else {
			t.Errorf("recording rule %s yielded no series during the run", name)
		}
	}
}

// watchRuleHealth polls Prometheus's rules until ctx ends and returns a function listing
// every rule evaluation error seen.
func watchRuleHealth(ctx context.Context, prom string) func() []string {
	var mu sync.Mutex
	seen := map[string]bool{}
	var errs []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			rules, err := fleet.Rules(ctx, prom)
			if err == nil {
				mu.Lock()
				for _, r := range rules {
					if r.Health == "err" && !seen[r.Name+r.LastError] {
						seen[r.Name+r.LastError] = true
						errs = append(errs, fmt.Sprintf("%s in %s: %s", r.Name, r.Group, r.LastError))
					}
				}
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(3 * time.Second):
			}
		}
	}()
	return func() []string {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return errs
	}
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", limit, what)
		}
		time.Sleep(time.Second)
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// eventLog collects the workstations' events.
type eventLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *eventLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
