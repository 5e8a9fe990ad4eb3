package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/freeport"
)

// Notification is one alert in one webhook delivery from Alertmanager.
type Notification struct {
	Receiver string
	Status   string // firing or resolved
	Labels   map[string]string
	At       time.Time
}

// Sink is the webhook receiver every Alertmanager receiver posts to; the last path element
// names the receiver.
type Sink struct {
	URL   string
	srv   *http.Server
	print func(Notification)

	mu  sync.Mutex
	got []Notification
}

// StartSink listens on a free loopback port; print, if not nil, is called for each
// notification (the demo prints them in the terminal).
func StartSink(print func(Notification)) (*Sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Sink{URL: "http://" + l.Addr().String(), print: print}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.receive), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *Sink) receive(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Alerts []struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	receiver := strings.Trim(r.URL.Path, "/")
	for _, a := range msg.Alerts {
		n := Notification{Receiver: receiver, Status: a.Status, Labels: a.Labels, At: time.Now()}
		s.mu.Lock()
		s.got = append(s.got, n)
		s.mu.Unlock()
		if s.print != nil {
			s.print(n)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// Notifications returns every notification received so far.
func (s *Sink) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notification(nil), s.got...)
}

// Close stops the sink.
func (s *Sink) Close() { _ = s.srv.Close() }

// Server is a running Prometheus or Alertmanager.
type Server struct {
	Name    string
	Addr    string
	LogFile string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// StartServer runs binary with args, its output in logFile, and waits until
// http://addr/-/ready answers 200.
func StartServer(name, binary, addr, logFile string, args ...string) (*Server, error) {
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, args...)
	ownProcessGroup(cmd)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, binary, err)
	}
	s := &Server{Name: name, Addr: addr, LogFile: logFile, cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); out.Close(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("%s exited at start-up; its output is in %s", name, logFile)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("%s not ready at %s after 60s; its output is in %s", name, addr, logFile)
		}
	}
}

// Stop ends the server (SIGTERM, then a kill after 10 s).
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// StackConfig describes the monitoring servers around a fleet.
type StackConfig struct {
	Repo         string // the repository: rules/ and deploy/ are read from it
	Dir          string // where configurations, data and server output go
	Prometheus   string // binaries
	Alertmanager string
	// ForDivisor divides every rule's for: and keep_firing_for: (1 keeps them as shipped).
	ForDivisor                   int
	ScrapeInterval, EvalInterval time.Duration // 0 keeps the shipped ones
	GroupWait, GroupInterval     time.Duration // 0 keeps the shipped ones
	Print                        func(Notification)
}

// Stack is a running Prometheus, Alertmanager and webhook sink.
type Stack struct {
	Prometheus, Alertmanager *Server
	Sink                     *Sink
	TargetsFile              string
	RuleFiles                []string
}

// StartStack starts the sink, Alertmanager with the shipped configuration pointed at the sink,
// and Prometheus with the shipped configuration and rules, discovering ws through file_sd.
func StartStack(cfg StackConfig, ws []*Workstation) (_ *Stack, err error) {
	st := &Stack{}
	defer func() {
		if err != nil {
			st.Stop()
		}
	}()
	if st.Sink, err = StartSink(cfg.Print); err != nil {
		return nil, err
	}
	amDir := filepath.Join(cfg.Dir, "alertmanager")
	if err := os.MkdirAll(amDir, 0o755); err != nil {
		return nil, err
	}
	amCfg, err := AlertmanagerConfig(filepath.Join(cfg.Repo, "deploy", "alertmanager", "alertmanager.yml"), st.Sink.URL, cfg.GroupWait, cfg.GroupInterval)
	if err != nil {
		return nil, err
	}
	amFile := filepath.Join(amDir, "alertmanager.yml")
	if err := os.WriteFile(amFile, amCfg, 0o644); err != nil {
		return nil, err
	}
	amAddr, err := freeport.Address()
	if err != nil {
		return nil, err
	}
	st.Alertmanager, err = StartServer("alertmanager", cfg.Alertmanager, amAddr, filepath.Join(amDir, "output.log"),
		"--config.file="+amFile, "--storage.path="+filepath.Join(amDir, "data"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	if err != nil {
		return nil, err
	}

	promDir := filepath.Join(cfg.Dir, "prometheus")
	if st.RuleFiles, err = CopyRules(filepath.Join(cfg.Repo, "rules"), filepath.Join(promDir, "rules"), cfg.ForDivisor); err != nil {
		return nil, err
	}
	promCfg, err := PrometheusConfig(filepath.Join(cfg.Repo, "deploy", "prometheus", "prometheus.yml"), PrometheusOptions{
		RuleFiles: st.RuleFiles, AlertmanagerAddr: amAddr, ScrapeInterval: cfg.ScrapeInterval, EvalInterval: cfg.EvalInterval,
	})
	if err != nil {
		return nil, err
	}
	promFile := filepath.Join(promDir, "prometheus.yml")
	if err := os.WriteFile(promFile, promCfg, 0o644); err != nil {
		return nil, err
	}
	st.TargetsFile = filepath.Join(promDir, "targets", "fleet.yml")
	if err := WriteTargets(st.TargetsFile, ws); err != nil {
		return nil, err
	}
	promAddr, err := freeport.Address()
	if err != nil {
		return nil, err
	}
	st.Prometheus, err = StartServer("prometheus", cfg.Prometheus, promAddr, filepath.Join(promDir, "output.log"),
		"--config.file="+promFile, "--storage.tsdb.path="+filepath.Join(promDir, "data"),
		"--web.listen-address="+promAddr)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Stop stops whatever of the stack runs.
func (st *Stack) Stop() {
	if st.Prometheus != nil {
		st.Prometheus.Stop()
	}
	if st.Alertmanager != nil {
		st.Alertmanager.Stop()
	}
	if st.Sink != nil {
		st.Sink.Close()
	}
}

// AMAlert is an alert as Alertmanager's API lists it.
type AMAlert struct {
	Labels    map[string]string `json:"labels"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

// AlertmanagerAlerts lists the alerts Alertmanager at addr holds now.
func AlertmanagerAlerts(ctx context.Context, addr string) ([]AMAlert, error) {
	var out []AMAlert
	err := getJSON(ctx, "http://"+addr+"/api/v2/alerts", &out)
	return out, err
}

// Query runs an instant PromQL query and returns its samples' labels and values.
func Query(ctx context.Context, promAddr, q string) ([]Sample, error) {
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(ctx, "http://"+promAddr+"/api/v1/query?query="+url.QueryEscape(q), &body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, body.Error)
	}
	var out []Sample
	for _, r := range body.Data.Result {
		v, _ := r.Value[1].(string)
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}

// Sample is one result of an instant query.
type Sample struct {
	Labels map[string]string
	Value  string
}

// Rule is a rule as Prometheus's /api/v1/rules lists it.
type Rule struct {
	Group     string
	Name      string `json:"name"`
	Type      string `json:"type"` // recording or alerting
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

// Rules lists the rules Prometheus at addr has loaded.
func Rules(ctx context.Context, promAddr string) ([]Rule, error) {
	var body struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []Rule `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := getJSON(ctx, "http://"+promAddr+"/api/v1/rules", &body); err != nil {
		return nil, err
	}
	var out []Rule
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			r.Group = g.Name
			out = append(out, r)
		}
	}
	return out, nil
}

func getJSON(ctx context.Context, u string, v any) error {
	// Alertmanager answers 503 past its limit of concurrent GET requests (8 on a small
	// machine): wait and ask again rather than fail a caller that polls with others.
	for attempt := 0; ; attempt++ {
		busy, err := getJSONOnce(ctx, u, v)
		if !busy || attempt == 20 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(50*(attempt+1)) * time.Millisecond):
		}
	}
}

// getJSONOnce is one attempt of getJSON; busy reports a 503, which may pass.
func getJSONOnce(ctx context.Context, u string, v any) (busy bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return resp.StatusCode == http.StatusServiceUnavailable, fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(b)))
	}
	return false, json.NewDecoder(resp.Body).Decode(v)
}

// FindBinary returns the first of names found as given (a path), on PATH, or in dirs.
func FindBinary(dirs []string, names ...string) (string, error) {
	for _, n := range names {
		if n == "" {
			continue
		}
		if strings.ContainsRune(n, filepath.Separator) {
			if _, err := os.Stat(n); err == nil {
				return n, nil
			}
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, d := range dirs {
			p := filepath.Join(d, n)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("none of %s found on PATH or in %s", strings.Join(names, ", "), strings.Join(dirs, ", "))
}
