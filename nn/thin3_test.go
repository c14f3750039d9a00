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
			d, v, vp := scatterInputs(s, c, n)
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

// The row kernels on rows of 10 to 28 pixels (the blocks of eight of
// thinDot8x8 and thinDot8x16, a last block that overlaps the one before, rows
// of one image row), for Conv2D to one channel and the transposed convolution
// from one: y against the direct float64 convolution, and y, ∂L/∂x, ∂L/∂W and
// ∂L/∂b against the thin GEMM path (conv_thin.go), with the AVX-512 kernels
// and without.
func TestThin3WideRows(t *testing.T) {
	if !thinAsm {
		t.Skip("no AVX2 and FMA: no row kernels")
	}
	geoms := []ConvGeom{
		{InH: 3, InW: 10, InC: 32, OutC: 1},
		{InH: 1, InW: 11, InC: 16, OutC: 1},
		{InH: 4, InW: 18, InC: 8, OutC: 1},
		{InH: 2, InW: 19, InC: 48, OutC: 1},
		{InH: 5, InW: 28, InC: 32, OutC: 1},
		{InH: 2, InW: 13, InC: 24, OutC: 1},
	}
	modes := []bool{false}
	if hasAVX512F {
		modes = append(modes, true)
	}
	defer func(a, a512 bool) { thinAsm, thinAsm512 = a, a512 }(thinAsm, thinAsm512)
	for _, g := range geoms {
		g.K, g.Stride, g.Pad = 3, 1, 1
		for _, transposed := range []bool{false, true} {
			s := rng.New(43)
			var l Layer
			var xin int
			if transposed {
				ct := NewConvTranspose2D(g.InH, g.InW, g.InC, g.InH, g.InW, 1, 3, 1, 1, He, s)
				s.FillNormal(ct.B.W, 0, 0.5)
				l, xin = ct, g.InH*g.InW*g.InC
			} else {
				cv := NewConv2D(g, He, s)
				s.FillNormal(cv.B.W, 0, 0.5)
				l, xin = cv, g.InH*g.InW*g.InC
			}
			x := randMat(s, 3, xin, 1)
			ps := l.Params()
			run := func() []float32 {
				for _, p := range ps {
					clear(p.G)
				}
				y := l.Forward(x)
				out := append([]float32(nil), y.Data...)
				out = append(out, l.Backward(randMat(rng.New(44), y.Rows, y.Cols, 1)).Data...)
				for _, p := range ps {
					out = append(out, p.G...)
				}
				return out
			}
			thinAsm = false
			want := run()
			name := fmt.Sprintf("%+v transposed=%v", g, transposed)
			for _, m := range modes {
				thinAsm, thinAsm512 = true, m
				got := run()
				if rms := relRMS(got, want); rms > 1e-5 {
					t.Fatalf("%s avx512=%v: row kernels against the GEMM path: relative rms %g", name, m, rms)
				}
				x64 := make([]float64, len(x.Data))
				for i, v := range x.Data {
					x64[i] = float64(v)
				}
				w64, b64 := make([]float64, len(ps[0].W)), make([]float64, len(ps[1].W))
				for i, v := range ps[0].W {
					w64[i] = float64(v)
				}
				for i, v := range ps[1].W {
					b64[i] = float64(v)
				}
				var y64 []float64
				if transposed {
					y64 = convT64(l.(*ConvTranspose2D).Adj, x64, x.Rows, w64, b64)
				} else {
					y64 = conv64(g, x64, x.Rows, w64, b64)
				}
				y := l.Forward(x)
				for i, v := range y64 {
					if math.Abs(float64(y.Data[i])-v) > 1e-5*(1+math.Abs(v)) {
						t.Fatalf("%s avx512=%v: y[%d] = %g, float64 %g", name, m, i, y.Data[i], v)
					}
				}
			}
		}
	}
}

// The AVX-512 kernels that take rows together (thinGrad3x16) or pixels four at
// a time (thinScatter4x32) do each lane's operations in the order of the AVX2
// row kernels: the same bits.
func TestThinKernels512SameBits(t *testing.T) {
	if !thinAsm || !hasAVX512F {
		t.Skip("no AVX-512F")
	}
	s := rng.New(45)
	for _, c := range []int{16, 32, 48, 64, 96} {
		for _, n := range []int{1, 4, 5, 8} {
			var x [3][]float32
			for r := range 3 {
				x[r] = make([]float32, (n+2)*c)
				s.FillNormal(x[r], 0, 1)
			}
			dy := make([]float32, n)
			s.FillNormal(dy, 0, 1)
			want := make([]float32, 9*c+16)
			s.FillNormal(want, 0, 1)
			got := append([]float32(nil), want...)
			for r := range 3 {
				thinGradRowx8(&want[3*r*c], &x[r][0], &dy[0], 3*c, c, n)
			}
			thinGrad3x16(&got[0], &x[0][0], &x[1][0], &x[2][0], &dy[0], c, n)
			sameBits(t, fmt.Sprintf("thinGrad3x16 c=%d n=%d", c, n), got, want)

			if c%32 != 0 || n%4 != 0 {
				continue
			}
			d, _, vp := scatterInputs(s, c, n)
			a, b := make([]float32, n*c+16), make([]float32, n*c+16)
			a[n*c], b[n*c] = 7, 7
			thinScatterRowx8(&a[0], &d[0][0], &d[1][0], &d[2][0], &vp[0], c, n)
			thinScatter4x32(&b[0], &d[0][0], &d[1][0], &d[2][0], &vp[0], c, n)
			sameBits(t, fmt.Sprintf("thinScatter4x32 c=%d n=%d", c, n), b, a)
		}
	}
}

// scatterInputs draws the input of the scatter kernels for c channels and n
// pixels: three rows of n + 2 output-gradient values, the nine taps' weights
// v (9·C, taps in order) and v packed by thinPackTaps.
func scatterInputs(s *rng.Stream, c, n int) (d [3][]float32, v, vp []float32) {
	for r := range 3 {
		d[r] = make([]float32, n+2)
		s.FillNormal(d[r], 0, 1)
	}
	v = make([]float32, 9*c)
	s.FillNormal(v, 0, 1)
	vp = make([]float32, 9*c)
	thinPackTaps(vp, v, c)
	return d, v, vp
}
