package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// The three row kernels of thin3_amd64.s against float64 loops of what their
// comments say, for channel counts with and without groups of 32 and chunks
// of 8, runs of 2C and 3C values and rows of 1 and several outputs.
func TestThinRowKernels(t *testing.T) {
	if !thinAsm {
		t.Skip("no AVX2 and FMA: no row kernels")
	}
	s := rng.New(41)
	near := func(what string, got float32, want float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > 1e-5*(1+math.Abs(want)) {
			t.Fatalf("%s: %g, float64 %g", what, got, want)
		}
	}
	for _, c := range []int{8, 16, 32, 40, 64, 72} {
		for _, n := range []int{1, 5} {
			for _, l := range []int{2 * c, 3 * c} {
				var x, w [3][]float32
				for r := range 3 {
					x[r] = make([]float32, (n+2)*c)
					w[r] = make([]float32, 3*c)
					s.FillNormal(x[r], 0, 1)
					s.FillNormal(w[r], 0, 1)
				}
				y := make([]float32, n+1)
				y[n] = 7 // past the row: left alone
				thinDotRowx8(&y[0], &x[0][0], &x[1][0], &x[2][0], &w[0][0], &w[1][0], &w[2][0], 0.5, l, c, n)
				for i := range n {
					want := 0.5
					for r := range 3 {
						for k := range l {
							want += float64(x[r][i*c+k]) * float64(w[r][k])
						}
					}
					near(fmt.Sprintf("dot c=%d n=%d l=%d y[%d]", c, n, l, i), y[i], want)
				}
				if y[n] != 7 {
					t.Fatalf("dot c=%d n=%d: wrote past the row", c, n)
				}

				acc := make([]float32, l+8)
				s.FillNormal(acc, 0, 1)
				old := append([]float32(nil), acc...)
				dy := make([]float32, n)
				s.FillNormal(dy, 0, 1)
				thinGradRowx8(&acc[0], &x[0][0], &dy[0], l, c, n)
				for k := range l {
					want := float64(old[k])
					for i := range n {
						want += float64(dy[i]) * float64(x[0][i*c+k])
					}
					near(fmt.Sprintf("grad c=%d n=%d l=%d acc[%d]", c, n, l, k), acc[k], want)
				}
				for k := l; k < l+8; k++ {
					if acc[k] != old[k] {
						t.Fatalf("grad c=%d: wrote past the run", c)
					}
				}
			}
			var d [3][]float32
			for r := range 3 {
				d[r] = make([]float32, n+2)
				s.FillNormal(d[r], 0, 1)
			}
			v := make([]float32, 9*c)
			s.FillNormal(v, 0, 1)
			vp := make([]float32, 9*c)
			thinPackTaps(vp, v, c)
			dx := make([]float32, n*c+8)
			dx[n*c] = 7
			thinScatterRowx8(&dx[0], &d[0][0], &d[1][0], &d[2][0], &vp[0], c, n)
			for i := range n {
				for ch := range c {
					var want float64
					for r := range 3 {
						for k := range 3 {
							want += float64(d[r][i+k]) * float64(v[(r*3+k)*c+ch])
						}
					}
					near(fmt.Sprintf("scatter c=%d n=%d dx[%d][%d]", c, n, i, ch), dx[i*c+ch], want)
				}
			}
			if dx[n*c] != 7 {
				t.Fatalf("scatter c=%d n=%d: wrote past the row", c, n)
			}
		}
	}
}
