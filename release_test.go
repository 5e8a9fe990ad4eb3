// Package release_test checks the repository's build and release files: that .promu.yml
// mirrors the Makefile's build settings, and (after `make release`) what the archives hold.
package release_test

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"debug/pe"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

const (
	exporter    = "candy_cadence_exporter"
	versionPkg  = "github.com/prometheus/common/version."
	noWindowExe = exporter + "_nowindow.exe"
)

// buildConfig is what `make -s build-config` prints: the Makefile's build settings.
type buildConfig map[string]string

func makeBuildConfig(t *testing.T) buildConfig {
	t.Helper()
	out, err := exec.Command("make", "-s", "--no-print-directory", "build-config").Output()
	if err != nil {
		t.Fatalf("make -s build-config: %v", err)
	}
	cfg := buildConfig{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			t.Fatalf("make -s build-config printed %q", sc.Text())
		}
		cfg[k] = v
	}
	return cfg
}

type promuConfig struct {
	Go struct {
		Version string
		Cgo     bool
	}
	Repository struct{ Path string }
	Build      struct {
		Flags    string
		Binaries []struct{ Name, Path string }
		Ldflags  string
	}
	Tarball    struct{ Files []string }
	Crossbuild struct{ Platforms []string }
}

// promuTemplates is what promu puts where the Makefile puts its own values.
var promuTemplates = map[string]string{
	"Version":   "{{.Version}}",
	"Revision":  "{{.Revision}}",
	"Branch":    "{{.Branch}}",
	"BuildUser": "{{user}}@{{host}}",
	"BuildDate": `{{date "20060102-15:04:05"}}`,
}

func TestPromuAgreesWithMakefile(t *testing.T) {
	mk := makeBuildConfig(t)
	var promu promuConfig
	raw, err := os.ReadFile(".promu.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, &promu); err != nil {
		t.Fatalf(".promu.yml: %v", err)
	}

	goMod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^module (\S+)`).FindSubmatch(goMod); m == nil || string(m[1]) != promu.Repository.Path {
		t.Errorf(".promu.yml repository.path %q is not go.mod's module", promu.Repository.Path)
	}
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod); m == nil || string(m[1]) != promu.Go.Version {
		t.Errorf(".promu.yml go.version %q is not go.mod's go version", promu.Go.Version)
	}
	if !promu.Go.Cgo {
		t.Error(".promu.yml must build with cgo: go-sqlite3 needs it")
	}

	// Flags: the same tags and the same other build flags.
	var promuTags []string
	var promuFlags []string
	fields := strings.Fields(promu.Build.Flags)
	for i := 0; i < len(fields); i++ {
		switch {
		case fields[i] == "-tags" && i+1 < len(fields):
			i++
			promuTags = append(promuTags, strings.Split(fields[i], ",")...)
		case strings.HasPrefix(fields[i], "-tags="):
			promuTags = append(promuTags, strings.Split(strings.TrimPrefix(fields[i], "-tags="), ",")...)
		default:
			promuFlags = append(promuFlags, fields[i])
		}
	}
	if want := strings.Fields(mk["tags"]); !sameSet(promuTags, want) {
		t.Errorf(".promu.yml tags %q, Makefile GO_TAGS %q", promuTags, want)
	}
	if want := strings.Fields(mk["flags"]); !sameSet(promuFlags, want) {
		t.Errorf(".promu.yml build flags %q, Makefile %q", promuFlags, want)
	}

	// Linker flags: the same -X variables, with promu's templates where the Makefile has its
	// values, and the same other flags in the same order.
	mkX, mkRest := splitLdflags(t, mk["ldflags"])
	promuX, promuRest := splitLdflags(t, promu.Build.Ldflags)
	for name, value := range mkX {
		tmpl, known := promuTemplates[strings.TrimPrefix(name, versionPkg)]
		if !known {
			t.Errorf("Makefile sets %s=%s, which this test does not know how promu spells", name, value)
			continue
		}
		if promuX[name] != tmpl {
			t.Errorf(".promu.yml sets %s=%q, want %q", name, promuX[name], tmpl)
		}
	}
	for name := range promuX {
		if _, ok := mkX[name]; !ok {
			t.Errorf(".promu.yml sets %s, the Makefile does not", name)
		}
	}
	if !slices.Equal(mkRest, promuRest) {
		t.Errorf("other linker flags: .promu.yml %q, Makefile %q", promuRest, mkRest)
	}
	if mkX[versionPkg+"Version"] != strings.TrimSpace(readFile(t, "VERSION")) {
		t.Errorf("Makefile's version %q is not VERSION's", mkX[versionPkg+"Version"])
	}

	// Binaries: every command under cmd/, and nothing else.
	var names []string
	for _, b := range promu.Build.Binaries {
		names = append(names, b.Name)
		if b.Path != "./cmd/"+b.Name {
			t.Errorf(".promu.yml builds %s from %s, want ./cmd/%s", b.Name, b.Path, b.Name)
		}
	}
	if want := strings.Fields(mk["commands"]); !sameSet(names, want) {
		t.Errorf(".promu.yml binaries %q, commands under cmd/ %q", names, want)
	}

	// Tarball files: exactly what the Makefile releases that exists.
	for _, f := range promu.Tarball.Files {
		if _, err := os.Stat(f); err != nil {
			t.Errorf(".promu.yml tarball lists %s: %v", f, err)
		}
	}
	if want := strings.Fields(mk["release_files"]); !sameSet(promu.Tarball.Files, want) {
		t.Errorf(".promu.yml tarball files %q, Makefile RELEASE_FILES that exist %q", promu.Tarball.Files, want)
	}
	if want := strings.Fields(mk["platforms"]); !sameSet(promu.Crossbuild.Platforms, want) {
		t.Errorf(".promu.yml platforms %q, Makefile RELEASE_PLATFORMS %q", promu.Crossbuild.Platforms, want)
	}
}

// splitLdflags separates -X name=value pairs from the other linker flags, honouring the
// double quotes of -extldflags "-static".
func splitLdflags(t *testing.T, s string) (map[string]string, []string) {
	t.Helper()
	tokens := regexp.MustCompile(`(?:\{\{.*?\}\}|"[^"]*"|[^\s"{])+`).FindAllString(s, -1)
	xs := map[string]string{}
	var rest []string
	for i := 0; i < len(tokens); i++ {
		if tokens[i] != "-X" {
			rest = append(rest, tokens[i])
			continue
		}
		if i+1 == len(tokens) {
			t.Fatalf("ldflags %q end in -X", s)
		}
		i++
		name, value, _ := strings.Cut(tokens[i], "=")
		if _, dup := xs[name]; dup {
			t.Errorf("ldflags %q set %s twice", s, name)
		}
		xs[name] = value
	}
	return xs, rest
}

// TestReleaseArchives checks what `make release` built: `make release-test` runs it with
// CANDY_CADENCE_RELEASE_DIR set.
func TestReleaseArchives(t *testing.T) {
	dir := os.Getenv("CANDY_CADENCE_RELEASE_DIR")
	if dir == "" {
		t.Skip("CANDY_CADENCE_RELEASE_DIR not set: run make release-test")
	}
	mk := makeBuildConfig(t)
	version := mk["version"]

	sums := checkSums(t, dir)
	var want []string
	for _, platform := range strings.Fields(mk["platforms"]) {
		ext := ".tar.gz"
		if strings.HasPrefix(platform, "windows/") {
			ext = ".zip"
		}
		want = append(want, exporter+"-"+version+"."+strings.ReplaceAll(platform, "/", "-")+ext)
	}
	if !sameSet(sums, want) {
		t.Fatalf("sha256sums.txt lists %q, want %q", sums, want)
	}

	for _, name := range want {
		t.Run(name, func(t *testing.T) {
			prefix := strings.TrimSuffix(strings.TrimSuffix(name, ".tar.gz"), ".zip")
			files := readArchive(t, filepath.Join(dir, name))
			windows := strings.HasSuffix(name, ".zip")

			// Every command, the no-window build on Windows, and every file of the
			// release directories as the working tree has it (Go tests left out).
			expected := map[string]bool{}
			for _, cmd := range strings.Fields(mk["commands"]) {
				if windows {
					cmd += ".exe"
				}
				expected[path.Join(prefix, cmd)] = true
			}
			if windows {
				expected[path.Join(prefix, noWindowExe)] = true
			}
			for _, top := range strings.Fields(mk["release_files"]) {
				err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
					if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".go") {
						expected[path.Join(prefix, filepath.ToSlash(p))] = true
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			for f := range files {
				if !expected[f] {
					t.Errorf("unexpected %s", f)
				}
			}
			for f := range expected {
				rel := strings.TrimPrefix(f, prefix+"/")
				a, ok := files[f]
				switch {
				case !ok:
					t.Errorf("missing %s", f)
				case !strings.Contains(rel, "/") && (filepath.Ext(rel) == ".exe" || slices.Contains(strings.Fields(mk["commands"]), rel)):
					// a binary: checked below
				case !bytes.Equal(a.content, []byte(readFile(t, rel))):
					t.Errorf("%s differs from the working tree's %s", f, rel)
				}
			}

			revision := []byte(mk["revision"])
			if windows {
				checkPESubsystem(t, files[path.Join(prefix, exporter+".exe")].content, pe.IMAGE_SUBSYSTEM_WINDOWS_CUI)
				checkPESubsystem(t, files[path.Join(prefix, noWindowExe)].content, pe.IMAGE_SUBSYSTEM_WINDOWS_GUI)
				for _, exe := range []string{exporter + ".exe", noWindowExe} {
					if !bytes.Contains(files[path.Join(prefix, exe)].content, revision) {
						t.Errorf("%s does not carry the revision %s", exe, revision)
					}
				}
				return
			}
			bin := files[path.Join(prefix, exporter)]
			if bin.mode&0o111 == 0 {
				t.Errorf("%s is not executable: %v", exporter, bin.mode)
			}
			checkStatic(t, bin.content)
			checkVersion(t, bin.content, version, mk["revision"])
		})
	}
}

// checkSums verifies sha256sums.txt and returns the file names it lists.
func checkSums(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "sha256sums.txt"))), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("sha256sums.txt: %q", line)
		}
		content, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(content); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 differs from sha256sums.txt", name)
		}
		names = append(names, name)
	}
	return names
}

type archived struct {
	content []byte
	mode    fs.FileMode
}

func readArchive(t *testing.T, name string) map[string]archived {
	t.Helper()
	files := map[string]archived{}
	var mtimes []int64
	if strings.HasSuffix(name, ".zip") {
		zr, err := zip.OpenReader(name)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name] = archived{b, f.Mode()}
			mtimes = append(mtimes, f.Modified.Unix())
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(gz)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if hdr.Uname != "" || hdr.Uid != 0 {
				t.Errorf("%s: owner %s/%d recorded", hdr.Name, hdr.Uname, hdr.Uid)
			}
			files[hdr.Name] = archived{b, hdr.FileInfo().Mode()}
			mtimes = append(mtimes, hdr.ModTime.Unix())
		}
	}
	sort.Slice(mtimes, func(i, j int) bool { return mtimes[i] < mtimes[j] })
	if len(mtimes) == 0 || mtimes[0] != mtimes[len(mtimes)-1] {
		t.Errorf("%s: entries should share one modification time (reproducible archives)", name)
	}
	return files
}

func checkPESubsystem(t *testing.T, exe []byte, want uint16) {
	t.Helper()
	f, err := pe.NewFile(bytes.NewReader(exe))
	if err != nil {
		t.Fatalf("not a PE file: %v", err)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatal("not a 64-bit PE file")
	}
	if oh.Subsystem != want {
		t.Errorf("PE subsystem %d, want %d (2: GUI, never a console window; 3: console)", oh.Subsystem, want)
	}
}

// checkStatic fails for a binary that needs the dynamic loader: it would not run on a
// desktop with another C library.
func checkStatic(t *testing.T, bin []byte) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("not an ELF file: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the Linux binary is dynamically linked")
		}
	}
}

func checkVersion(t *testing.T, bin []byte, version, revision string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), exporter)
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "version "+version+" ") || !strings.Contains(string(out), "revision: "+revision) {
		t.Errorf("--version printed %q, want version %s and revision %s", out, version, revision)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
