package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// upsampleRef is nearest-neighbour upsampling by its definition, in float64.
func upsampleRef(h, w, c, s int) refFunc {
	return func(x []float64, rows, cols int, _ [][]float64) []float64 {
		ow := s * w
		y := make([]float64, rows*s*h*ow*c)
		for n := range rows {
			for oy := range s * h {
				for ox := range ow {
					for k := range c {
						y[((n*s*h+oy)*ow+ox)*c+k] = x[n*cols+((oy/s)*w+ox/s)*c+k]
					}
				}
			}
		}
		return y
	}
}

func TestUpsample(t *testing.T) {
	s := rng.New(51)
	for _, sh := range []struct{ batch, h, w, c, scale int }{
		{1, 1, 1, 1, 2},
		{1, 3, 5, 2, 2},
		{2, 7, 7, 3, 2},
		{3, 2, 3, 1, 3},
		{2, 4, 1, 5, 1},
	} {
		u := NewUpsample(sh.h, sh.w, sh.c, sh.scale)
		x := randMat(s, sh.batch, sh.h*sh.w*sh.c, 1)
		name := fmt.Sprintf("Upsample %+v", sh)
		// The forward pass is a copy: exact against the definition (fwdTol 0).
		checkGrad64(t, name, u, x, upsampleRef(sh.h, sh.w, sh.c, sh.scale), 0, 1e-5)
		// Adjoint: ⟨up(x), v⟩ = ⟨x, upᵀ(v)⟩.
		v := randMat(s, sh.batch, u.OutDim(), 1)
		lhs := projLoss(u.Forward(x), v)
		rhs := projLoss(x, u.Backward(v))
		if math.Abs(lhs-rhs) > 1e-5*(1+math.Abs(lhs)) {
			t.Errorf("%s: ⟨up x, v⟩ = %g, ⟨x, upᵀ v⟩ = %g", name, lhs, rhs)
		}
	}
}

func TestUpsampleSameBitsNoAllocs(t *testing.T) {
	run := func() []float32 {
		s := rng.New(52)
		u := NewUpsample(14, 14, 8, 2)
		y := u.Forward(randMat(s, 33, 14*14*8, 1))
		dx := u.Backward(randMat(s, 33, u.OutDim(), 1))
		return append(append([]float32(nil), y.Data...), dx.Data...)
	}
	var a, b []float32
	withWorkers(1, func() { a = run() })
	withWorkers(2, func() { b = run() })
	sameBits(t, "1 vs 2 workers", a, b)

	s := rng.New(53)
	u := NewUpsample(7, 7, 16, 2)
	x := randMat(s, 64, 7*7*16, 1)
	dy := randMat(s, 64, u.OutDim(), 1)
	step := func() {
		u.Forward(x)
		u.Backward(dy)
	}
	noAllocs(t, "Upsample step", step)
}
