package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// gnRef is GroupNorm in float64 by its definition.
func gnRef(groups, pos, c int, eps float64) refFunc {
	return func(x []float64, rows, cols int, ps [][]float64) []float64 {
		y := make([]float64, len(x))
		cg := c / groups
		m := float64(pos * cg)
		for i := range rows {
			r := x[i*cols : (i+1)*cols]
			for g := range groups {
				var mean, vari float64
				for p := range pos {
					for k := g * cg; k < (g+1)*cg; k++ {
						mean += r[p*c+k]
					}
				}
				mean /= m
				for p := range pos {
					for k := g * cg; k < (g+1)*cg; k++ {
						d := r[p*c+k] - mean
						vari += d * d
					}
				}
				vari /= m
				for p := range pos {
					for k := g * cg; k < (g+1)*cg; k++ {
						y[i*cols+p*c+k] = ps[0][k]*(r[p*c+k]-mean)/math.Sqrt(vari+eps) + ps[1][k]
					}
				}
			}
		}
		return y
	}
}

func TestGroupNormGrad(t *testing.T) {
	s := rng.New(31)
	for _, sh := range []struct{ batch, groups, h, w, c int }{
		{1, 2, 3, 3, 4},  // batch 1, odd image
		{2, 3, 2, 3, 6},  // odd group count
		{3, 1, 1, 5, 3},  // one group (LayerNorm)
		{2, 5, 3, 1, 5},  // one channel per group (InstanceNorm)
		{1, 1, 1, 1, 2},  // two values per group
		{2, 4, 2, 2, 16}, // several channels per group
	} {
		l := NewGroupNorm(sh.groups, sh.h, sh.w, sh.c)
		randomAffine(s, l.Gamma, l.Beta)
		x := randMat(s, sh.batch, sh.h*sh.w*sh.c, 1.3)
		for i := range x.Data {
			x.Data[i] -= 0.4
		}
		name := fmt.Sprintf("GroupNorm %+v", sh)
		checkGrad64(t, name, l, x, gnRef(sh.groups, sh.h*sh.w, sh.c, l.Eps), 1e-5, 1e-4)
		checkGrad(t, name+" (float32 FD)", l, x, false)
	}
}

// TestGroupNormPerExample: each example is normalised on its own, so an example's
// output does not depend on the rest of the batch.
func TestGroupNormPerExample(t *testing.T) {
	s := rng.New(32)
	l := NewGroupNorm(2, 3, 3, 4)
	randomAffine(s, l.Gamma, l.Beta)
	x := randMat(s, 3, 36, 1)
	y3 := append([]float32(nil), l.Forward(x).Row(1)...)
	y1 := l.Forward(x.Slice(1, 2)).Row(0)
	sameBits(t, "row 1 alone vs in the batch", y3, y1)
}

func TestGroupNormBadGroupsPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("3 groups of 4 channels did not panic")
		}
	}()
	NewGroupNorm(3, 2, 2, 4)
}
