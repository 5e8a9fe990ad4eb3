package sqlite

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
)

// appsimProcess is the appsim command running in a child process: this test binary re-executed
// (see TestMain), so that its locks and WAL index are another process's, as the application's are.
type appsimProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr strings.Builder
}

func startAppsim(t testing.TB, waitFor string, args ...string) *appsimProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &appsimProcess{cmd: exec.Command(exe, "-test.run=^$"), lines: make(chan string, 16)}
	p.cmd.Env = append(os.Environ(), appsimEnv+"="+strings.Join(args, "\x1f"))
	p.cmd.Stderr = &p.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	select {
	case line := <-p.lines:
		if line != waitFor {
			t.Fatalf("appsim %v said %q, want %q; stderr: %s", args, line, waitFor, p.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("appsim %v did not say %q; stderr: %s", args, waitFor, p.stderr.String())
	}
	return p
}

// stopWriter ends a writer by closing its standard input and returns its report.
func (p *appsimProcess) stopWriter(t testing.TB) appsim.WriteReport {
	t.Helper()
	p.stdin.Close()
	return readReport(t, p)
}

// readReport waits for a writer to print its report and exit.
func readReport(t testing.TB, p *appsimProcess) appsim.WriteReport {
	t.Helper()
	var rep appsim.WriteReport
	select {
	case line, ok := <-p.lines:
		if !ok {
			t.Fatalf("writer ended without a report; stderr: %s", p.stderr.String())
		}
		if err := json.Unmarshal([]byte(line), &rep); err != nil {
			t.Fatalf("writer report %q: %v", line, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("writer did not stop")
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("writer: %v; stderr: %s", err, p.stderr.String())
	}
	return rep
}

// wait waits for the process to exit by itself.
func (p *appsimProcess) wait(t testing.TB) {
	t.Helper()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("appsim: %v; stderr: %s", err, p.stderr.String())
	}
}

// dirNames lists a directory's entries, recursively, relative to it.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	var names []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
