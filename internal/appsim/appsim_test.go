package appsim

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func query[T any](t *testing.T, db *sql.DB, q string) T {
	t.Helper()
	var v T
	if err := db.QueryRow(q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func TestCreateLibrary(t *testing.T) {
	requireFTS5(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "3dmm.db")
	if err := CreateLibrary(path, LibraryOptions{Models: 1000, Searches: 5, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the library was not closed cleanly: %v", entries)
	}
	if err := CreateLibrary(path, LibraryOptions{}); err == nil {
		t.Error("CreateLibrary overwrote an existing file")
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := query[string](t, db, "PRAGMA journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %s", got)
	}
	rows, err := db.Query(`SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var objects []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		objects = append(objects, s)
	}
	rows.Close()
	for _, want := range []string{
		"table models", "table model_metadata", "table categories", "table projects", "table files",
		"table models_fts", "table model_metadata_fts", "table search_history", "table saved_searches",
		"trigger models_ai", "trigger models_ad", "trigger models_au",
		"trigger model_metadata_ai", "trigger model_metadata_ad", "trigger model_metadata_au",
		"index idx_models_format", "index idx_models_linked_model_id", "index idx_metadata_category",
	} {
		if !slices.Contains(objects, want) {
			t.Errorf("schema lacks %s; has %v", want, objects)
		}
	}
	if n := query[int](t, db, "SELECT count(*) FROM categories"); n != 5 {
		t.Errorf("%d categories, want the 5 seeded", n)
	}
	if n := query[int](t, db, "SELECT count(*) FROM models"); n != 1000 {
		t.Errorf("%d models", n)
	}
	if n := query[int](t, db, "SELECT count(*) FROM model_metadata"); n != 1000 {
		t.Errorf("%d metadata rows", n)
	}
	// The triggers fed the full-text indexes.
	if n := query[int](t, db, "SELECT count(*) FROM models_fts WHERE models_fts MATCH 'stl'"); n == 0 || n >= 1000 {
		t.Errorf("%d models match stl", n)
	}
	if n := query[int](t, db, "SELECT count(DISTINCT format) FROM models"); n != len(DefaultFormats) {
		t.Errorf("%d formats", n)
	}
	if got := query[string](t, db, "SELECT max(date_added) FROM models"); got != "2025-01-01 00:00:00" {
		t.Errorf("newest date_added = %s", got)
	}
	if n := query[int](t, db, "SELECT count(*) FROM search_history"); n != 5 {
		t.Errorf("%d searches", n)
	}
}

func TestCreateCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache", "cache.db")
	if err := CreateCache(path, CacheOptions{Entries: 30}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := query[string](t, db, "PRAGMA journal_mode"); got != "delete" {
		t.Errorf("journal_mode = %s, want the default rollback journal", got)
	}
	if n := query[int](t, db, "SELECT count(DISTINCT cache_level) FROM cache_entries"); n != 3 {
		t.Errorf("%d levels", n)
	}
}

func TestWriteAtRate(t *testing.T) {
	requireFTS5(t)
	path := filepath.Join(t.TempDir(), "3dmm.db")
	if err := CreateLibrary(path, LibraryOptions{Models: 10}); err != nil {
		t.Fatal(err)
	}
	lib, err := OpenLibrary(path, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rep := lib.WriteAtRate(ctx, 100)
	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.Inserts < 10 || rep.Inserts > 40 || rep.P99 <= 0 {
		t.Fatalf("report %+v: want about 30 imports at 100/s in 0.3 s", rep)
	}
	db, _ := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	defer db.Close()
	if n := query[int](t, db, "SELECT count(*) FROM models WHERE filename LIKE 'live_%'"); n != rep.Inserts {
		t.Errorf("%d live models, report says %d", n, rep.Inserts)
	}
}

func TestMainCommands(t *testing.T) {
	requireFTS5(t)
	dir := t.TempDir()
	lib := filepath.Join(dir, "3dmm.db")
	var out, errOut bytes.Buffer
	if code := Main([]string{"create", "-library", lib, "-models", "20", "-cache", filepath.Join(dir, "cache.db")}, nil, &out, &errOut); code != 0 {
		t.Fatalf("create: %d %s", code, errOut.String())
	}
	if code := Main([]string{"write", "-library", lib, "-rate", "200", "-duration", "200ms", "-busy-timeout", "0"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("write: %d %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep WriteReport
	if len(lines) != 2 || lines[0] != "ready" || json.Unmarshal([]byte(lines[1]), &rep) != nil || rep.Inserts == 0 {
		t.Fatalf("write printed %q", out.String())
	}
	if code := Main([]string{"bogus"}, nil, &out, &errOut); code == 0 {
		t.Error("an unknown command succeeded")
	}
}

// requireFTS5 skips a test that creates a library when SQLite was built without FTS5
// (a plain go test): run make test, or go test -tags sqlite_fts5.
func requireFTS5(t testing.TB) {
	t.Helper()
	if err := CheckFTS5(); err != nil {
		t.Skip(err)
	}
}
