// Command releasearchive packs release files into a .tar.gz or .zip that is the same byte
// for byte whenever the inputs are: entries sorted by name, one fixed modification time, no
// owner names, modes reduced to 0755 (executables) and 0644. The release target of the
// Makefile uses it, so releases need neither GNU tar options nor a zip program.
//
//	releasearchive -o out.tar.gz -prefix name-1.0.linux-amd64 -mtime 1700000000 FILE|DIR...
//
// Each argument lands under prefix/ by its base name; directories are taken whole, except
// Go source files, which are tests of the shipped files and not part of a release.
package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// entry is one file of the archive: its name inside it and where its content comes from.
type entry struct {
	name       string
	source     string
	executable bool
}

func main() {
	out := flag.String("o", "", "archive to write (.tar.gz or .zip)")
	prefix := flag.String("prefix", "", "top directory inside the archive")
	mtime := flag.Int64("mtime", 0, "modification time of every entry, in Unix seconds (SOURCE_DATE_EPOCH)")
	flag.Parse()
	if err := run(*out, *prefix, time.Unix(*mtime, 0).UTC(), flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "releasearchive:", err)
		os.Exit(1)
	}
}

func run(out, prefix string, mtime time.Time, inputs []string) error {
	if out == "" || prefix == "" || len(inputs) == 0 {
		return fmt.Errorf("need -o, -prefix and at least one input")
	}
	entries, err := collect(prefix, inputs)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(out, ".tar.gz"):
		err = writeTarGz(f, entries, mtime)
	case strings.HasSuffix(out, ".zip"):
		err = writeZip(f, entries, mtime)
	default:
		err = fmt.Errorf("%s: want a .tar.gz or .zip name", out)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
	}
	return err
}

// collect lists every file under the inputs, sorted by archive name.
func collect(prefix string, inputs []string) ([]entry, error) {
	var entries []entry
	for _, input := range inputs {
		base := filepath.Dir(filepath.Clean(input))
		err := filepath.WalkDir(input, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || strings.HasSuffix(p, ".go") {
				return nil
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s: not a regular file", p)
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(base, p)
			if err != nil {
				return err
			}
			entries = append(entries, entry{
				name:       path.Join(prefix, filepath.ToSlash(rel)),
				source:     p,
				executable: info.Mode()&0o111 != 0,
			})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	for i := 1; i < len(entries); i++ {
		if entries[i].name == entries[i-1].name {
			return nil, fmt.Errorf("%s given twice", entries[i].name)
		}
	}
	return entries, nil
}

func (e entry) mode() int64 {
	if e.executable {
		return 0o755
	}
	return 0o644
}

func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		content, err := os.ReadFile(e.source)
		if err != nil {
			return err
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.name,
			Mode:     e.mode(),
			Size:     int64(len(content)),
			ModTime:  mtime,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(content); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		content, err := os.ReadFile(e.source)
		if err != nil {
			return err
		}
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(fs.FileMode(e.mode()))
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := fw.Write(content); err != nil {
			return err
		}
	}
	return zw.Close()
}
