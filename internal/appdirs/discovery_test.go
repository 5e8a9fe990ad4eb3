package appdirs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The working directory always exists: it is a fallback, never a discovered data directory.
func TestDiscoverDataDirFallbackIsNotFound(t *testing.T) {
	home, wd := t.TempDir(), t.TempDir()
	env := Env{GOOS: "linux", HomeDir: home, WorkDir: wd}
	d := DiscoverDataDir(env, Layouts(env))
	if d.Found || d.Path != "" || d.Fallback != wd {
		t.Fatalf("without any application directory: %+v, want not found with fallback %s", d, wd)
	}
	if !slices.Contains(d.LookedIn, filepath.Join(home, ".local", "share", "DigitalWorkshop")) {
		t.Errorf("looked in %v, want the newer layout's directory among them", d.LookedIn)
	}

	lib := filepath.Join(home, ".local", "share", "DigitalWorkshop", "cache", "data", "3dmm.db")
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d = DiscoverDataDir(env, Layouts(env))
	if !d.Found || d.Path != filepath.Dir(lib) || d.Fallback != "" {
		t.Fatalf("with a library: %+v, want found at %s", d, filepath.Dir(lib))
	}
}

func TestDiscoverFileAndGlobs(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b[1].db")
	if d := DiscoverFile("library", []string{a, b}, false); d.Found || d.Path != "" || len(d.LookedIn) != 2 {
		t.Errorf("nothing there: %+v", d)
	}
	if err := os.WriteFile(b, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if d := DiscoverFile("library", []string{a, b}, false); !d.Found || d.Path != b {
		t.Errorf("second candidate there: %+v", d)
	}
	if d := DiscoverGlobs("backups", []string{filepath.Join(dir, "*.gz"), filepath.Join(dir, "b[[]1].db")}, true); !d.Found || d.Path != b || !d.Configured {
		t.Errorf("glob: %+v", d)
	}
}
