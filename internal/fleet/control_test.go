package fleet

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestControlRefusesBadInput drives the control interface of a workstation whose
// application is not running: every bad request gets 400 and a message, and changes nothing.
func TestControlRefusesBadInput(t *testing.T) {
	w := &Workstation{cfg: WorkstationConfig{Name: "ws01", Logf: t.Logf}, layout: NewLayout(t.TempDir()),
		mountErr: errors.New("not mounted in this test")}
	f := NewFleet([]*Workstation{w})
	addr, err := f.ServeControl("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.srv.Close() })
	do := func(method, query string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+addr+"/faults?"+query, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	for _, c := range []struct{ method, query, want string }{
		{http.MethodPost, "workstation=ws01&fault=meteor", "unknown fault"},
		{http.MethodPost, "workstation=ws09&fault=crash", "unknown workstation"},
		{http.MethodPost, "fault=crash", "required"},
		{http.MethodPost, "workstation=ws01&fault=crash", "needs the application running"},
		{http.MethodPost, "workstation=ws01&fault=disk-full", "small filesystem"},
		{http.MethodDelete, "workstation=ws01&fault=hang", "not active"},
		{http.MethodDelete, "workstation=ws01&fault=crash", "cannot be cleared"},
	} {
		code, msg := do(c.method, c.query)
		if code != http.StatusBadRequest || !strings.Contains(msg, c.want) {
			t.Errorf("%s %s: %d %q, want 400 and %q", c.method, c.query, code, msg, c.want)
		}
		if len(w.active) != 0 {
			t.Fatalf("%s %s changed the faults: %v", c.method, c.query, w.active)
		}
	}
	// A lasting fault of the application is remembered for its next start.
	if code, msg := do(http.MethodPost, "workstation=ws01&fault=hang"); code != http.StatusOK {
		t.Fatalf("inject hang: %d %s", code, msg)
	}
	if code, msg := do(http.MethodPost, "workstation=ws01&fault=hang"); code != http.StatusBadRequest || !strings.Contains(msg, "already active") {
		t.Errorf("inject hang twice: %d %q", code, msg)
	}
	if !slices.Equal(w.Status().ActiveFaults, []Fault{FaultHang}) {
		t.Errorf("active faults %v, want [hang]", w.Status().ActiveFaults)
	}
	if code, msg := do(http.MethodDelete, "workstation=ws01&fault=hang"); code != http.StatusOK {
		t.Fatalf("clear hang: %d %s", code, msg)
	}
	if len(w.Status().ActiveFaults) != 0 {
		t.Errorf("active faults after clear: %v", w.Status().ActiveFaults)
	}
}
