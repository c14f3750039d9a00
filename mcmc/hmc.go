package mcmc

import "fmt"

// DefaultLeapfrog is the number of leapfrog steps per HMC transition when none is set
// (Wu et al. 2017 use 10).
const DefaultLeapfrog = 10

// HMC is Hamiltonian (hybrid) Monte Carlo (Duane et al. 1987; Neal 2011, "MCMC using
// Hamiltonian dynamics"). A transition of chain i draws a momentum p ~ N(0, I), runs
// Leapfrog steps of the leapfrog integrator with the chain's step size ε = StepSize[i]
// on H(x, p) = −log p*(x) + ‖p‖²/2,
//
//	p ← p + (ε/2) ∇log p*(x)
//	x ← x + ε p,  p ← p + ε ∇log p*(x)      (L − 1 times)
//	x ← x + ε p,  p ← p + (ε/2) ∇log p*(x),
//
// and accepts the end point with probability min(1, exp(H(x, p) − H(x', p'))).
// The integrator is reversible and volume-preserving, and its energy error over a
// trajectory of fixed length Lε is O(ε²). One transition costs L target evaluations
// (the gradient at the start is kept from the previous one). With L = 1 HMC is MALA
// with h = ε². A non-finite Hamiltonian is rejected.
type HMC struct {
	Leapfrog int        // leapfrog steps L per transition; 0 means DefaultLeapfrog
	Adapt    *StepAdapt // nil: fixed step sizes; else adapt them after every transition
}

// Step makes n HMC transitions of every chain. It panics if Leapfrog < 0 or Adapt is
// out of range.
func (h HMC) Step(c *Chains, n int) {
	L := h.leapfrog()
	adapt := adaptFor("HMC", h.Adapt)
	for range n {
		c.hmc(1, L, adapt)
	}
}

func (h HMC) leapfrog() int {
	if h.Leapfrog < 0 {
		panic(fmt.Sprintf("mcmc: HMC: Leapfrog must be >= 0, got %d", h.Leapfrog))
	}
	if h.Leapfrog == 0 {
		return DefaultLeapfrog
	}
	return h.Leapfrog
}

// hmc makes one HMC transition of every chain on p_β.
func (c *Chains) hmc(beta float64, L int, adapt *StepAdapt) {
	d := c.X.Cols
	c.rows(func(i int) {
		c.save(i)
		p, s := c.p[i*d:(i+1)*d], c.streams[i]
		var k float64
		for j := range p {
			p[j] = s.NormFloat64()
			k += p[j] * p[j]
		}
		c.aux[i] = -c.logp(i, beta) + k/2 // H(x, p) at the start
	})
	c.leapfrog(beta, L)
	c.rows(func(i int) {
		c.decide(i, c.aux[i]-c.hamiltonian(i, beta), adapt)
	})
}

// hamiltonian returns H(x, p) = −log p_β(x) + ‖p‖²/2 of chain i.
func (c *Chains) hamiltonian(i int, beta float64) float64 {
	d := c.X.Cols
	var k float64
	for _, v := range c.p[i*d : (i+1)*d] {
		k += v * v
	}
	return -c.logp(i, beta) + k/2
}

// leapfrog runs L ≥ 1 leapfrog steps of every chain from (X, p), leaving the end point
// in X, LogP, Grad and p. Positions are rounded to float32 after each drift; momenta
// stay float64.
func (c *Chains) leapfrog(beta float64, L int) {
	d := c.X.Cols
	kickDrift := func(i int, scale float64) { // p += scale·ε·∇log p_β(x); x += ε p
		eps := c.StepSize[i]
		x, g, p := c.X.Row(i), c.Grad.Row(i), c.p[i*d:(i+1)*d]
		for j := range p {
			p[j] += scale * eps * c.gradp(g[j], x[j], beta)
			x[j] = float32(float64(x[j]) + eps*p[j])
		}
	}
	c.rows(func(i int) { kickDrift(i, 0.5) })
	for l := 1; l <= L; l++ {
		c.evaluate()
		if l < L {
			c.rows(func(i int) { kickDrift(i, 1) })
			continue
		}
		c.rows(func(i int) {
			eps := c.StepSize[i]
			x, g, p := c.X.Row(i), c.Grad.Row(i), c.p[i*d:(i+1)*d]
			for j := range p {
				p[j] += 0.5 * eps * c.gradp(g[j], x[j], beta)
			}
		})
	}
}
