package sqlitero

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func header(pageSize uint16, write, read byte) []byte {
	b := make([]byte, 100)
	copy(b, headerMagic)
	b[16], b[17] = byte(pageSize>>8), byte(pageSize)
	b[18], b[19] = write, read
	return b
}

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want Header
		err  bool
	}{
		{"wal", header(4096, 2, 2), Header{PageSize: 4096, Journal: JournalWAL}, false},
		{"rollback", header(1024, 1, 1), Header{PageSize: 1024, Journal: JournalRollback}, false},
		{"64k pages", header(1, 1, 1), Header{PageSize: 65536, Journal: JournalRollback}, false},
		{"bad page size", header(1000, 1, 1), Header{}, true},
		{"future format", header(4096, 3, 3), Header{}, true},
		{"short", header(4096, 1, 1)[:50], Header{}, true},
		{"not sqlite", append([]byte("PK\x03\x04"), make([]byte, 96)...), Header{}, true},
	} {
		got, err := ParseHeader(tc.b)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: ParseHeader = %+v, %v", tc.name, got, err)
		}
		if err != nil && !errors.Is(err, ErrNotADatabase) {
			t.Errorf("%s: error %v is not ErrNotADatabase", tc.name, err)
		}
	}
}

func TestDSN(t *testing.T) {
	got := DSN("/home/a b/c?d#e.db", ModeShared, Options{BusyTimeout: 100 * time.Millisecond})
	want := "file:///home/a%20b/c%3Fd%23e.db?_busy_timeout=100&_cache_size=-512&_query_only=1&mode=ro&readonly_shm=1&vfs=candy-cadence-ro"
	if got != want {
		t.Errorf("DSN = %s\nwant  %s", got, want)
	}
	if got := DSN("/x.db", ModeSnapshot, Options{}); !strings.Contains(got, "immutable=1") || strings.Contains(got, "readonly_shm") {
		t.Errorf("snapshot DSN = %s", got)
	}
	if got := DSN("/x.db", ModeRollback, Options{}); strings.Contains(got, "immutable") || strings.Contains(got, "readonly_shm") {
		t.Errorf("rollback DSN = %s", got)
	}
}

func TestStaleReason(t *testing.T) {
	db := FileState{Exists: true, ID: FileID{1, 2}, Size: 4096, ModTime: time.Unix(100, 0)}
	wal := FileState{Exists: true, ID: FileID{1, 3}}
	shm := FileState{Exists: true, ID: FileID{1, 4}}
	other := db
	other.ID = FileID{1, 9}
	written := db
	written.ModTime = time.Unix(101, 0)
	for _, tc := range []struct {
		mode      Mode
		then, now Files
		stale     bool
	}{
		{ModeSnapshot, Files{DB: db}, Files{DB: db}, false},
		{ModeSnapshot, Files{DB: db}, Files{DB: db, WAL: wal, SHM: shm}, true},
		{ModeSnapshot, Files{DB: db}, Files{DB: written}, true},
		{ModeSnapshot, Files{DB: db}, Files{}, true},
		{ModeShared, Files{DB: db, WAL: wal, SHM: shm}, Files{DB: written, WAL: wal, SHM: shm}, false},
		{ModeShared, Files{DB: db, WAL: wal, SHM: shm}, Files{DB: db, SHM: shm}, true},
		{ModeShared, Files{DB: db, WAL: wal, SHM: shm}, Files{DB: db, WAL: wal, SHM: wal}, true},
		{ModeShared, Files{DB: db, WAL: wal, SHM: shm}, Files{DB: other, WAL: wal, SHM: shm}, true},
		{ModeRollback, Files{DB: db}, Files{DB: written}, false},
		{ModeRollback, Files{DB: db}, Files{DB: db, WAL: wal}, true},
	} {
		if got := staleReason(tc.mode, tc.then, tc.now); (got != "") != tc.stale {
			t.Errorf("%s %+v -> %+v: stale reason %q, want stale %v", tc.mode, tc.then, tc.now, got, tc.stale)
		}
	}
}

// createDB makes a small database with a plain read-write connection, and returns it open.
func createDB(t *testing.T, path string, wal bool) *sql.DB {
	t.Helper()
	dsn := "file:" + path
	if wal {
		dsn += "?_journal_mode=WAL"
	}
	w, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)`); err != nil {
		t.Fatal(err)
	}
	return w
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func count(t *testing.T, db *DB) (int, error) {
	t.Helper()
	var n int
	err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM t").Scan(&n)
	return n, err
}

func TestOpenChoosesMode(t *testing.T) {
	dir := t.TempDir()
	walPath, rbPath := filepath.Join(dir, "wal.db"), filepath.Join(dir, "rb.db")
	writer := createDB(t, walPath, true)
	createDB(t, rbPath, false).Close()

	shared, err := Open(walPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	if shared.Mode() != ModeShared {
		t.Errorf("with a live writer the mode is %s", shared.Mode())
	}
	if _, err := writer.Exec("INSERT INTO t VALUES (4)"); err != nil {
		t.Fatal(err)
	}
	if n, err := count(t, shared); err != nil || n != 4 {
		t.Errorf("shared read: %d, %v; want the row still in the WAL", n, err)
	}
	shared.Close()
	writer.Close() // the last connection checkpoints and removes -wal and -shm

	before := names(t, dir)
	snap, err := Open(walPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if snap.Mode() != ModeSnapshot {
		t.Errorf("without a -wal the mode is %s", snap.Mode())
	}
	if n, err := count(t, snap); err != nil || n != 4 {
		t.Errorf("snapshot read: %d, %v", n, err)
	}
	if reason, err := snap.Stale(); reason != "" || err != nil {
		t.Errorf("untouched snapshot is stale: %q, %v", reason, err)
	}
	rb, err := Open(rbPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	if n, err := count(t, rb); rb.Mode() != ModeRollback || err != nil || n != 3 {
		t.Errorf("rollback: mode %s, %d, %v", rb.Mode(), n, err)
	}
	if after := names(t, dir); !slices.Equal(before, after) {
		t.Errorf("files appeared: %v -> %v", before, after)
	}

	if _, err := Open(filepath.Join(dir, "missing.db"), Options{}); !errors.Is(err, ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk.db"), []byte("not a database at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(dir, "junk.db"), Options{}); !errors.Is(err, ErrNotADatabase) || !IsCorrupt(err) {
		t.Errorf("junk file: %v", err)
	}
}

// TestNeverCreatesWAL is the race the VFS exists for: the WAL is there when the mode is
// chosen and gone when SQLite opens it. Plain SQLite would create an empty -wal; we must not.
func TestNeverCreatesWAL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wal.db")
	writer := createDB(t, path, true)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Mode() != ModeShared {
		t.Fatalf("mode %s", db.Mode())
	}
	writer.Close()
	if _, err := count(t, db); err == nil {
		t.Error("the read succeeded without a WAL to read")
	}
	if got := names(t, dir); !slices.Equal(got, []string{"wal.db"}) {
		t.Fatalf("files beside the database: %v", got)
	}
	if reason, _ := db.Stale(); reason == "" {
		t.Error("Stale does not see that the WAL is gone")
	}
}

func TestStatFilesIdentity(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a")
	if err := os.WriteFile(p, []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := StatFiles(p)
	if err != nil || !a.DB.Exists || a.WAL.Exists {
		t.Fatalf("StatFiles: %+v, %v", a, err)
	}
	if err := os.WriteFile(p+".new", []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".new", p); err != nil {
		t.Fatal(err)
	}
	b, _ := StatFiles(p)
	if a.DB.ID == b.DB.ID {
		t.Error("a replaced file kept its identity")
	}
}

// TestHeldConnectionKeepsWriterWAL records why connections are not kept between scrapes by
// default: while a reader holds a WAL-mode connection, the writer's last connection cannot
// checkpoint and remove its WAL when it closes, so the database file alone lacks the latest
// commits (a copy of it is not a backup) until the application opens it again.
func TestHeldConnectionKeepsWriterWAL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wal.db")
	writer := createDB(t, path, true)
	held, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := count(t, held); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Exec("INSERT INTO t VALUES (4)"); err != nil {
		t.Fatal(err)
	}
	writer.Close()
	if got := names(t, dir); !slices.Contains(got, "wal.db-wal") {
		t.Fatalf("the writer removed its WAL although a reader held the database: %v", got)
	}
	held.Close()
	if got := names(t, dir); !slices.Contains(got, "wal.db-wal") {
		t.Fatalf("our read-only close removed the application's WAL: %v", got)
	}
}
