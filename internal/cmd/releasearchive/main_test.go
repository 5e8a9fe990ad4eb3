package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// tree makes a release-like input: a binary, a file, and a directory with a Go test in it.
func tree(t *testing.T, modTime time.Time) []string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]os.FileMode{
		"bin/exporter":         0o700,
		"README.md":            0o600,
		"rules/alerts.yml":     0o664,
		"rules/tests/a.yml":    0o644,
		"rules/rules_test.go":  0o644,
		"rules/testdata/x.txt": 0o644,
	}
	for name, mode := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("content of "+name), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, modTime, modTime); err != nil {
			t.Fatal(err)
		}
	}
	return []string{filepath.Join(dir, "rules"), filepath.Join(dir, "bin", "exporter"), filepath.Join(dir, "README.md")}
}

func TestArchivesAreReproducible(t *testing.T) {
	mtime := time.Unix(1700000000, 0).UTC()
	for _, ext := range []string{".tar.gz", ".zip"} {
		var outs [][]byte
		// Two inputs with the same content but other file times and another location.
		for _, fileTime := range []time.Time{time.Now(), time.Unix(1, 0)} {
			out := filepath.Join(t.TempDir(), "release"+ext)
			if err := run(out, "x-1.0", mtime, tree(t, fileTime)); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, b)
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%s: two archives of the same content differ", ext)
		}
		entries := list(t, ext, outs[0], mtime)
		want := []string{
			"x-1.0/README.md 644", "x-1.0/exporter 755", "x-1.0/rules/alerts.yml 644",
			"x-1.0/rules/testdata/x.txt 644", "x-1.0/rules/tests/a.yml 644",
		}
		if !slices.Equal(entries, want) {
			t.Errorf("%s entries %q, want %q", ext, entries, want)
		}
	}
}

func TestTwoInputsWithOneName(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "README.md"), filepath.Join(t.TempDir(), "README.md")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "r.zip")
	if err := run(out, "x", time.Unix(0, 0), []string{a, b}); err == nil {
		t.Fatal("want an error for two files named README.md")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s behind", out)
	}
}

// list returns "name mode" of every entry in order, and checks each entry's time.
func list(t *testing.T, ext string, archive []byte, mtime time.Time) []string {
	t.Helper()
	var out []string
	check := func(name string, got time.Time) {
		if !got.Equal(mtime) {
			t.Errorf("%s: time %v, want %v", name, got, mtime)
		}
	}
	if ext == ".zip" {
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			out = append(out, f.Name+" "+modeString(f.Mode()))
			check(f.Name, f.Modified)
		}
		return out
	}
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, hdr.Name+" "+modeString(hdr.FileInfo().Mode()))
		check(hdr.Name, hdr.ModTime)
	}
}

func modeString(m os.FileMode) string {
	return map[os.FileMode]string{0o644: "644", 0o755: "755"}[m.Perm()] + map[bool]string{true: "", false: "?"}[m.IsRegular()]
}
