package fleet

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fleet is a set of running workstations and the control interface that injects and clears
// their faults.
type Fleet struct {
	Workstations []*Workstation
	srv          *http.Server
	addr         string
}

// NewFleet returns a fleet of the given workstations.
func NewFleet(ws []*Workstation) *Fleet { return &Fleet{Workstations: ws} }

// Workstation returns the workstation named name, or nil.
func (f *Fleet) Workstation(name string) *Workstation {
	i := slices.IndexFunc(f.Workstations, func(w *Workstation) bool { return w.Name() == name })
	if i < 0 {
		return nil
	}
	return f.Workstations[i]
}

// ServeControl starts the control interface on addr (a loopback address; port 0 picks one)
// and returns the address it listens on.
//
//	GET    /workstations                                   state of every workstation (JSON)
//	POST   /faults?workstation=<name>&fault=<fault>        inject a fault
//	DELETE /faults?workstation=<name>&fault=<fault>        clear a lasting fault
//
// A bad request gets 400 and one line saying what is wrong, and changes nothing.
func (f *Fleet) ServeControl(addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("control interface: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /workstations", f.handleStatus)
	mux.HandleFunc("POST /faults", f.handleFault)
	mux.HandleFunc("DELETE /faults", f.handleFault)
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	f.addr = l.Addr().String()
	go func() { _ = f.srv.Serve(l) }()
	return f.addr, nil
}

func (f *Fleet) handleStatus(w http.ResponseWriter, _ *http.Request) {
	var out []Status
	for _, ws := range f.Workstations {
		out = append(out, ws.Status())
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

func (f *Fleet) handleFault(w http.ResponseWriter, r *http.Request) {
	if err := f.Apply(r.Method == http.MethodPost, r.URL.Query().Get("workstation"), r.URL.Query().Get("fault")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, "ok")
}

// Apply injects (or clears) the fault named fault on the workstation named ws.
func (f *Fleet) Apply(inject bool, ws, fault string) error {
	if ws == "" || fault == "" {
		return fmt.Errorf("both workstation and fault are required, e.g. ?workstation=%s&fault=crash", f.Workstations[0].Name())
	}
	station := f.Workstation(ws)
	if station == nil {
		names := make([]string, len(f.Workstations))
		for i, w := range f.Workstations {
			names[i] = w.Name()
		}
		return fmt.Errorf("unknown workstation %q: want one of %s", ws, strings.Join(names, ", "))
	}
	flt, err := ParseFault(fault)
	if err != nil {
		return err
	}
	if inject {
		return station.Inject(flt)
	}
	return station.Clear(flt)
}

// Stop stops the control interface and every workstation.
func (f *Fleet) Stop() {
	if f.srv != nil {
		_ = f.srv.Close()
	}
	done := make(chan struct{}, len(f.Workstations))
	for _, w := range f.Workstations {
		go func() { w.Stop(); done <- struct{}{} }()
	}
	for range f.Workstations {
		<-done
	}
}
