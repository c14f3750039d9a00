package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// attnRef is SelfAttention in float64 by its definition: GroupNorm, the three
// projections, softmax(QKᵀ/√C) V, the output projection and the residual.
func attnRef(h, w, c, groups int) refFunc {
	gn := gnRef(groups, h*w, c, 1e-5)
	p := h * w
	return func(x []float64, rows, cols int, ps [][]float64) []float64 {
		g := gn(x, rows, cols, ps[:2])
		wqkv, bqkv, wo, bo := ps[2], ps[3], ps[4], ps[5]
		y := append([]float64(nil), x...)
		for i := range rows {
			qkv := make([]float64, p*3*c)
			for r := range p {
				for o := range 3 * c {
					s := bqkv[o]
					for k := range c {
						s += g[i*cols+r*c+k] * wqkv[k*3*c+o]
					}
					qkv[r*3*c+o] = s
				}
			}
			for r := range p {
				a := make([]float64, p)
				mx := math.Inf(-1)
				for j := range p {
					var s float64
					for k := range c {
						s += qkv[r*3*c+k] * qkv[j*3*c+c+k]
					}
					a[j] = s / math.Sqrt(float64(c))
					mx = max(mx, a[j])
				}
				var z float64
				for j := range a {
					a[j] = math.Exp(a[j] - mx)
					z += a[j]
				}
				o := make([]float64, c)
				for j := range p {
					for k := range c {
						o[k] += a[j] / z * qkv[j*3*c+2*c+k]
					}
				}
				for m := range c {
					s := bo[m]
					for k := range c {
						s += o[k] * wo[k*c+m]
					}
					y[i*cols+r*c+m] += s
				}
			}
		}
		return y
	}
}

// Forward and every gradient against a float64 reference, on awkward shapes
// (one position, odd sizes, batch 1), with W_o made non-zero; same bits with
// 1 and 2 workers; a new block is the identity.
func TestSelfAttentionGrad(t *testing.T) {
	for _, sh := range []struct{ h, w, c, groups, n int }{{2, 3, 4, 2, 3}, {1, 1, 2, 1, 2}, {3, 3, 6, 3, 1}, {2, 2, 8, 8, 2}} {
		name := fmt.Sprintf("attention %dx%dx%d/%d batch %d", sh.h, sh.w, sh.c, sh.groups, sh.n)
		s := rng.New(5)
		l := NewSelfAttention(sh.h, sh.w, sh.c, sh.groups, s)
		x := randMat(s, sh.n, sh.h*sh.w*sh.c, 1)
		y := l.Forward(x)
		for i, v := range y.Data[:x.Rows*x.Cols] {
			if v != x.Data[i] {
				t.Fatalf("%s: a new block changes x (W_o starts at zero): %g → %g", name, x.Data[i], v)
			}
		}
		s.FillNormal(l.Proj.W.W, 0, 0.5)
		s.FillNormal(l.Proj.B.W, 0, 0.1)
		s.FillNormal(l.Norm.Gamma.W, 1, 0.2)
		s.FillNormal(l.Norm.Beta.W, 0, 0.2)
		s.FillNormal(l.QKV.W.W, 0, 0.7) // sharper attention than Glorot's
		checkGrad64(t, name, l, x, attnRef(sh.h, sh.w, sh.c, sh.groups), 1e-5, 2e-4)
		var y1, y2, g1, g2 []float32
		dy := randMat(rng.New(9), y.Rows, y.Cols, 1)
		run := func() ([]float32, []float32) {
			out := append([]float32(nil), l.Forward(x).Data...)
			dx := append([]float32(nil), l.Backward(dy).Data...)
			return out, append(dx, l.QKV.W.G...)
		}
		withWorkers(1, func() { y1, g1 = run() })
		withWorkers(2, func() { y2, g2 = run() })
		sameBits(t, name+" forward, 1 and 2 workers", y1, y2)
		sameBits(t, name+" backward, 1 and 2 workers", g1, g2)
	}
}

// Attention is permutation-equivariant: permuting the positions of the input
// permutes the output the same way (the block has no position information).
func TestSelfAttentionPermutation(t *testing.T) {
	s := rng.New(3)
	l := NewSelfAttention(2, 3, 4, 2, s)
	s.FillNormal(l.Proj.W.W, 0, 0.5)
	x := randMat(s, 2, 24, 1)
	y := l.Forward(x).Clone()
	perm := []int{4, 0, 5, 2, 1, 3}
	xp := tensor.New(2, 24)
	for i := range 2 {
		for r, src := range perm {
			copy(xp.Row(i)[r*4:(r+1)*4], x.Row(i)[src*4:(src+1)*4])
		}
	}
	yp := l.Forward(xp)
	for i := range 2 {
		for r, src := range perm {
			for k := range 4 {
				if d := math.Abs(float64(yp.At(i, r*4+k) - y.At(i, src*4+k))); d > 1e-5 {
					t.Fatalf("position %d (from %d), channel %d: %g vs %g", r, src, k, yp.At(i, r*4+k), y.At(i, src*4+k))
				}
			}
		}
	}
}
