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
	scr64       []float64 // per piece: 2C of per-channel scratch
	scr32       []float32 // per piece: 3C of per-channel coefficients
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
	grain := pieceGrain(x.Rows, x.Cols)
	l.scratch((x.Rows + grain - 1) / grain)
	l.stats = resize64(l.stats, 2*l.G*x.Rows)
	l.xhat = tensor.Reuse(l.xhat, x.Rows, x.Cols)
	l.y = tensor.Reuse(l.y, x.Rows, x.Cols)
	j := newNormJob(gnForward)
	j.x, j.xhat, j.y, j.gn, j.grain = x, l.xhat, l.y, l, grain
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
	l.scratch(pieces)
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

// gnForward normalises the rows [lo, hi): per-channel float64 sums over the
// positions, folded into groups, for the mean and then the variance (two
// passes), then x̂ and y. The per-channel scratch is the piece's own.
func gnForward(j *normJob, lo, hi int) {
	l := j.gn
	c, ng := l.C, l.G
	cg := c / ng
	m := float64(l.Pos * cg)
	p := lo / j.grain
	acc, meanC := l.scr64[2*c*p:][:c], l.scr64[2*c*p+c:][:c]
	mu32, s32 := l.scr32[3*c*p:][:c], l.scr32[3*c*p+c:][:c]
	for i := lo; i < hi; i++ {
		x := j.x.Row(i)
		st := l.stats[2*ng*i : 2*ng*(i+1)]
		mean, inv := st[:ng], st[ng:]
		clear(acc)
		chanSum(acc, x)
		for g := range ng {
			mean[g] = sum64(acc[g*cg:(g+1)*cg]) / m
			for k := g * cg; k < (g+1)*cg; k++ {
				meanC[k] = mean[g]
			}
		}
		clear(acc)
		chanSumSq(acc, meanC, x)
		for g := range ng {
			inv[g] = 1 / math.Sqrt(sum64(acc[g*cg:(g+1)*cg])/m+l.Eps)
			for k := g * cg; k < (g+1)*cg; k++ {
				mu32[k], s32[k] = float32(mean[g]), float32(inv[g])
			}
		}
		chanNormalize(j.y.Row(i), j.xhat.Row(i), x, mu32, s32, l.Gamma.W, l.Beta.W)
	}
}

// gnBackward computes dx for the rows [lo, hi) and adds Σ dy and Σ dy x̂ per
// channel into the piece's partials. With s = 1/√(σ²+ε) of the group and the
// group sums S₁ = Σ γ dy, S₂ = Σ γ dy x̂ (over its channels and positions),
// dx = s γ_c dy − s S₁/M − x̂ s S₂/M.
func gnBackward(j *normJob, lo, hi int) {
	l := j.gn
	c, ng := l.C, l.G
	cg := c / ng
	m := float64(l.Pos * cg)
	p := lo / j.grain
	part := j.part[2*c*p:][:2*c]
	sb, sg := l.scr64[2*c*p:][:c], l.scr64[2*c*p+c:][:c]
	kc, a, b := l.scr32[3*c*p:][:c], l.scr32[3*c*p+c:][:c], l.scr32[3*c*p+2*c:][:c]
	gam := l.Gamma.W[:c]
	for i := lo; i < hi; i++ {
		dy, xh := j.dy.Row(i), j.xhat.Row(i)
		clear(sb)
		clear(sg)
		chanGradSums(sb, sg, dy, xh)
		for k := range c {
			part[k] += sb[k]
			part[c+k] += sg[k]
		}
		inv := l.stats[2*ng*i+ng : 2*ng*(i+1)]
		for g := range ng {
			var s1, s2 float64
			for k := g * cg; k < (g+1)*cg; k++ {
				s1 += float64(gam[k]) * sb[k]
				s2 += float64(gam[k]) * sg[k]
			}
			s := inv[g]
			ag, bg := float32(s*s1/m), float32(s*s2/m)
			for k := g * cg; k < (g+1)*cg; k++ {
				kc[k], a[k], b[k] = float32(s*float64(gam[k])), ag, bg
			}
		}
		chanInputGrad(j.dx.Row(i), dy, xh, kc, a, b)
	}
}

// sum64 returns Σ v in order.
func sum64(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

// scratch sizes the per-piece scratch for the given number of pieces.
func (l *GroupNorm) scratch(pieces int) {
	l.scr64 = resize64(l.scr64, 2*l.C*pieces)
	if n := 3 * l.C * pieces; cap(l.scr32) < n {
		l.scr32 = make([]float32, n)
	} else {
		l.scr32 = l.scr32[:n]
	}
}

// resize64 returns buf with length n, reallocated only when too small.
func resize64(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}
