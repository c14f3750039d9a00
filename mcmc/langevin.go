package mcmc

import "math"

// Langevin is the unadjusted Langevin algorithm (ULA): with the chain's step size
// h = StepSize[i] and η ~ N(0, I),
//
//	x ← x + (h/2) ∇log p*(x) + √h η,
//
// every move accepted (Roberts & Tweedie 1996). For an energy, (h/2)∇log p* =
// −(h/2)∇E: the update deep energy-based models train with. It samples a
// distribution that differs from p* by O(h): for p* = N(μ, Σ) its stationary
// distribution is N(μ, Σ (I − (h/4)Σ⁻¹)⁻¹). MALA removes the bias. One step costs one
// target evaluation.
type Langevin struct{}

// Step makes n Langevin steps of every chain; each counts as an accepted proposal.
func (Langevin) Step(c *Chains, n int) {
	for range n {
		c.rows(func(i int) {
			h, s := c.StepSize[i], c.streams[i]
			sd := math.Sqrt(h)
			x, g := c.X.Row(i), c.Grad.Row(i)
			for j := range x {
				x[j] = float32(float64(x[j]) + h/2*c.gradp(g[j], x[j], 1) + sd*s.NormFloat64())
			}
			c.Accepted[i]++
			c.Proposed[i]++
		})
		c.evaluate()
	}
}

// MALA is the Metropolis-adjusted Langevin algorithm (Roberts & Tweedie 1996): the
// Langevin move is a proposal x' ~ q(·|x) = N(x + (h/2)∇log p*(x), h I), accepted with
// probability
//
//	min(1, p*(x') q(x|x') / (p*(x) q(x'|x))),
//
// so the chain samples p* exactly. One step costs one target evaluation. The optimal
// acceptance rate in high dimension is about 0.574 (Roberts & Rosenthal 1998); set
// Adapt.Target to it when adapting.
type MALA struct {
	Adapt *StepAdapt // nil: fixed step sizes; else adapt them after every step
}

// Step makes n MALA steps of every chain. It panics if Adapt is out of range.
func (m MALA) Step(c *Chains, n int) {
	adapt := adaptFor("MALA", m.Adapt)
	for range n {
		c.mala(1, adapt)
	}
}

// mala makes one MALA step of every chain on p_β.
func (c *Chains) mala(beta float64, adapt *StepAdapt) {
	c.rows(func(i int) {
		c.save(i)
		h, s := c.StepSize[i], c.streams[i]
		sd := math.Sqrt(h)
		x, g := c.X.Row(i), c.Grad.Row(i)
		var q float64
		for j := range x {
			m := float64(x[j]) + h/2*c.gradp(g[j], x[j], beta)
			x[j] = float32(m + sd*s.NormFloat64())
			r := float64(x[j]) - m
			q += r * r
		}
		c.aux[i] = c.logp0(i, beta) // log p_β(x)
		c.aux2[i] = -q / (2 * h)    // log q(x'|x)
	})
	c.evaluate()
	c.rows(func(i int) {
		h := c.StepSize[i]
		x, g, x0 := c.X.Row(i), c.Grad.Row(i), c.x0.Row(i)
		var q float64
		for j := range x {
			r := float64(x0[j]) - float64(x[j]) - h/2*c.gradp(g[j], x[j], beta)
			q += r * r
		}
		// log p(x') − log p(x) + log q(x|x') − log q(x'|x)
		c.decide(i, c.logp(i, beta)-c.aux[i]-q/(2*h)-c.aux2[i], adapt)
	})
}

// logp0 returns log p_β of chain i's saved state (x0, logf0).
func (c *Chains) logp0(i int, beta float64) float64 {
	lp := c.logf0[i]
	if beta != 1 {
		lp *= beta
	}
	if c.normal {
		var s float64
		for _, v := range c.x0.Row(i) {
			s += float64(v) * float64(v)
		}
		lp -= s / 2
	}
	return lp
}
