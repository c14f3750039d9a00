package mcmc

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Bipartite holds the parameters of a binary–binary bipartite energy model (a
// restricted Boltzmann machine), with energy
//
//	E(v, h) = −vᵀWh − bᵀv − cᵀh,   v ∈ {0,1}^nv, h ∈ {0,1}^nh,
//
// and distribution p(v, h) = exp(−E(v, h))/Z. The slices are the caller's: an RBM
// passes views of its own parameters. Methods panic (caller bug) if the shapes disagree.
type Bipartite struct {
	W *tensor.Mat // (nv, nh)
	B []float32   // visible biases, len nv
	C []float32   // hidden biases, len nh
}

// NumVisible returns nv.
func (m Bipartite) NumVisible() int { return m.W.Rows }

// NumHidden returns nh.
func (m Bipartite) NumHidden() int { return m.W.Cols }

func (m Bipartite) check() {
	if m.W == nil || len(m.B) != m.W.Rows || len(m.C) != m.W.Cols {
		nb, nc, r, c := len(m.B), len(m.C), -1, -1
		if m.W != nil {
			r, c = m.W.Rows, m.W.Cols
		}
		panic(fmt.Sprintf("mcmc: Bipartite: W %d×%d with len(B)=%d, len(C)=%d", r, c, nb, nc))
	}
}

// softplus returns log(1+eˣ) computed stably: max(x,0) + log1p(e^−|x|).
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// Energy returns E(v, h) = −vᵀWh − bᵀv − cᵀh, accumulated in float64.
// It panics if len(v) != nv or len(h) != nh.
func (m Bipartite) Energy(v, h []float32) float64 {
	m.check()
	if len(v) != m.W.Rows || len(h) != m.W.Cols {
		panic(fmt.Sprintf("mcmc: Energy: len(v)=%d, len(h)=%d for a %d×%d model", len(v), len(h), m.W.Rows, m.W.Cols))
	}
	var e float64
	for i, vi := range v {
		if vi == 0 {
			continue
		}
		var s float64
		for j, w := range m.W.Row(i) {
			s += float64(w) * float64(h[j])
		}
		e -= float64(vi) * (s + float64(m.B[i]))
	}
	for j, hj := range h {
		e -= float64(hj) * float64(m.C[j])
	}
	return e
}

// FreeEnergy returns the visible free energy F(v) = −log Σ_h exp(−E(v, h)):
//
//	F(v) = −bᵀv − Σ_j softplus(c_j + Σ_i v_i W_ij),
//
// in float64 with the stable softplus (Hinton 2010, "A practical guide to training
// RBMs", eq. 25). It panics if len(v) != nv.
func (m Bipartite) FreeEnergy(v []float32) float64 {
	m.check()
	if len(v) != m.W.Rows {
		panic(fmt.Sprintf("mcmc: FreeEnergy: len(v)=%d, want %d", len(v), m.W.Rows))
	}
	nh := m.W.Cols
	x := make([]float64, nh)
	for j := range x {
		x[j] = float64(m.C[j])
	}
	var f float64
	for i, vi := range v {
		if vi == 0 {
			continue
		}
		f -= float64(vi) * float64(m.B[i])
		for j, w := range m.W.Row(i) {
			x[j] += float64(vi) * float64(w)
		}
	}
	for _, xj := range x {
		f -= softplus(xj)
	}
	return f
}

// HiddenFreeEnergy returns F(h) = −log Σ_v exp(−E(v, h)) = −cᵀh − Σ_i softplus(b_i + Σ_j W_ij h_j).
// It panics if len(h) != nh.
func (m Bipartite) HiddenFreeEnergy(h []float32) float64 {
	m.check()
	if len(h) != m.W.Cols {
		panic(fmt.Sprintf("mcmc: HiddenFreeEnergy: len(h)=%d, want %d", len(h), m.W.Cols))
	}
	var f float64
	for j, hj := range h {
		f -= float64(hj) * float64(m.C[j])
	}
	for i := 0; i < m.W.Rows; i++ {
		s := float64(m.B[i])
		for j, w := range m.W.Row(i) {
			s += float64(w) * float64(h[j])
		}
		f -= softplus(s)
	}
	return f
}

// HiddenProbs sets the rows of dst to p(h = 1 | v) = σ(β(Wᵀv + c)) for the rows v of
// vis (dst is (n, nh), reused when it has room) and returns dst. beta is the inverse
// temperature of the tempered model p_β ∝ exp(−βE); use 1 for the model itself.
func (m Bipartite) HiddenProbs(dst, vis *tensor.Mat, beta float32) *tensor.Mat {
	m.check()
	dst = tensor.Reuse(dst, vis.Rows, m.W.Cols)
	tensor.Gemm(false, false, 1, vis, m.W, 0, dst) // (n, nh)
	sigmoidRows(dst, m.C, beta)
	return dst
}

// VisibleProbs sets the rows of dst to p(v = 1 | h) = σ(β(Wh + b)) for the rows h of hid
// and returns dst ((n, nv), reused when it has room).
func (m Bipartite) VisibleProbs(dst, hid *tensor.Mat, beta float32) *tensor.Mat {
	m.check()
	dst = tensor.Reuse(dst, hid.Rows, m.W.Rows)
	tensor.Gemm(false, true, 1, hid, m.W, 0, dst) // (n, nv)
	sigmoidRows(dst, m.B, beta)
	return dst
}

// sigmoidRows sets x[i,j] = σ(β(x[i,j] + bias[j])).
func sigmoidRows(x *tensor.Mat, bias []float32, beta float32) {
	tensor.ParallelFor(x.Rows, 16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := x.Row(i)
			for j := range r {
				r[j] = sigmoid32(beta * (r[j] + bias[j]))
			}
		}
	})
}

func sigmoid32(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// SampleBernoulliRows replaces each p[i,j] by a Bernoulli(p[i,j]) draw in {0, 1}, row i
// using streams[i]. It panics if len(streams) < p.Rows. Rows run in parallel; the
// result does not depend on the number of workers.
func SampleBernoulliRows(p *tensor.Mat, streams []*rng.Stream) {
	if len(streams) < p.Rows {
		panic(fmt.Sprintf("mcmc: SampleBernoulliRows: %d streams for %d rows", len(streams), p.Rows))
	}
	tensor.ParallelFor(p.Rows, 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			streams[i].FillBernoulli(p.Row(i), p.Row(i))
		}
	})
}

// Streams returns n streams rng.NewStream(seed, first+i), one per chain.
func Streams(seed uint64, first, n int) []*rng.Stream {
	s := make([]*rng.Stream, n)
	for i := range s {
		s[i] = rng.NewStream(seed, uint64(first+i))
	}
	return s
}

// Gibbs is a set of block-Gibbs chains on a Bipartite model at inverse temperature
// Beta: one chain per row of V, chain i drawing from Streams[i]. One step samples
// h ~ p(h | v), then v ~ p(v | h). The zero Beta means 1.
type Gibbs struct {
	Model   Bipartite
	Beta    float32
	V, H    *tensor.Mat // (chains, nv), (chains, nh): current states
	Streams []*rng.Stream
}

// NewGibbs returns chains started from the rows of v0 (copied), chain i using
// rng.NewStream(seed, i).
func NewGibbs(m Bipartite, v0 *tensor.Mat, seed uint64) *Gibbs {
	m.check()
	if v0.Cols != m.W.Rows {
		panic(fmt.Sprintf("mcmc: NewGibbs: states have %d columns, model has %d visible units", v0.Cols, m.W.Rows))
	}
	return &Gibbs{Model: m, Beta: 1, V: v0.Clone(), H: tensor.New(v0.Rows, m.W.Cols), Streams: Streams(seed, 0, v0.Rows)}
}

// Step runs n block-Gibbs steps on every chain.
func (g *Gibbs) Step(n int) {
	beta := g.Beta
	if beta == 0 {
		beta = 1
	}
	for t := 0; t < n; t++ {
		g.H = g.Model.HiddenProbs(g.H, g.V, beta)
		SampleBernoulliRows(g.H, g.Streams)
		g.V = g.Model.VisibleProbs(g.V, g.H, beta)
		SampleBernoulliRows(g.V, g.Streams)
	}
}
