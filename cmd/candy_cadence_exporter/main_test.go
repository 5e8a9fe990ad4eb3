package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
	"github.com/candy-cadence/candy_cadence_exporter/internal/servertest"
	"golang.org/x/crypto/bcrypt"
)

// binary is the exporter built once for every test in this file.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "candy_cadence_exporter-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "candy_cadence_exporter")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startExporter runs the binary on a random loopback port until the test ends.
func startExporter(t *testing.T, args ...string) (addr string, stderr *collectortest.LogBuffer) {
	t.Helper()
	addr = servertest.FreeAddress(t)
	stderr = &collectortest.LogBuffer{} // written by exec's copying goroutine while tests read it
	cmd := exec.Command(binary, append([]string{"--web.listen-address=" + addr, "--app.working-dir=" + t.TempDir()}, args...)...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return addr, stderr
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not listen on %s: %s", addr, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, client *http.Client, method, url string, auth ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestBinaryServesMetricsLandingPageAndHealth(t *testing.T) {
	addr, _ := startExporter(t)
	base := "http://" + addr
	code, body := get(t, http.DefaultClient, http.MethodGet, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		"candy_cadence_up ",
		"candy_cadence_host_cpus ",
		`candy_cadence_host_cpu_seconds_total{mode="idle"}`,
		"candy_cadence_host_memory_total_bytes ",
		`candy_cadence_exporter_collector_success{collector="process"} 1`,
		`candy_cadence_exporter_collector_success{collector="host"} 1`,
		"candy_cadence_exporter_build_info{",
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, body := get(t, http.DefaultClient, http.MethodGet, base+"/"); code != http.StatusOK || !strings.Contains(body, "/metrics") {
		t.Errorf("landing page: %d %q", code, body)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		if code, _ := get(t, http.DefaultClient, method, base+"/-/healthy"); code != http.StatusOK {
			t.Errorf("%s /-/healthy: %d", method, code)
		}
	}
}

// On a workstation where the application never ran, start-up says what it looked for and
// which fallback it uses, never that it found one; the metrics say the library is not found,
// and no label carries a path unless asked for.
func TestBinaryStartupSaysWhatWasNotFound(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", "")
	addr, stderr := startExporter(t, "--no-collector.logs")
	_, body := get(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/metrics")
	// The lines are written before the server listens, but reach stderr through a pipe.
	for end := time.Now().Add(5 * time.Second); !strings.Contains(stderr.String(), `msg="backups not found"`) && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{
		`msg="data directory not found"`, `msg="library not found"`, `msg="cache not found"`, `msg="backups not found"`, "using_fallback=",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr.String(), "directory discovered") || strings.Contains(stderr.String(), `msg="data directory found"`) {
		t.Errorf("start-up reports a fallback as found:\n%s", stderr)
	}
	for _, want := range []string{
		`candy_cadence_db_state{db="library",state="not_found"} 1`,
		`candy_cadence_db_state{db="library",state="ok"} 0`,
		`candy_cadence_db_info{db="library",journal_mode="unknown"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "path=") {
		t.Errorf("a label carries a path by default:\n%s", body)
	}

	addr, _ = startExporter(t, "--no-collector.logs", "--collector.sqlite.path-label")
	if _, body := get(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/metrics"); !strings.Contains(body, `candy_cadence_db_info{db="library",journal_mode="unknown",path="`) {
		t.Errorf("--collector.sqlite.path-label: no path label:\n%s", body)
	}
}

func TestBinaryDisableExporterMetrics(t *testing.T) {
	addr, _ := startExporter(t, "--web.disable-exporter-metrics", "--no-collector.host")
	_, body := get(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/metrics")
	if strings.Contains(body, "go_goroutines") || strings.Contains(body, "candy_cadence_host_") {
		t.Fatalf("disabled metrics still exported:\n%s", body)
	}
	if !strings.Contains(body, "candy_cadence_up ") {
		t.Fatalf("process collector missing:\n%s", body)
	}
}

func TestBinaryTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedCert(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("cert.pem", string(certPEM))
	write("key.pem", string(keyPEM))
	config := write("web.yml", fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n",
		filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), hash))

	addr, _ := startExporter(t, "--web.config.file="+config)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	if code, body := get(t, client, http.MethodGet, "https://"+addr+"/metrics", "prometheus", "s3cret"); code != http.StatusOK || !strings.Contains(body, "candy_cadence_up") {
		t.Fatalf("right password: %d", code)
	}
	if code, _ := get(t, client, http.MethodGet, "https://"+addr+"/metrics", "prometheus", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", code)
	}
	if code, _ := get(t, client, http.MethodGet, "https://"+addr+"/metrics"); code != http.StatusUnauthorized {
		t.Fatalf("no password: %d, want 401", code)
	}
	// The health report sits behind the same TLS and basic auth.
	if code, _ := get(t, client, http.MethodGet, "https://"+addr+"/health"); code != http.StatusUnauthorized {
		t.Fatalf("/health without a password: %d, want 401", code)
	}
	if code, body := get(t, client, http.MethodGet, "https://"+addr+"/health", "prometheus", "s3cret"); !strings.Contains(body, `"checks"`) {
		t.Fatalf("/health with the password: %d %q", code, body)
	}
	// Plain HTTP to the TLS port is refused: no metrics, whatever the credentials.
	code, body := get(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/metrics", "prometheus", "s3cret")
	if code == http.StatusOK || strings.Contains(body, "candy_cadence_up") {
		t.Fatalf("plain HTTP was served: %d", code)
	}
}

func TestBinaryStartupErrors(t *testing.T) {
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(badConfig, []byte("tls_server_config:\n  cert_file: /nonexistent/cert.pem\n  key_file: /nonexistent/key.pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unknownKey := filepath.Join(dir, "unknown.yml")
	if err := os.WriteFile(unknownKey, []byte("basic_auth_user:\n  x: y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--no-such-flag"}, "unknown long flag '--no-such-flag'"},
		{[]string{"--collector.process.name-regex=("}, "collector.process.name-regex"},
		{[]string{"--scrape.timeout-offset=soon"}, "scrape.timeout-offset"},
		{[]string{"--collector.process.poll-interval=-1s"}, "--collector.process.poll-interval must be 0 (off) or positive"},
		{[]string{"--web.max-connections=-1"}, "--web.max-connections=-1"},
		{[]string{"--check.timeout=0s"}, "--check.timeout=0s"},
		{[]string{"--web.config.file=" + badConfig}, "invalid --web.config.file"},
		{[]string{"--web.config.file=" + unknownKey}, "invalid --web.config.file"},
		{[]string{"--web.config.file=" + filepath.Join(dir, "missing.yml")}, "invalid --web.config.file"},
	}
	for _, tc := range cases {
		cmd := exec.Command(binary, append([]string{"--web.listen-address=" + servertest.FreeAddress(t)}, tc.args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%v: exited 0, want non-zero", tc.args)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%v: still running; a bad start-up must stop", tc.args)
			continue
		}
		out := strings.TrimRight(stderr.String(), "\n")
		if strings.Count(out, "\n") != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: stderr should be one line containing %q, got:\n%s", tc.args, tc.want, out)
		}
	}
}

func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
