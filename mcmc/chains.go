package mcmc

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Chains is a set of Markov chains on a BatchTarget, one per row, that the gradient
// samplers (Langevin, MALA, HMC) advance. States are float32 rows, as a network
// consumes them; log densities, momenta and acceptance tests are float64.
//
// Chain i draws only from its own stream (rng.NewStream(seed, i)) and every
// per-chain computation reads only its own row, so results do not depend on the
// number of workers. The exported fields are for reading; change them only through
// the methods and samplers.
type Chains struct {
	X        *tensor.Mat // (n, d) current states; row i is chain i
	LogP     []float64   // log p*(X_i)
	Grad     *tensor.Mat // (n, d) ∇ log p*(X_i)
	StepSize []float64   // per-chain step size: ε for HMC, h for Langevin and MALA
	Accepted []int       // accepted proposals per chain
	Proposed []int       // proposals per chain

	// The chains sample p_β(x) ∝ N(x; 0, I)^[normal] · f(x)^β, f = exp(LogP). The
	// samplers use β = 1 and no normal factor; AIS anneals β with the normal factor.
	f       func(grad, x *tensor.Mat, out []float64)
	normal  bool
	streams []*rng.Stream
	avg     []float64 // moving-average acceptance for StepAdapt (NaN: not started)

	// Scratch: the state before a proposal, momenta and per-chain numbers.
	x0, g0 *tensor.Mat
	logf0  []float64
	p      []float64 // (n·d) momenta (HMC) or noise (MALA)
	aux    []float64 // per chain: initial Hamiltonian (HMC), log p and log q (MALA)
	aux2   []float64
}

// NewChains starts x0.Rows chains at the rows of x0 (copied) on target t, every
// chain with step size stepSize, chain i drawing from rng.NewStream(seed, i). It
// evaluates t once. It returns an error if stepSize is not positive and finite, and
// panics if x0.Cols != t.Dim() or x0 has no rows.
func NewChains(t BatchTarget, x0 *tensor.Mat, stepSize float64, seed uint64) (*Chains, error) {
	if t == nil {
		panic("mcmc: NewChains: nil target")
	}
	if x0.Cols != t.Dim() || x0.Rows < 1 {
		panic(fmt.Sprintf("mcmc: NewChains: x0 is %d×%d for a target of dimension %d", x0.Rows, x0.Cols, t.Dim()))
	}
	if !(stepSize > 0) || math.IsInf(stepSize, 0) {
		return nil, fmt.Errorf("mcmc: step size must be positive and finite, got %g", stepSize)
	}
	c := newChains(x0.Rows, x0.Cols, t.LogDensity, false, Streams(seed, 0, x0.Rows), stepSize)
	c.X.Copy(x0)
	c.evaluate()
	return c, nil
}

// newChains allocates n chains of dimension d on the path given by f and normal.
func newChains(n, d int, f func(grad, x *tensor.Mat, out []float64), normal bool, streams []*rng.Stream, eps float64) *Chains {
	c := &Chains{
		X: tensor.New(n, d), LogP: make([]float64, n), Grad: tensor.New(n, d),
		StepSize: make([]float64, n), Accepted: make([]int, n), Proposed: make([]int, n),
		f: f, normal: normal, streams: streams, avg: make([]float64, n),
		x0: tensor.New(n, d), g0: tensor.New(n, d), logf0: make([]float64, n),
		p: make([]float64, n*d), aux: make([]float64, n), aux2: make([]float64, n),
	}
	for i := range n {
		c.StepSize[i], c.avg[i] = eps, math.NaN()
	}
	return c
}

// evaluate sets LogP and Grad at X.
func (c *Chains) evaluate() { c.f(c.Grad, c.X, c.LogP) }

// Len returns the number of chains.
func (c *Chains) Len() int { return c.X.Rows }

// AcceptRate returns the fraction of accepted proposals over all chains since the
// start or the last ResetCounts (0 before any proposal).
func (c *Chains) AcceptRate() float64 {
	var a, p int
	for i := range c.Accepted {
		a += c.Accepted[i]
		p += c.Proposed[i]
	}
	if p == 0 {
		return 0
	}
	return float64(a) / float64(p)
}

// ResetCounts sets the accepted and proposed counts to zero (after a warm-up).
func (c *Chains) ResetCounts() {
	clear(c.Accepted)
	clear(c.Proposed)
}

// logp returns log p_β(x_i) (up to a constant) of chain i from its cached log f:
//
//	log p_β(x) = β log f(x) − [normal] ‖x‖²/2.
func (c *Chains) logp(i int, beta float64) float64 {
	lp := c.LogP[i]
	if beta != 1 {
		lp *= beta
	}
	if c.normal {
		var s float64
		for _, v := range c.X.Row(i) {
			s += float64(v) * float64(v)
		}
		lp -= s / 2
	}
	return lp
}

// gradp returns ∂/∂x_j log p_β(x) = β ∂_j log f(x) − [normal] x_j of chain i.
func (c *Chains) gradp(g, x float32, beta float64) float64 {
	v := beta * float64(g)
	if c.normal {
		v -= float64(x)
	}
	return v
}

// save copies chain i's state into the scratch it is restored from on rejection.
func (c *Chains) save(i int) {
	copy(c.x0.Row(i), c.X.Row(i))
	copy(c.g0.Row(i), c.Grad.Row(i))
	c.logf0[i] = c.LogP[i]
}

// decide makes the Metropolis–Hastings decision for chain i with log acceptance ratio
// la: accept with probability min(1, eˡᵃ) (never for NaN), else restore the saved
// state; it counts the proposal and, with adapt, adapts the chain's step size.
func (c *Chains) decide(i int, la float64, adapt *StepAdapt) {
	c.Proposed[i]++
	ok := la >= 0 || c.streams[i].Float64() < math.Exp(la)
	if ok {
		c.Accepted[i]++
	} else {
		copy(c.X.Row(i), c.x0.Row(i))
		copy(c.Grad.Row(i), c.g0.Row(i))
		c.LogP[i] = c.logf0[i]
	}
	if adapt != nil {
		acc := 0.0
		if ok {
			acc = 1
		}
		adapt.update(&c.StepSize[i], &c.avg[i], acc)
	}
}

// rows runs fn over the chains in parallel, in pieces that depend only on the shape.
func (c *Chains) rows(fn func(i int)) {
	tensor.ParallelFor(c.X.Rows, rowGrain(c.X.Cols), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	})
}

// StepAdapt adapts a step size towards a target acceptance rate after every
// transition, by the rule of Wu et al.'s AIS code (after the deeplearning.net HMC
// tutorial):
//
//	ε ← clamp(ε · (ā > Target ? Inc : Dec), Min, Max),
//	ā ← Slowness·ā + (1 − Slowness)·a,
//
// a the fraction accepted in the transition, ā starting at Target; ε is updated from
// ā before ā sees a, as in their code. Zero fields take their defaults: Target 0.65,
// Inc 1.02, Dec 0.98, Min 1e-4, Max 0.5, Slowness 0.9 (Wu, Burda, Salakhutdinov &
// Grosse 2017, github.com/tonywu95/eval_gen). The samplers (HMC, MALA) adapt each
// chain from its own acceptance: that makes the chain non-Markovian, so adapt during
// a warm-up, then sample with the step sizes fixed. AISDecoder adapts through pilot
// chains instead (see DecoderAISConfig).
type StepAdapt struct {
	Target, Inc, Dec, Min, Max, Slowness float64
}

// withDefaults returns a with zero fields set to their defaults.
func (a StepAdapt) withDefaults() StepAdapt {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&a.Target, 0.65)
	def(&a.Inc, 1.02)
	def(&a.Dec, 0.98)
	def(&a.Min, 1e-4)
	def(&a.Max, 0.5)
	def(&a.Slowness, 0.9)
	return a
}

// Validate returns an error naming the first setting out of range (after defaults):
// Target in (0, 1), Inc ≥ 1, Dec in (0, 1], 0 < Min ≤ Max finite, Slowness in [0, 1).
func (a StepAdapt) Validate() error {
	a = a.withDefaults()
	switch {
	case !(a.Target > 0 && a.Target < 1):
		return fmt.Errorf("mcmc: step-size adaptation Target must be in (0, 1), got %g", a.Target)
	case !(a.Inc >= 1) || math.IsInf(a.Inc, 0):
		return fmt.Errorf("mcmc: step-size adaptation Inc must be >= 1 and finite, got %g", a.Inc)
	case !(a.Dec > 0 && a.Dec <= 1):
		return fmt.Errorf("mcmc: step-size adaptation Dec must be in (0, 1], got %g", a.Dec)
	case !(a.Min > 0 && a.Min <= a.Max) || math.IsInf(a.Max, 0):
		return fmt.Errorf("mcmc: step-size adaptation needs 0 < Min <= Max < Inf, got Min %g, Max %g", a.Min, a.Max)
	case !(a.Slowness >= 0 && a.Slowness < 1):
		return fmt.Errorf("mcmc: step-size adaptation Slowness must be in [0, 1), got %g", a.Slowness)
	}
	return nil
}

// update adapts a step size eps and its moving-average acceptance avg (NaN: not
// started) after a transition in which the fraction acc of proposals was accepted.
// a must have its defaults filled in.
func (a *StepAdapt) update(eps, avg *float64, acc float64) {
	if math.IsNaN(*avg) {
		*avg = a.Target
	}
	e := *eps * a.Dec
	if *avg > a.Target {
		e = *eps * a.Inc
	}
	*eps = min(max(e, a.Min), a.Max)
	*avg = a.Slowness**avg + (1-a.Slowness)*acc
}

// adaptFor returns the filled-in adaptation settings, or nil when a is nil; it
// panics (naming op) if they are out of range.
func adaptFor(op string, a *StepAdapt) *StepAdapt {
	if a == nil {
		return nil
	}
	if err := a.Validate(); err != nil {
		panic(fmt.Sprintf("%s (%s)", err, op))
	}
	d := a.withDefaults()
	return &d
}
