package mcmc

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
)

// Energy is an energy function E(x) of a state; the target density is
// p_β(x) ∝ exp(−βE(x)). Samplers that run chains in parallel call it concurrently.
type Energy func(x []float64) float64

// Proposal draws a candidate x' given x into dst (len(dst) == len(x); dst starts as a
// copy of x) and returns the log proposal ratio log q(x | x') − log q(x' | x), which is 0
// for a symmetric proposal.
type Proposal interface {
	Propose(dst, x []float64, s *rng.Stream) float64
}

// FlipOne proposes flipping one uniformly chosen coordinate of a binary state: 0 ↔ 1,
// or s ↔ −s when Spins is true (Ising spins ±1). It is symmetric.
type FlipOne struct{ Spins bool }

// Propose implements Proposal.
func (f FlipOne) Propose(dst, x []float64, s *rng.Stream) float64 {
	i := s.IntN(len(x))
	if f.Spins {
		dst[i] = -x[i]
	} else {
		dst[i] = 1 - x[i]
	}
	return 0
}

// RandomWalk proposes x' = x + σε with ε ~ N(0, I) (symmetric), for continuous states.
type RandomWalk struct{ Sigma float64 }

// Propose implements Proposal.
func (r RandomWalk) Propose(dst, x []float64, s *rng.Stream) float64 {
	for i := range x {
		dst[i] = x[i] + r.Sigma*s.NormFloat64()
	}
	return 0
}

// Metropolis is a Metropolis–Hastings sampler for p_β(x) ∝ exp(−βE(x)): from x it
// proposes x' and accepts with probability
//
//	min(1, exp(−β(E(x') − E(x)) + log q(x|x') − log q(x'|x)))
//
// (Metropolis et al. 1953; Hastings 1970). Beta 0 means 1.
type Metropolis struct {
	Energy   Energy
	Proposal Proposal
	Beta     float64
}

// Chain is the state of one Metropolis chain.
type Chain struct {
	X               []float64 // current state
	E               float64   // E(X)
	Accepted, Steps int
	buf             []float64
}

// NewChain starts a chain at x0 (copied).
func (m *Metropolis) NewChain(x0 []float64) *Chain {
	if m.Energy == nil || m.Proposal == nil {
		panic("mcmc: Metropolis needs an Energy and a Proposal")
	}
	x := append([]float64(nil), x0...)
	return &Chain{X: x, E: m.Energy(x), buf: make([]float64, len(x))}
}

// AcceptRate returns the fraction of accepted proposals so far.
func (c *Chain) AcceptRate() float64 {
	if c.Steps == 0 {
		return 0
	}
	return float64(c.Accepted) / float64(c.Steps)
}

// Step makes n Metropolis–Hastings steps of chain c with stream s.
func (m *Metropolis) Step(c *Chain, n int, s *rng.Stream) {
	beta := m.Beta
	if beta == 0 {
		beta = 1
	}
	if len(c.buf) != len(c.X) {
		panic(fmt.Sprintf("mcmc: Metropolis.Step: chain of len %d has scratch of len %d (use NewChain)", len(c.X), len(c.buf)))
	}
	for t := 0; t < n; t++ {
		copy(c.buf, c.X)
		lq := m.Proposal.Propose(c.buf, c.X, s)
		e := m.Energy(c.buf)
		c.Steps++
		if la := -beta*(e-c.E) + lq; la >= 0 || s.Float64() < math.Exp(la) {
			c.X, c.buf = c.buf, c.X
			c.E = e
			c.Accepted++
		}
	}
}
