package mixture

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// checkMonotone fails t if F increases anywhere in the trace. slack is relative:
// 0 for exact float64 steps (a tolerance of a few ulps of |F| for summation order),
// larger for FastMath.
func checkMonotone(t *testing.T, name string, r Result, slack float64) {
	t.Helper()
	for i := 1; i < len(r.History); i++ {
		a, b := r.History[i-1], r.History[i]
		tol := (slack + 1e-13) * math.Max(1, math.Abs(a.F))
		if b.F > a.F+tol {
			t.Errorf("%s: F increased from %.17g (iter %d %s) to %.17g (iter %d %s)", name, a.F, a.Iter, a.Phase, b.F, b.Iter, b.Phase)
		}
	}
	if n := len(r.History); n > 0 && r.FreeEnergy > r.History[n-1].F+(slack+1e-13)*math.Max(1, math.Abs(r.FreeEnergy)) {
		t.Errorf("%s: final F %.17g above last trace value %.17g", name, r.FreeEnergy, r.History[n-1].F)
	}
}

// blobs returns n points per centre, N(centre, std² I), shuffled, as float32.
func blobs(centres [][]float64, n int, std float64, seed uint64) (*tensor.Mat, []int) {
	s := rng.New(seed)
	d := len(centres[0])
	x := tensor.New(n*len(centres), d)
	labels := make([]int, x.Rows)
	perm := s.Perm(x.Rows)
	for i := 0; i < x.Rows; i++ {
		c := i / n
		r := x.Row(perm[i])
		labels[perm[i]] = c
		for j := range r {
			r[j] = float32(centres[c][j] + std*s.NormFloat64())
		}
	}
	return x, labels
}

// adjustedRand returns the adjusted Rand index of two labelings (Hubert & Arabie 1985).
func adjustedRand(a, b []int) float64 {
	type pair struct{ i, j int }
	nij := map[pair]float64{}
	ai := map[int]float64{}
	bj := map[int]float64{}
	for k := range a {
		nij[pair{a[k], b[k]}]++
		ai[a[k]]++
		bj[b[k]]++
	}
	c2 := func(x float64) float64 { return x * (x - 1) / 2 }
	var sij, sa, sb float64
	for _, v := range nij {
		sij += c2(v)
	}
	for _, v := range ai {
		sa += c2(v)
	}
	for _, v := range bj {
		sb += c2(v)
	}
	exp := sa * sb / c2(float64(len(a)))
	return (sij - exp) / ((sa+sb)/2 - exp)
}
