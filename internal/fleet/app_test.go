package fleet

import (
	"math/rand/v2"
	"testing"
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
