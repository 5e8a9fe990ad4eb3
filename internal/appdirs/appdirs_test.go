package appdirs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLayoutsWindowsOrder(t *testing.T) {
	env := Env{GOOS: "windows", AppData: `C:\Users\ana\AppData\Roaming`, LocalAppData: `C:\Users\ana\AppData\Local`, WorkDir: `C:\cc`}
	got := LibraryDBs(Layouts(env))
	want := []string{
		filepath.Join(`C:\Users\ana\AppData\Local`, "DigitalWorkshop", "cache", "data", "3dmm.db"),
		filepath.Join(`C:\Users\ana\AppData\Local`, "DigitalWorkshop-Dev", "cache", "data", "3dmm.db"),
		filepath.Join(`C:\Users\ana\AppData\Roaming`, "3D-MM Development Team", "3D-MM", "3dmm.db"),
		filepath.Join(`C:\cc`, "data", "candy_cadence.db"),
		filepath.Join(`C:\cc`, "data", "3dmm.db"),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("LibraryDBs = %q\nwant %q", got, want)
	}
	logs := LogDirs(Layouts(env))
	if logs[0] != filepath.Join(`C:\Users\ana\AppData\Local`, "DigitalWorkshop", "cache", "logs") ||
		logs[2] != filepath.Join(`C:\Users\ana\AppData\Roaming`, "3D-MM Development Team", "3D-MM", "logs") {
		t.Fatalf("LogDirs = %q", logs)
	}
	// Older builds keep cache.db relative to the working directory; newer ones under the base.
	caches := CacheDBs(Layouts(env))
	if !slices.Contains(caches, filepath.Join(`C:\cc`, "cache", "cache.db")) || caches[0] != filepath.Join(`C:\Users\ana\AppData\Local`, "DigitalWorkshop", "cache", "cache.db") {
		t.Fatalf("CacheDBs = %q", caches)
	}
}

func TestLayoutsLinux(t *testing.T) {
	env := Env{GOOS: "linux", HomeDir: "/home/ana", WorkDir: "/srv/cc"}
	got := LibraryDBs(Layouts(env))
	want := []string{
		"/home/ana/.local/share/DigitalWorkshop/cache/data/3dmm.db",
		"/home/ana/.local/share/DigitalWorkshop-Dev/cache/data/3dmm.db",
		"/home/ana/.local/share/3D-MM Development Team/3D-MM/3dmm.db",
		"/srv/cc/data/candy_cadence.db",
		"/srv/cc/data/3dmm.db",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("LibraryDBs = %q\nwant %q", got, want)
	}
	env.XDGDataHome = "/data/xdg"
	if got := LibraryDBs(Layouts(env))[0]; got != "/data/xdg/DigitalWorkshop/cache/data/3dmm.db" {
		t.Fatalf("XDG_DATA_HOME ignored: %s", got)
	}
}

func TestFirstExistingAndDataDir(t *testing.T) {
	home := t.TempDir()
	work := t.TempDir()
	env := Env{GOOS: "linux", HomeDir: home, WorkDir: work}
	ls := Layouts(env)
	if p, ok := FirstExisting(LibraryDBs(ls), FileExists); ok || p != LibraryDBs(ls)[0] {
		t.Fatalf("FirstExisting with nothing present = %q, %v; want the first candidate, false", p, ok)
	}
	older := filepath.Join(home, ".local", "share", "3D-MM Development Team", "3D-MM")
	if err := os.MkdirAll(older, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(older, "3dmm.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, ok := FirstExisting(LibraryDBs(ls), FileExists); !ok || p != filepath.Join(older, "3dmm.db") {
		t.Fatalf("FirstExisting = %q, %v", p, ok)
	}
	if got := DataDir(env, ls); got != older {
		t.Fatalf("DataDir = %q, want %q", got, older)
	}
}
