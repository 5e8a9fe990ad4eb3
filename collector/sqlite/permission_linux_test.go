package sqlite

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
	"github.com/candy-cadence/candy_cadence_exporter/internal/collectortest"
)

// unprivDirEnv carries the prepared directory to the re-executed, unprivileged test.
const unprivDirEnv = "CANDY_CADENCE_SQLITE_UNPRIV_DIR"

// nobody is the user the permission tests run as when the tests run as root (as CI does):
// root reads and writes whatever the permission bits say.
const nobody = 65534

// runUnprivileged prepares a directory, then runs scenario on it in a process that file
// permissions apply to: this one when not root, else this test re-executed as nobody.
func runUnprivileged(t *testing.T, prepare func(t *testing.T, dir string), scenario func(t *testing.T, dir string)) {
	if dir := os.Getenv(unprivDirEnv); dir != "" {
		scenario(t, dir)
		return
	}
	dir := publicTempDir(t)
	prepare(t, dir)
	if os.Geteuid() != 0 {
		scenario(t, dir)
		return
	}
	exe := publicCopyOfTestBinary(t)
	cmd := exec.Command(exe, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), unprivDirEnv+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	t.Logf("as uid %d:\n%s", nobody, out)
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("unprivileged run failed: %v", err)
	}
}

// publicTempDir is a temporary directory that nobody can enter.
func publicTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "candy-sqlite-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error { //nolint:errcheck // best effort
			if err == nil && fi.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// publicCopyOfTestBinary copies this test binary where nobody can run it: go test keeps it in
// a directory only its owner can enter.
func publicCopyOfTestBinary(t *testing.T) string {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(publicTempDir(t), "collector.test")
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// giveToNobody lets the unprivileged test change the directory's entries.
func giveToNobody(t *testing.T, paths ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	for _, p := range paths {
		if err := os.Chown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSQLiteFaultPermissionDenied(t *testing.T) {
	runUnprivileged(t, func(t *testing.T, dir string) {
		lib := newTestLibrary(t, dir, appsim.LibraryOptions{Models: 30})
		if err := os.WriteFile(filepath.Join(dir, "data", "good.db"), readFile(t, lib.library), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(lib.library, 0); err != nil {
			t.Fatal(err)
		}
		giveToNobody(t, filepath.Dir(lib.library))
	}, func(t *testing.T, dir string) {
		lib := testLibrary{dir: dir, library: filepath.Join(dir, "data", "3dmm.db"), cache: filepath.Join(dir, "cache.db")}
		logs := &collectortest.LogBuffer{}
		c := newTestSQLiteCollector(t, testSQLiteConfig(lib), logs)
		for range 3 {
			scrapeFault(t, c, dbLibrary, 0)
			scrapeFault(t, c, dbCache, 1)
		}
		assertLoggedOnce(t, logs, "database cannot be read", dbLibrary)
		if !strings.Contains(logs.String(), "permission denied") {
			t.Errorf("the log does not say why:\n%s", logs)
		}
		if err := os.Rename(filepath.Join(dir, "data", "good.db"), lib.library); err != nil {
			t.Fatal(err)
		}
		r := scrapeFault(t, c, dbLibrary, 1)
		if r.Values[`candy_cadence_db_rows{db="library",table="models"}`] != 30 {
			t.Errorf("models rows = %v, want 30", r.Values[`candy_cadence_db_rows{db="library",table="models"}`])
		}
	})
}

// TestSQLiteReadOnlyDirectory reads a database in a directory the exporter cannot write to,
// on read-only media as it were: once while the application writes (its -wal and -shm exist,
// and are not ours to write) and once while it is closed (no -wal, no -shm).
func TestSQLiteReadOnlyDirectory(t *testing.T) {
	var writer *appsimProcess
	runUnprivileged(t, func(t *testing.T, dir string) {
		live := newTestLibrary(t, filepath.Join(dir, "live"), appsim.LibraryOptions{Models: 200})
		newTestLibrary(t, filepath.Join(dir, "closed"), appsim.LibraryOptions{Models: 300})
		writer = startAppsim(t, "ready", "write", "-library", live.library, "-rate", "100", "-busy-timeout", "0")
		time.Sleep(100 * time.Millisecond)
		for _, d := range []string{"live", "closed"} {
			for _, sub := range []string{filepath.Join(d, "data"), d} {
				if err := os.Chmod(filepath.Join(dir, sub), 0o555); err != nil {
					t.Fatal(err)
				}
			}
		}
	}, func(t *testing.T, dir string) {
		for _, d := range []string{"live", "closed"} {
			lib := testLibrary{
				dir:     filepath.Join(dir, d),
				library: filepath.Join(dir, d, "data", "3dmm.db"),
				cache:   filepath.Join(dir, d, "cache.db"),
			}
			before := dirNames(t, filepath.Dir(lib.library))
			if d == "live" && !strings.Contains(strings.Join(before, " "), "3dmm.db-shm") {
				t.Fatalf("the writer's -shm is missing: %v", before)
			}
			logs := &collectortest.LogBuffer{}
			c := newTestSQLiteCollector(t, testSQLiteConfig(lib), logs)
			for range 10 {
				r := scrapeFault(t, c, dbLibrary, 1)
				scrapeFault(t, c, dbCache, 1)
				if r.Values[`candy_cadence_db_rows{db="library",table="models"}`] < 200 {
					t.Fatalf("%s: models rows = %v", d, r.Values[`candy_cadence_db_rows{db="library",table="models"}`])
				}
			}
			after := dirNames(t, filepath.Dir(lib.library))
			if strings.Join(after, " ") != strings.Join(before, " ") {
				t.Errorf("%s: files changed: before %v, after %v", d, before, after)
			}
			if strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("%s: warnings:\n%s", d, logs)
			}
		}
	})
	if writer != nil {
		if rep := writer.stopWriter(t); rep.Errors != 0 || rep.Inserts == 0 {
			t.Errorf("writer: %+v", rep)
		}
	}
}
