package diffusion

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Denoiser predicts the noise: for a batch of rows x_t at steps t (one per
// row, 1 ≤ t ≤ T) it returns ε̂_θ(x_t, t) (n × D) in a buffer it owns, valid
// until its next call.
type Denoiser interface {
	Eps(xt *tensor.Mat, t []int) *tensor.Mat
}

// Gaussian is Gaussian diffusion (Ho et al. 2020) with schedule S, for data
// scaled to [−1, 1]. The reverse step is
//
//	p_θ(x_{t−1} | x_t) = N(μ_θ(x_t, t), σ_t² I),
//	μ_θ = (x_t − β_t/√(1 − ᾱ_t) ε̂_θ)/√α_t,     σ_t² = β̃_t
//
// (the posterior variance, Ho et al.'s "fixedsmall"; at t = 1 the sampler
// returns μ_θ and the decoder uses σ_1² = β̃_2).
//
// With ClipX0 the samplers clip the prediction x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t
// to [−1, 1] and use ε̂ recomputed from it, as Ho et al.'s and Nichol &
// Dhariwal's code do when sampling: near t = T, where √ᾱ_t is tiny, x̂_0
// would otherwise multiply the network's error many times over. The bound
// never clips.
type Gaussian struct {
	S      *Schedule
	ClipX0 bool
	// Var, when not nil, holds the reverse variances σ_t² (index t ≥ 2) that
	// the bound's terms L_{t−1} use instead of β̃_t (see AnalyticVariances);
	// the samplers and the decoder term L_0 do not read it.
	Var []float64
}

// x0Eps returns x̂_0 and ε̂ at step t for x_t and the prediction eps: as
// predicted, or with ClipX0 x̂_0 clipped to [−1, 1] and ε̂ = (x_t − √ᾱ_t x̂_0)/√(1 − ᾱ_t).
func (g Gaussian) x0Eps(t int, xt, eps float64) (float64, float64) {
	x0 := (xt - g.S.SqrtOneMinusAB[t]*eps) / g.S.SqrtAB[t]
	if !g.ClipX0 || (x0 >= -1 && x0 <= 1) {
		return x0, eps
	}
	x0 = min(max(x0, -1), 1)
	return x0, (xt - g.S.SqrtAB[t]*x0) / g.S.SqrtOneMinusAB[t]
}

// Noise sets dst to x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε for every row at its step t[i].
func (g Gaussian) Noise(dst, x0, eps *tensor.Mat, t []int) *tensor.Mat {
	dst = tensor.Reuse(dst, x0.Rows, x0.Cols)
	for i := 0; i < x0.Rows; i++ {
		a, b := float32(g.S.SqrtAB[t[i]]), float32(g.S.SqrtOneMinusAB[t[i]])
		d, x, e := dst.Row(i), x0.Row(i), eps.Row(i)
		for j, v := range x {
			d[j] = a*v + b*e[j]
		}
	}
	return dst
}

// Ancestral runs the reverse chain from x (x_T, overwritten) down to x_0:
//
//	x_{t−1} = μ_θ(x_t, t) + √β̃_t z,  z ~ N(0, I)    (no noise at t = 1)
//
// (Ho et al. 2020, Algorithm 2), in float64 per value. After each step t it
// calls at(t − 1, x) when at is not nil.
func (g Gaussian) Ancestral(d Denoiser, x *tensor.Mat, s *rng.Stream, at func(t int, x *tensor.Mat)) {
	T := g.S.T
	ts := make([]int, x.Rows)
	z := make([]float32, x.Cols)
	for t := T; t >= 1; t-- {
		for i := range ts {
			ts[i] = t
		}
		eps := d.Eps(x, ts)
		sd := math.Sqrt(g.S.PostVar[t])
		for i := 0; i < x.Rows; i++ {
			r, e := x.Row(i), eps.Row(i)
			if t > 1 {
				s.FillNormal(z, 0, 1)
			}
			for j, v := range r {
				x0, _ := g.x0Eps(t, float64(v), float64(e[j]))
				m := g.S.C0[t]*x0 + g.S.Ct[t]*float64(v) // = Mean0 unclipped
				if t > 1 {
					m += sd * float64(z[j])
				}
				r[j] = float32(m)
			}
		}
		if at != nil {
			at(t-1, x)
		}
	}
}

// DDIMSteps returns the S steps τ_S = T > … > τ_1 ≥ 1 of a DDIM sampler,
// evenly spaced: τ_i = round(i·T/S). It panics unless 1 ≤ S ≤ T.
func (g Gaussian) DDIMSteps(S int) []int {
	if S < 1 || S > g.S.T {
		panic(fmt.Sprintf("diffusion: DDIM with %d steps of T = %d", S, g.S.T))
	}
	tau := make([]int, S)
	for i := 1; i <= S; i++ {
		tau[i-1] = max(1, int(math.Round(float64(i)*float64(g.S.T)/float64(S))))
	}
	return tau
}

// DDIM runs the sampler of Song et al. (2021, eq. 12) over the S steps of
// DDIMSteps from x (x_T, overwritten) to x_0: with τ the current step and τ′
// the next (ᾱ_0 = 1),
//
//	x̂_0 = (x_τ − √(1 − ᾱ_τ) ε̂)/√ᾱ_τ
//	σ   = η √((1 − ᾱ_τ′)/(1 − ᾱ_τ)) √(1 − ᾱ_τ/ᾱ_τ′)
//	x_τ′ = √ᾱ_τ′ x̂_0 + √(1 − ᾱ_τ′ − σ²) ε̂ + σ z.
//
// η = 0 is deterministic; η = 1 with S = T is the ancestral sampler. After
// each step it calls at(τ′, x) when at is not nil.
func (g Gaussian) DDIM(d Denoiser, x *tensor.Mat, S int, eta float64, s *rng.Stream, at func(t int, x *tensor.Mat)) {
	tau := g.DDIMSteps(S)
	ts := make([]int, x.Rows)
	z := make([]float32, x.Cols)
	for k := S - 1; k >= 0; k-- {
		t, prev := tau[k], 0
		if k > 0 {
			prev = tau[k-1]
		}
		for i := range ts {
			ts[i] = t
		}
		eps := d.Eps(x, ts)
		ab, abp := g.S.AlphaBar[t], g.S.AlphaBar[prev]
		sigma := eta * math.Sqrt((1-abp)/(1-ab)*(1-ab/abp))
		dir := math.Sqrt(max(1-abp-sigma*sigma, 0))
		for i := 0; i < x.Rows; i++ {
			r, e := x.Row(i), eps.Row(i)
			if sigma > 0 {
				s.FillNormal(z, 0, 1)
			}
			for j, v := range r {
				x0, ev := g.x0Eps(t, float64(v), float64(e[j]))
				y := math.Sqrt(abp)*x0 + dir*ev
				if sigma > 0 {
					y += sigma * float64(z[j])
				}
				r[j] = float32(y)
			}
		}
		if at != nil {
			at(prev, x)
		}
	}
}

// PriorKL returns L_T = Σ_j KL(q(x_T | x_0) ‖ N(0, 1)) of one row x0 (in [−1, 1]):
//
//	½ Σ_j [ᾱ_T x_0j² + (1 − ᾱ_T) − 1 − log(1 − ᾱ_T)].
func (g Gaussian) PriorKL(x0 []float32) float64 {
	ab := g.S.AlphaBar[g.S.T]
	var s float64
	for _, v := range x0 {
		s += ab*float64(v)*float64(v) - ab - math.Log1p(-ab)
	}
	return s / 2
}

// Term returns the bound's term of step t for one row, given x_0 (on the
// 8-bit grid of [−1, 1]), x_t and the prediction ε̂:
//
//	t ≥ 2:  L_{t−1} = Σ_j (μ̃_j − μ_θ,j)²/(2β̃_t),   μ̃ = C0_t x_0 + Ct_t x_t
//	        (with Var, KL(N(μ̃, β̃_t) ‖ N(μ_θ, σ_t²)) per value: see varTerm)
//	t = 1:  L_0 = −Σ_j log ∫_{δ−(x_0j)}^{δ+(x_0j)} N(y; μ_θ,j, β̃_2) dy
//
// the discretised decoder of Ho et al. 2020, section 3.3 (eq. 13): bins of
// width 2/255 around the 256 levels, the outer ones open to ±∞. Float64.
func (g Gaussian) Term(t int, x0, xt, eps []float32) float64 {
	var s float64
	if t == 1 {
		sd := math.Exp(g.S.LogVarClipped[1] / 2)
		for j, v := range x0 {
			mu := g.S.Mean0(1, float64(xt[j]), float64(eps[j]))
			s -= logBin(float64(v), mu, sd)
		}
		return s
	}
	if g.Var != nil && g.Var[t] != g.S.PostVar[t] {
		return g.varTerm(t, g.Var[t], x0, xt, eps)
	}
	inv := 1 / (2 * g.S.PostVar[t])
	for j, v := range x0 {
		mt := g.S.C0[t]*float64(v) + g.S.Ct[t]*float64(xt[j])
		d := mt - g.S.Mean0(t, float64(xt[j]), float64(eps[j]))
		s += d * d * inv
	}
	return s
}

// Level returns the 8-bit level k = round(255·(x + 1)/2) of a value x in [−1, 1],
// clamped to [0, 255].
func Level(x float64) int {
	return min(max(int(math.Round(255*(x+1)/2)), 0), 255)
}

// logBin returns log P(y in the bin of x) for y ~ N(mu, sd²): the bin of level
// k is [−1 + (2k − 1)/255, −1 + (2k + 1)/255], open to −∞ for k = 0 and to +∞
// for k = 255. The difference of normal CDFs is taken on the side of the tail
// it lies in, with erfc, so far tails keep their precision.
func logBin(x, mu, sd float64) float64 {
	k := Level(x)
	c := -1 + 2*float64(k)/255
	lo, hi := (c-1.0/255-mu)/sd, (c+1.0/255-mu)/sd
	var p float64
	switch {
	case k == 0:
		p = 0.5 * math.Erfc(-hi/math.Sqrt2)
	case k == 255:
		p = 0.5 * math.Erfc(lo/math.Sqrt2)
	case lo > 0:
		p = 0.5 * (math.Erfc(lo/math.Sqrt2) - math.Erfc(hi/math.Sqrt2))
	default:
		p = 0.5 * (math.Erfc(-hi/math.Sqrt2) - math.Erfc(-lo/math.Sqrt2))
	}
	return math.Log(max(p, 1e-300))
}

// BoundAll returns, for every row of x0, the negative bound
//
//	L = L_T + Σ_{t=2}^{T} L_{t−1} + L_0    (nats; −L ≤ log P(x) of the 8-bit data)
//
// with all T terms, each for one draw x_t ~ q(x_t | x_0) from s.
func (g Gaussian) BoundAll(d Denoiser, x0 *tensor.Mat, s *rng.Stream) []float64 {
	n := x0.Rows
	out := make([]float64, n)
	for i := range out {
		out[i] = g.PriorKL(x0.Row(i))
	}
	ts := make([]int, n)
	eps := tensor.New(n, x0.Cols)
	var xt *tensor.Mat
	for t := 1; t <= g.S.T; t++ {
		for i := range ts {
			ts[i] = t
		}
		s.FillNormal(eps.Data, 0, 1)
		xt = g.Noise(xt, x0, eps, ts)
		e := d.Eps(xt, ts)
		for i := range n {
			out[i] += g.Term(t, x0.Row(i), xt.Row(i), e.Row(i))
		}
	}
	return out
}

// BoundSampled returns, for every row of x0, the unbiased estimate of L
//
//	L̂ = L_T + L_0 + ((T − 1)/K) Σ_{k=1}^{K} L_{t_k − 1},   t_k ~ U{2, …, T}
//
// with the decoder term L_0 always included (it is the largest and would
// dominate the variance if sampled) and K further steps per row, each with
// one draw of x_t, all from s.
func (g Gaussian) BoundSampled(d Denoiser, x0 *tensor.Mat, K int, s *rng.Stream) []float64 {
	n := x0.Rows
	out := make([]float64, n)
	for i := range out {
		out[i] = g.PriorKL(x0.Row(i))
	}
	ts := make([]int, n)
	eps := tensor.New(n, x0.Cols)
	var xt *tensor.Mat
	w := float64(g.S.T-1) / float64(K)
	for k := 0; k <= K; k++ {
		for i := range ts {
			ts[i] = 1
			if k > 0 {
				ts[i] = 2 + s.IntN(g.S.T-1)
			}
		}
		s.FillNormal(eps.Data, 0, 1)
		xt = g.Noise(xt, x0, eps, ts)
		e := d.Eps(xt, ts)
		for i := range n {
			term := g.Term(ts[i], x0.Row(i), xt.Row(i), e.Row(i))
			if k > 0 {
				term *= w
			}
			out[i] += term
		}
	}
	return out
}
