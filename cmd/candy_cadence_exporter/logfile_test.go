package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/servertest"
)

func TestSizeCappedFileRotatesBeforeARecordWouldPassTheCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "exporter.log")
	w, err := openSizeCappedFile(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	record := func(i int) []byte { return []byte(fmt.Sprintf("record %02d %s\n", i, strings.Repeat("x", 19))) } // 30 bytes
	for i := range 7 {
		if n, err := w.Write(record(i)); err != nil || n != 30 {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	// 3 records fit in 100 bytes: 0-2 went to the first file, 3-5 to the second (now .1),
	// 6 to the current one; the first file's records are gone.
	current, _ := os.ReadFile(path)
	previous, _ := os.ReadFile(path + ".1")
	if want := string(record(6)); string(current) != want {
		t.Errorf("current file %q, want %q", current, want)
	}
	if want := string(record(3)) + string(record(4)) + string(record(5)); string(previous) != want {
		t.Errorf("previous file %q, want %q", previous, want)
	}
}

func TestSizeCappedFileAppendsToAnExistingLogAndCountsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exporter.log")
	if err := os.WriteFile(path, bytes.Repeat([]byte("old\n"), 20), 0o644); err != nil { // 80 bytes
		t.Fatal(err)
	}
	w, err := openSizeCappedFile(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write([]byte("0123456789\n")); err != nil { // 91 bytes: still fits
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("0123456789\n")); err != nil { // would be 102: rotates first
		t.Fatal(err)
	}
	if info, err := os.Stat(path + ".1"); err != nil || info.Size() != 91 {
		t.Fatalf("previous file: %v, %v; want 91 bytes", info, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "0123456789\n" {
		t.Fatalf("current file %q", b)
	}
}

func TestSizeCappedFileKeepsARecordLargerThanTheCapWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exporter.log")
	w, err := openSizeCappedFile(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := strings.Repeat("y", 50) + "\n"
	for range 2 {
		if _, err := w.Write([]byte(big)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{path, path + ".1"} {
		if b, _ := os.ReadFile(p); string(b) != big {
			t.Errorf("%s: %q, want one whole record", p, b)
		}
	}
}

func TestBinaryLogFile(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "logs", "exporter.log")
	// stderr goes to a file, not a buffer: it is read only after the process has exited.
	stderrFile, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderrFile.Close()
	addr := servertest.FreeAddress(t)
	cmd := exec.Command(binary, "--web.listen-address="+addr, "--app.working-dir="+dir,
		"--log.file="+logPath, "--no-collector.sqlite", "--no-collector.logs")
	cmd.Stdout, cmd.Stderr = stderrFile, stderrFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), "starting candy_cadence_exporter") && strings.Contains(string(b), "Listening on") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log file %s lacks the start-up lines:\n%s", logPath, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := get(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/metrics"); code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if out, _ := os.ReadFile(stderrFile.Name()); len(out) != 0 {
		t.Errorf("with --log.file, stderr got %q", out)
	}
}

func TestBinaryLogFileStartupErrorsGoToBoth(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "exporter.log")
	out, code := runBinary(t, "--log.file="+logPath, "--web.config.file=/nonexistent/web.yml")
	if code != 2 {
		t.Fatalf("exit code %d, want 2; output %q", code, out)
	}
	logged, _ := os.ReadFile(logPath)
	if !strings.Contains(out, "--web.config.file") || string(logged) != out {
		t.Fatalf("stderr %q and log file %q should both hold the one error line", out, logged)
	}
}

func TestBinaryLogFileBadValues(t *testing.T) {
	dir := t.TempDir()
	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ args []string }{
		{[]string{"--log.file=" + filepath.Join(notADir, "exporter.log")}},
		{[]string{"--log.file=" + filepath.Join(dir, "x.log"), "--log.file-max-size=10"}},
		{[]string{"--log.file-max-size=lots"}},
	} {
		out, code := runBinary(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(out, "--log.file") {
			t.Errorf("%v: exit %d, output %q; want exit 2 and one line naming the flag", tc.args, code, out)
		}
	}
}

// runBinary runs the exporter to completion and returns its combined output and exit code.
func runBinary(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args = append([]string{"--web.listen-address=" + servertest.FreeAddress(t)}, args...)
	cmd := exec.CommandContext(ctx, binary, args...)
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}
