package fleet

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candy-cadence/candy_cadence_exporter/internal/applog/logsim"
)

// The simulated cache misses one lookup in ten, and never more than two in any ten in a row,
// so the few lookups of a short run stay well above the 70% hit-ratio threshold.
func TestCacheLookupsMissOneInTen(t *testing.T) {
	for seed := range uint64(20) {
		a := &app{rng: rand.New(rand.NewPCG(seed, 1))}
		var hits []bool
		for range 1000 {
			hits = append(hits, a.lookup())
		}
		misses := 0
		for i, hit := range hits {
			if !hit {
				misses++
			}
			if i < 10 {
				continue
			}
			inTen := 0
			for _, h := range hits[i-9 : i+1] {
				if !h {
					inTen++
				}
			}
			if inTen > 2 {
				t.Fatalf("seed %d: %d misses in lookups %d to %d", seed, inTen, i-9, i)
			}
		}
		if misses != 100 {
			t.Errorf("seed %d: %d misses in 1000 lookups, want 100", seed, misses)
		}
	}
}

// Closing the application mid-import rolls its transaction back, and the next statement
// returns sql.ErrTxDone, not context.Canceled: that is the close, not a database error (it
// once logged an OperationalError, which a calm workstation's critical-error alert saw).
func TestQueryCutShortByCloseIsNotAnError(t *testing.T) {
	dir := t.TempDir()
	a := &app{log: logsim.New(dir, 1<<20, logsim.DefaultKeep, nil)}
	closed, cancel := context.WithCancel(context.Background())
	cancel()
	a.dbError(closed, "add_model", sql.ErrTxDone)
	a.dbError(context.Background(), "add_model", context.Canceled)
	a.dbError(context.Background(), "add_model", os.ErrPermission)
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("log files %v (%v), want one", files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 1 || !strings.Contains(lines[0], os.ErrPermission.Error()) {
		t.Errorf("logged %q, want only the permission error", lines)
	}
}
