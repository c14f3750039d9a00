package diffusion

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Predictor gives, for a batch of noisy binary rows x_t at steps t (one per
// row, 1 ≤ t ≤ T), the logits of p̃_θ(x_0 = 1 | x_t) for every value. It
// returns a buffer it owns (n × D), valid until its next call.
type Predictor interface {
	Logits(xt *tensor.Mat, t []int) *tensor.Mat
}

// Binary is binary diffusion: multinomial diffusion with two categories
// (Hoogeboom et al. 2021, eq. 11), the uniform transitions of D3PM (Austin et
// al. 2021, section 3.1). With the schedule's β_t and ᾱ_t, every bit is kept or,
// with probability β_t, redrawn uniformly:
//
//	q(x_t = 1 | x_{t−1}) = (1 − β_t) x_{t−1} + β_t/2
//	q(x_t = 1 | x_0)     = ᾱ_t x_0 + (1 − ᾱ_t)/2
//
// and the posterior, by Bayes' rule, for t ≥ 2,
//
//	q(x_{t−1} = v | x_t, x_0) ∝ [(1 − β_t)[x_t = v] + β_t/2] · [ᾱ_{t−1}[v = x_0] + (1 − ᾱ_{t−1})/2].
//
// The reverse step mixes the posterior over the network's guess of x_0, bit by
// bit (Austin et al. 2021, eq. 4):
//
//	p_θ(x_{t−1} | x_t) = Σ_{x̃_0} q(x_{t−1} | x_t, x̃_0) p̃_θ(x̃_0 | x_t),
//
// and p_θ(x_0 | x_1) = p̃_θ(x_0 | x_1) (the posterior at t = 1 is x̃_0 itself).
type Binary struct {
	S *Schedule
	// Post[t][2·x_t + x_0] = q(x_{t−1} = 1 | x_t, x_0), for t ≥ 1.
	Post [][4]float64
}

// NewBinary returns the binary diffusion with schedule sc.
func NewBinary(sc *Schedule) *Binary {
	b := &Binary{S: sc, Post: make([][4]float64, sc.T+1)}
	for t := 1; t <= sc.T; t++ {
		for xt := 0; xt < 2; xt++ {
			for x0 := 0; x0 < 2; x0++ {
				var w [2]float64
				for v := 0; v < 2; v++ {
					lik := sc.Beta[t] / 2
					if v == xt {
						lik += 1 - sc.Beta[t]
					}
					prior := (1 - sc.AlphaBar[t-1]) / 2
					if v == x0 {
						prior += sc.AlphaBar[t-1]
					}
					w[v] = lik * prior
				}
				b.Post[t][2*xt+x0] = w[1] / (w[0] + w[1])
			}
		}
	}
	return b
}

// Q1 returns q(x_t = 1 | x_0) = ᾱ_t x_0 + (1 − ᾱ_t)/2.
func (b *Binary) Q1(t int, x0 float32) float64 {
	ab := b.S.AlphaBar[t]
	return ab*float64(x0) + (1-ab)/2
}

// Noise sets dst to a draw of x_t ~ q(x_t | x_0) for every row of x0 at its
// step t[i], drawing from s.
func (b *Binary) Noise(dst, x0 *tensor.Mat, t []int, s *rng.Stream) *tensor.Mat {
	dst = tensor.Reuse(dst, x0.Rows, x0.Cols)
	for i := 0; i < x0.Rows; i++ {
		keep, half := float32(b.S.AlphaBar[t[i]]), float32((1-b.S.AlphaBar[t[i]])/2)
		xr, d := x0.Row(i), dst.Row(i)
		s.FillUniform(d)
		for j, v := range xr {
			if d[j] < keep*v+half {
				d[j] = 1
			} else {
				d[j] = 0
			}
		}
	}
	return dst
}

// stepProb returns p_θ(x_{t−1} = 1 | x_t) of one bit whose x_t is xt, given
// p̃ = p̃_θ(x_0 = 1 | x_t).
func (b *Binary) stepProb(t int, xt float32, pt float64) float64 {
	k := 0
	if xt != 0 {
		k = 2
	}
	a1, a0 := b.Post[t][k+1], b.Post[t][k]
	return a0 + (a1-a0)*pt
}

// klBern returns KL(Bernoulli(q) ‖ Bernoulli(p)) with 0 log 0 = 0.
func klBern(q, p float64) float64 {
	var s float64
	if q > 0 {
		s += q * math.Log(q/p)
	}
	if q < 1 {
		s += (1 - q) * math.Log((1-q)/(1-p))
	}
	return s
}

// PriorKL returns L_T = Σ_j KL(q(x_T | x_0) ‖ Bernoulli(1/2)) for one example.
func (b *Binary) PriorKL(x0 []float32) float64 {
	var s float64
	for _, v := range x0 {
		s += klBern(b.Q1(b.S.T, v), 0.5)
	}
	return s
}

// Term returns the bound's term of step t for one example, given x_0, the
// draw x_t and the network's logits l of p̃_θ(x_0 | x_t):
//
//	t ≥ 2:  L_{t−1} = Σ_j KL(q(x_{t−1,j} | x_t, x_0) ‖ p_θ(x_{t−1,j} | x_t))
//	t = 1:  L_0     = −Σ_j log p̃_θ(x_{0,j} | x_1) = Σ_j softplus(l_j) − x_{0,j} l_j
//
// in float64. When grad is not nil it is set to ∂term/∂l:
//
//	t = 1:  σ(l) − x_0
//	t ≥ 2:  (−q/p + (1 − q)/(1 − p)) · (A − B) · p̃(1 − p̃),
//
// with q the posterior, p = B + (A − B) p̃ the model's step probability and A, B
// the posterior of x_{t−1} = 1 given x̃_0 = 1 and 0.
func (b *Binary) Term(t int, x0, xt, l []float32, grad []float32) float64 {
	var s float64
	for j, lj := range l {
		lv := float64(lj)
		pt := 1 / (1 + math.Exp(-lv))
		if t == 1 {
			s += softplus(lv) - float64(x0[j])*lv
			if grad != nil {
				grad[j] = float32(pt - float64(x0[j]))
			}
			continue
		}
		k := 0
		if xt[j] != 0 {
			k = 2
		}
		a1, a0 := b.Post[t][k+1], b.Post[t][k]
		q := a0
		if x0[j] != 0 {
			q = a1
		}
		p := a0 + (a1-a0)*pt
		s += klBern(q, p)
		if grad != nil {
			grad[j] = float32((-q/p + (1-q)/(1-p)) * (a1 - a0) * pt * (1 - pt))
		}
	}
	return s
}

// softplus returns log(1 + eˣ) stably.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// Bound returns, for every row of x0, the negative variational bound
//
//	L = L_T + Σ_{t=2}^{T} L_{t−1} + L_0      (nats; −L ≤ log p(x))
//
// with all T terms, each KL computed exactly for one draw x_t ~ q(x_t | x_0)
// (from s): an unbiased estimate of the bound. Rows are processed together,
// one network call per step; the sums are float64.
func (b *Binary) Bound(dst []float64, p Predictor, x0 *tensor.Mat, s *rng.Stream) []float64 {
	return b.BoundTerms(dst, nil, p, x0, s)
}

// BoundTerms is Bound, and when terms (T+1 values) is not nil it adds to
// terms[0] the prior terms L_T of the rows and to terms[t] their terms of step
// t (t = 1: the decoder −log p(x_0 | x_1)), so that a caller can see where the
// bound's nats go.
func (b *Binary) BoundTerms(dst, terms []float64, p Predictor, x0 *tensor.Mat, s *rng.Stream) []float64 {
	n := x0.Rows
	if len(dst) != n {
		dst = make([]float64, n)
	}
	if terms != nil && len(terms) != b.S.T+1 {
		panic(fmt.Sprintf("diffusion: BoundTerms: %d terms for T = %d", len(terms), b.S.T))
	}
	for i := range n {
		dst[i] = b.PriorKL(x0.Row(i))
		if terms != nil {
			terms[0] += dst[i]
		}
	}
	ts := make([]int, n)
	var xt *tensor.Mat
	for t := 1; t <= b.S.T; t++ {
		for i := range ts {
			ts[i] = t
		}
		xt = b.Noise(xt, x0, ts, s)
		l := p.Logits(xt, ts)
		for i := range n {
			v := b.Term(t, x0.Row(i), xt.Row(i), l.Row(i), nil)
			dst[i] += v
			if terms != nil {
				terms[t] += v
			}
		}
	}
	return dst
}

// TermRanges sums the per-step terms of BoundTerms (divided by n examples)
// over ranges of t: the prior term L_T, t = 1 (the decoder), then t in
// [2, T/20], (T/20, T/4], (T/4, T/2] and (T/2, T] (ranges that come out empty
// for small T are left out), in nats per example, keyed by range.
func TermRanges(terms []float64, n int) map[string]any {
	T := len(terms) - 1
	out := map[string]any{"L_T": terms[0] / float64(n), "t=1": terms[1] / float64(n)}
	lo := 2
	for _, hi := range []int{T / 20, T / 4, T / 2, T} {
		if hi < lo {
			continue
		}
		var s float64
		for t := lo; t <= hi; t++ {
			s += terms[t]
		}
		out[fmt.Sprintf("t=%d-%d", lo, hi)] = s / float64(n)
		lo = hi + 1
	}
	return out
}

// maxEnumerate is the most bits ExpectedBound and ExactLogProb enumerate.
const maxEnumerate = 10

// states returns the 2^d binary rows in the order of their integer codes (bit j
// of the code is value j).
func states(d int) *tensor.Mat {
	if d < 1 || d > maxEnumerate {
		panic(fmt.Sprintf("diffusion: cannot enumerate %d bits (at most %d)", d, maxEnumerate))
	}
	m := tensor.New(1<<d, d)
	for c := 0; c < 1<<d; c++ {
		r := m.Row(c)
		for j := range r {
			r[j] = float32((c >> j) & 1)
		}
	}
	return m
}

// code returns the integer code of a binary row.
func code(x []float32) int {
	c := 0
	for j, v := range x {
		if v != 0 {
			c |= 1 << j
		}
	}
	return c
}

// ExpectedBound returns, for every row of x0 (d ≤ 10 bits), the negative bound
// L with every expectation over x_t ~ q(x_t | x_0) taken exactly by summing over
// the 2^d states: the value Bound estimates.
func (b *Binary) ExpectedBound(p Predictor, x0 *tensor.Mat) []float64 {
	d := x0.Cols
	all := states(d)
	out := make([]float64, x0.Rows)
	for i := range out {
		out[i] = b.PriorKL(x0.Row(i))
	}
	ts := make([]int, all.Rows)
	for t := 1; t <= b.S.T; t++ {
		for i := range ts {
			ts[i] = t
		}
		l := p.Logits(all, ts)
		for i := range out {
			x := x0.Row(i)
			for c := 0; c < all.Rows; c++ {
				xt := all.Row(c)
				w := 1.0 // q(x_t | x_0)
				for j, v := range xt {
					q1 := b.Q1(t, x[j])
					if v != 0 {
						w *= q1
					} else {
						w *= 1 - q1
					}
				}
				out[i] += w * b.Term(t, x, xt, l.Row(c), nil)
			}
		}
	}
	return out
}

// ExactLogProb returns log p_θ(x) for all 2^d binary rows of d ≤ 10 bits (index:
// the row's code), by the forward algorithm over the reverse chain:
//
//	p(x_T) = 2^−d,   p(x_{t−1}) = Σ_{x_t} p_θ(x_{t−1} | x_t) p(x_t),
//
// every transition a product over the bits, in float64.
func (b *Binary) ExactLogProb(p Predictor, d int) []float64 {
	all := states(d)
	n := all.Rows
	cur := make([]float64, n)
	for i := range cur {
		cur[i] = 1 / float64(n)
	}
	next := make([]float64, n)
	ts := make([]int, n)
	p1 := make([]float64, d)
	for t := b.S.T; t >= 1; t-- {
		for i := range ts {
			ts[i] = t
		}
		l := p.Logits(all, ts)
		clear(next)
		for c := 0; c < n; c++ {
			xt, lr := all.Row(c), l.Row(c)
			for j := range p1 {
				pt := 1 / (1 + math.Exp(-float64(lr[j])))
				if t == 1 {
					p1[j] = pt
				} else {
					p1[j] = b.stepProb(t, xt[j], pt)
				}
			}
			for c2 := 0; c2 < n; c2++ {
				w := cur[c]
				for j := range p1 {
					if (c2>>j)&1 == 1 {
						w *= p1[j]
					} else {
						w *= 1 - p1[j]
					}
				}
				next[c2] += w
			}
		}
		cur, next = next, cur
	}
	for i := range cur {
		cur[i] = math.Log(cur[i])
	}
	return cur
}
