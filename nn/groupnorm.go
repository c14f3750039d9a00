package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// GroupNorm normalises each example over groups of channels (Wu & He 2018), as
// PyTorch's nn.GroupNorm does; it is the same in training and evaluation, so it
// suits the small batches of a diffusion U-Net. A row is one NHWC image of Pos =
// H·W positions of C channels (channel fastest); the C channels are split into G
// groups of C/G consecutive channels. For one example and one group, over its
// M = Pos·C/G values x_i,
//
//	μ = (1/M) Σ x_i,   σ² = (1/M) Σ (x_i − μ)²,   x̂_i = (x_i − μ)/√(σ² + ε),
//	y_i = γ_c x̂_i + β_c                               (c the channel of x_i)
//
// with the derivatives, writing g_i = γ_c dy_i,
//
//	∂L/∂β_c = Σ_{examples, positions} dy,   ∂L/∂γ_c = Σ_{examples, positions} dy x̂,
//	∂L/∂x_i = (1/√(σ² + ε)) · (g_i − (1/M) Σ_j g_j − x̂_i (1/M) Σ_j g_j x̂_j).
//
// G = 1 is LayerNorm over the whole image and G = C is InstanceNorm. Statistics
// and sums are float64; the per-element work is float32.
type GroupNorm struct {
	G, C, Pos   int     // groups, channels, positions per row
	Eps         float64 // ε; NewGroupNorm sets PyTorch's 1e-5
	Gamma, Beta *Param  // γ (initially 1) and β (initially 0), one per channel

	batch       int
	xhat, y, dx *tensor.Mat
	stats       []float64 // per (row, group): mean, 1/√(σ²+ε)
	gsum        []float64 // per (row, group): Σ g, Σ g x̂ (backward scratch)
	part, sums  []float64
}

// NewGroupNorm returns a GroupNorm of h×w×c NHWC images with the given number of
// groups. It panics unless groups divides c.
func NewGroupNorm(groups, h, w, c int) *GroupNorm {
	if h < 1 || w < 1 || c < 1 || groups < 1 || c%groups != 0 {
		panic(fmt.Sprintf("nn: NewGroupNorm: %d groups of %d×%d×%d images (groups must divide the channels)", groups, h, w, c))
	}
	l := &GroupNorm{G: groups, C: c, Pos: h * w, Eps: 1e-5,
		Gamma: NewParam("gamma", c), Beta: NewParam("beta", c), sums: make([]float64, 2*c)}
	for i := range c {
		l.Gamma.W[i] = 1
	}
	return l
}

// Params returns γ and β.
func (l *GroupNorm) Params() []*Param { return []*Param{l.Gamma, l.Beta} }

// Forward normalises every example's groups. It panics if x.Cols != Pos·C.
func (l *GroupNorm) Forward(x *tensor.Mat) *tensor.Mat {
	if x.Cols != l.Pos*l.C {
		panic(fmt.Sprintf("nn: GroupNorm: rows have %d values, want %d positions × %d channels", x.Cols, l.Pos, l.C))
	}
	l.batch = x.Rows
	l.stats = resize64(l.stats, 2*l.G*x.Rows)
	l.xhat = tensor.Reuse(l.xhat, x.Rows, x.Cols)
	l.y = tensor.Reuse(l.y, x.Rows, x.Cols)
	j := newNormJob(gnForward)
	j.x, j.xhat, j.y, j.gn, j.grain = x, l.xhat, l.y, l, pieceGrain(x.Rows, x.Cols)
	j.run(x.Rows)
	return l.y
}

// Backward sets ∂L/∂γ and ∂L/∂β and returns ∂L/∂x.
func (l *GroupNorm) Backward(dy *tensor.Mat) *tensor.Mat {
	c := l.C
	if l.xhat == nil || dy.Rows != l.batch || dy.Cols != l.Pos*c {
		panic(fmt.Sprintf("nn: GroupNorm: dy is %d×%d, want %d×%d", dy.Rows, dy.Cols, l.batch, l.Pos*c))
	}
	grain := pieceGrain(dy.Rows, dy.Cols)
	pieces := (dy.Rows + grain - 1) / grain
	l.part = partials(l.part, pieces, 2*c)
	l.gsum = resize64(l.gsum, 2*l.G*dy.Rows)
	l.dx = tensor.Reuse(l.dx, dy.Rows, dy.Cols)
	j := newNormJob(gnBackward)
	j.dy, j.xhat, j.dx, j.gn, j.grain, j.part = dy, l.xhat, l.dx, l, grain, l.part
	j.run(dy.Rows)
	reducePieces(l.sums, l.part, 2*c, 0)
	for k := range c {
		l.Beta.G[k] = float32(l.sums[k])
		l.Gamma.G[k] = float32(l.sums[c+k])
	}
	return l.dx
}

// gnForward normalises the rows [lo, hi): two float64 passes for each group's
// mean and variance, then x̂ and y.
func gnForward(j *normJob, lo, hi int) {
	l := j.gn
	c, ng := l.C, l.G
	cg := c / ng
	m := float64(l.Pos * cg)
	for i := lo; i < hi; i++ {
		x, xh, y := j.x.Row(i), j.xhat.Row(i), j.y.Row(i)
		st := l.stats[2*ng*i : 2*ng*(i+1)]
		mean, inv := st[:ng], st[ng:]
		clear(st)
		for p := 0; p < len(x); p += c {
			xs := x[p : p+c]
			for g := range ng {
				var s float64
				for _, v := range xs[g*cg : (g+1)*cg] {
					s += float64(v)
				}
				mean[g] += s
			}
		}
		for g := range ng {
			mean[g] /= m
		}
		for p := 0; p < len(x); p += c {
			xs := x[p : p+c]
			for g := range ng {
				var s float64
				mu := mean[g]
				for _, v := range xs[g*cg : (g+1)*cg] {
					d := float64(v) - mu
					s += d * d
				}
				inv[g] += s
			}
		}
		for g := range ng {
			inv[g] = 1 / math.Sqrt(inv[g]/m+l.Eps)
		}
		gam, bet := l.Gamma.W[:c], l.Beta.W[:c]
		for p := 0; p < len(x); p += c {
			xs, xhs, ys := x[p:p+c], xh[p:p+c], y[p:p+c]
			for g := range ng {
				mu, s := float32(mean[g]), float32(inv[g])
				for k := g * cg; k < (g+1)*cg; k++ {
					h := (xs[k] - mu) * s
					xhs[k] = h
					ys[k] = gam[k]*h + bet[k]
				}
			}
		}
	}
}

// gnBackward computes dx for the rows [lo, hi) and adds Σ dy and Σ dy x̂ per
// channel into the piece's partials.
func gnBackward(j *normJob, lo, hi int) {
	l := j.gn
	c, ng := l.C, l.G
	cg := c / ng
	m := float64(l.Pos * cg)
	acc := j.part[(lo/j.grain)*2*c:][:2*c]
	db, dg := acc[:c], acc[c:]
	gam := l.Gamma.W[:c]
	for i := lo; i < hi; i++ {
		dy, xh, dx := j.dy.Row(i), j.xhat.Row(i), j.dx.Row(i)
		gs := l.gsum[2*ng*i : 2*ng*(i+1)]
		s1, s2 := gs[:ng], gs[ng:]
		clear(gs)
		for p := 0; p < len(dy); p += c {
			ds, xhs := dy[p:p+c], xh[p:p+c]
			for k, v := range ds {
				db[k] += float64(v)
				dg[k] += float64(v) * float64(xhs[k])
			}
			for g := range ng {
				var a, b float64
				for k := g * cg; k < (g+1)*cg; k++ {
					gk := float64(gam[k] * ds[k])
					a += gk
					b += gk * float64(xhs[k])
				}
				s1[g] += a
				s2[g] += b
			}
		}
		inv := l.stats[2*ng*i+ng : 2*ng*(i+1)]
		for p := 0; p < len(dy); p += c {
			ds, xhs, dxs := dy[p:p+c], xh[p:p+c], dx[p:p+c]
			for g := range ng {
				s := float32(inv[g])
				a, b := float32(s1[g]/m), float32(s2[g]/m)
				for k := g * cg; k < (g+1)*cg; k++ {
					dxs[k] = s * (gam[k]*ds[k] - a - xhs[k]*b)
				}
			}
		}
	}
}

// resize64 returns buf with length n, reallocated only when too small.
func resize64(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}
