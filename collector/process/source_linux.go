package process

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// userHZ is the unit of the clock-tick fields of /proc/<pid>/stat; fixed at 100 on every
// architecture Linux exposes to user space.
const userHZ = 100

// procfsSource reads processes straight from /proc: a listing costs one small read per
// process, which keeps a scrape cheap on a desktop with hundreds of processes.
type procfsSource struct {
	root     string
	bootTime float64 // Unix seconds, from btime in /proc/stat
	pageSize float64
}

func newProcessSource() processSource {
	return newProcfsSource("/proc")
}

func newProcfsSource(root string) *procfsSource {
	s := &procfsSource{root: root, bootTime: math.NaN(), pageSize: float64(os.Getpagesize())}
	if b, err := readBootTime(filepath.Join(root, "stat")); err == nil {
		s.bootTime = b
	}
	return s
}

func readBootTime(path string) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no btime in %s", path)
}

func (s *procfsSource) List(ctx context.Context) ([]procRef, error) {
	dir, err := os.Open(s.root)
	if err != nil {
		return nil, err
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return nil, err
	}
	refs := make([]procRef, 0, len(names))
	buf := make([]byte, 1024)
	for _, name := range names {
		if name == "" || name[0] < '0' || name[0] > '9' {
			continue // not a process directory; checked first to spare ParseInt's error
		}
		pid, err := strconv.ParseInt(name, 10, 32)
		if err != nil {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		st, err := s.readStat(name, buf)
		if err != nil {
			continue // exited since the listing
		}
		refs = append(refs, procRef{PID: int32(pid), Name: st.comm, Token: st.startTicks})
	}
	return refs, nil
}

func (s *procfsSource) Identity(_ context.Context, ref procRef) procIdentity {
	dir := filepath.Join(s.root, strconv.Itoa(int(ref.PID)))
	var id procIdentity
	id.Exe, _ = os.Readlink(filepath.Join(dir, "exe"))
	if raw, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		raw = bytes.TrimRight(raw, "\x00")
		if len(raw) > 0 {
			id.Cmdline = strings.Split(string(raw), "\x00")
		}
	}
	if hasRelativeScript(id.Cmdline) {
		id.Cwd, _ = os.Readlink(filepath.Join(dir, "cwd"))
	}
	return id
}

func (s *procfsSource) Stats(_ context.Context, ref procRef) procStats {
	out := unknownStats()
	name := strconv.Itoa(int(ref.PID))
	st, err := s.readStat(name, make([]byte, 1024))
	if err != nil || st.startTicks != ref.Token {
		return out // gone, or a new process under the same PID
	}
	out.CPUUser = float64(st.utime) / userHZ
	out.CPUSystem = float64(st.stime) / userHZ
	out.Threads = float64(st.threads)
	out.VMS = float64(st.vsize)
	out.RSS = float64(st.rssPages) * s.pageSize
	out.StartTime = s.bootTime + float64(st.startTicks)/userHZ

	dir := filepath.Join(s.root, name)
	if fds, err := countDir(filepath.Join(dir, "fd")); err == nil {
		out.FDs = float64(fds)
	}
	if r, w, err := readProcIO(filepath.Join(dir, "io")); err == nil {
		out.ReadBytes, out.WriteBytes = r, w
	}
	return out
}

// procStat holds the fields of /proc/<pid>/stat that the collector uses.
type procStat struct {
	comm                              string
	utime, stime, threads, startTicks uint64
	vsize, rssPages                   uint64
}

// readStat reads /proc/<pid>/stat with bare system calls: it runs for every process on every
// scrape, and os.File would add an fstat and an allocation to each.
func (s *procfsSource) readStat(pid string, buf []byte) (procStat, error) {
	fd, err := syscall.Open(s.root+"/"+pid+"/stat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return procStat{}, err
	}
	defer syscall.Close(fd)
	n, err := syscall.Read(fd, buf)
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(buf[:n])
}

// parseProcStat parses /proc/<pid>/stat. The command name sits in parentheses and may itself
// contain spaces and parentheses, so the fields are counted from the last ')'. It runs for
// every process on every scrape, so it walks the fields in place instead of splitting them.
func parseProcStat(data []byte) (procStat, error) {
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return procStat{}, fmt.Errorf("malformed stat line")
	}
	st := procStat{comm: string(data[open+1 : closing])}
	// Fields are numbered as in proc(5); the first after the name is 3 (state).
	targets := [...]struct {
		field int
		dst   *uint64
	}{{14, &st.utime}, {15, &st.stime}, {20, &st.threads}, {22, &st.startTicks}, {23, &st.vsize}, {24, &st.rssPages}}
	rest := data[closing+1:]
	field, next := 2, 0
	for next < len(targets) {
		rest = bytes.TrimLeft(rest, " ")
		if len(rest) == 0 || rest[0] == '\n' {
			return procStat{}, fmt.Errorf("stat line ends at field %d, want %d", field, targets[len(targets)-1].field)
		}
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		field++
		if field == targets[next].field {
			v, err := strconv.ParseUint(string(rest[:end]), 10, 64)
			if err != nil {
				return procStat{}, fmt.Errorf("stat field %d: %w", field, err)
			}
			*targets[next].dst = v
			next++
		}
		rest = rest[end:]
	}
	return st, nil
}

func countDir(path string) (int, error) {
	d, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	return len(names), err
}

// readProcIO returns read_bytes and write_bytes: what reached the storage layer.
func readProcIO(path string) (read, written float64, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	read, written = math.NaN(), math.NaN()
	for line := range strings.Lines(string(data)) {
		key, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch key {
		case "read_bytes":
			read, err = strconv.ParseFloat(value, 64)
		case "write_bytes":
			written, err = strconv.ParseFloat(value, 64)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %s: %w", path, key, err)
		}
	}
	if math.IsNaN(read) || math.IsNaN(written) {
		return 0, 0, fmt.Errorf("%s: read_bytes or write_bytes missing", path)
	}
	return read, written, nil
}
