package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
)

// logFileFlags send the exporter's log to a file instead of stderr. A desktop autostart
// (the Windows scheduled task, which runs the no-window build) has no terminal whose stderr
// anyone reads, so the log must go somewhere it can be found and must not fill the disk.
type logFileFlags struct {
	path    *string
	maxSize *units.Base2Bytes
}

func addLogFileFlags(app *kingpin.Application) logFileFlags {
	return logFileFlags{
		path: app.Flag("log.file", "Write the log to this file instead of stderr (its directory is created). Start-up errors go to both.").
			PlaceHolder("FILE").String(),
		maxSize: app.Flag("log.file-max-size", "When --log.file would grow past this size it is renamed to FILE.1 (replacing the previous one) and started afresh, so the log takes at most twice this.").
			Default("10MiB").Bytes(),
	}
}

// open returns where the log goes and where start-up errors go. Without --log.file both
// are stderr. close releases the file.
func (f logFileFlags) open(stderr io.Writer) (logOut, errOut io.Writer, close func() error, err error) {
	if *f.path == "" {
		return stderr, stderr, func() error { return nil }, nil
	}
	if *f.maxSize < 1024 {
		return nil, nil, nil, fmt.Errorf("--log.file-max-size=%s: must be at least 1KiB", *f.maxSize)
	}
	file, err := openSizeCappedFile(*f.path, int64(*f.maxSize))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--log.file=%s: %w", *f.path, err)
	}
	// The file first: in the no-window Windows build stderr is no handle at all, and
	// io.MultiWriter stops at the first writer that fails.
	return file, io.MultiWriter(file, stderr), file.Close, nil
}

// sizeCappedFile is a log file that is renamed to <path>.1 and started afresh before a
// write would take it past max bytes. Writes are whole log records, so a record is never
// split between the two files.
type sizeCappedFile struct {
	mu   sync.Mutex
	path string
	max  int64
	file *os.File
	size int64
}

func openSizeCappedFile(path string, max int64) (*sizeCappedFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	return &sizeCappedFile{path: path, max: max, file: file, size: info.Size()}, nil
}

func (w *sizeCappedFile) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.file == nil {
		return 0, os.ErrClosed
	}
	if w.size > 0 && w.size+int64(len(p)) > w.max {
		if err := w.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := w.file.Write(p)
	w.size += int64(n)
	return n, err
}

// rotate closes the file before renaming it: Windows cannot rename a file that is open.
// If the rename fails (someone holds <path>.1 open without sharing), the file is emptied
// instead, so the cap holds whatever happens.
func (w *sizeCappedFile) rotate() error {
	if err := w.file.Close(); err != nil {
		return err
	}
	w.file = nil
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if err := os.Rename(w.path, w.path+".1"); err != nil {
		flags |= os.O_TRUNC
	}
	file, err := os.OpenFile(w.path, flags, 0o644)
	if err != nil {
		return err
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return err
	}
	w.file, w.size = file, info.Size()
	return nil
}

func (w *sizeCappedFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.file == nil {
		return nil
	}
	err := w.file.Close()
	w.file = nil
	return err
}
