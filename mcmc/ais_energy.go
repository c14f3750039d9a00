package mcmc

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Defaults of EnergyAISConfig.
const (
	DefaultEnergyAISChains = 64   // independent annealing chains
	DefaultEnergyAISSteps  = 1000 // transitions K
	DefaultEnergyAISPilots = 4    // pilot chains that adapt the step size
)

// EnergyAISConfig sets up AIS for the normalising constant of an unnormalised
// density p*(x) = exp(−E(x)) on ℝ^d (see AISEnergy). The zero value runs 64 chains
// from a standard normal base over the sigmoidal schedule with 1000 HMC transitions
// of 10 leapfrog steps, ε starting at 0.1 and adapted towards an acceptance rate of
// 0.65 by 4 pilot chains, seed 0.
type EnergyAISConfig struct {
	Chains   int       // independent chains M; 0 means 64
	Steps    int       // transitions K (K+1 distributions); 0 means 1000
	Schedule string    // "sigmoid" (the default, also ""), "geometric" or "linear"
	Betas    []float64 // an explicit schedule from 0 to 1; overrides Steps and Schedule
	// Transition is "hmc" (the default, also "") or "mala".
	Transition string
	Leapfrog   int     // leapfrog steps per HMC transition; 0 means 10
	StepSize   float64 // initial (or fixed) step size: ε for HMC, h for MALA; 0 means 0.1

	// FixedStepSize keeps StepSize throughout. Otherwise PilotChains extra chains
	// (0 means 4) run beside the M chains, and their acceptance rate at each
	// transition adapts the one step size that every chain uses at the next, by the
	// rule of Adapt (zero fields: its defaults; for MALA the target acceptance 0.574
	// when Adapt.Target is 0). The M chains never adapt from their own history, so
	// each is plain AIS with kernels fixed by the pilots: unbiased and independent
	// (see DecoderAISConfig.FixedStepSize for why). The pilots' weights are discarded.
	FixedStepSize bool
	Adapt         StepAdapt
	PilotChains   int

	// BaseMean and BaseStd are the mean μ and standard deviations σ of the base
	// N(μ, diag σ²): nil means zeros and ones; otherwise len d each (σ_j > 0).
	BaseMean, BaseStd []float64

	// Seed: chain i draws from rng.NewStream(Seed, i), pilot q from
	// rng.NewStream(Seed, 2³² + q).
	Seed uint64

	// Progress, if set, is called after every transition with the transitions
	// done and K.
	Progress func(done, total int)
	// Stop, if set, is called after every transition; when it returns an error (a
	// cancelled context's, say) the run ends and returns it.
	Stop func() error
}

// EnergyAISResult is an AIS estimate of log Z = log ∫ p*(x) dx.
type EnergyAISResult struct {
	LogZ       float64   // log Ẑ = log Z_0 + log( (1/M) Σ_i w_i )
	StdErr     float64   // delta-method standard error of log Ẑ over the M chains (as AIS's)
	LogZBase   float64   // log Z_0 = (d/2) log 2π + Σ_j log σ_j
	LogWeights []float64 // log w_i, one per chain
	AcceptRate float64   // accepted proposals of the M chains over all transitions
	// AcceptTrace[k−1] is the M chains' acceptance rate at transition k.
	AcceptTrace []float64
	StepSize    float64     // the last step size used
	X           *tensor.Mat // (M, d) final states: approximate samples of p*
}

// AISEnergy estimates log Z = log ∫ p*(x) dx of the unnormalised density that t
// evaluates (t.LogDensity gives log p* = −E and its gradient; EnergyTarget adapts an
// energy function) by annealed importance sampling (Neal 2001) from the normalised
// base N(μ, diag σ²). In u = (x − μ)/σ, with
//
//	f(u) = log p*(μ + σ⊙u) + ‖u‖²/2,   ∇f(u) = σ⊙∇log p*(x) + u,
//
// the chains anneal along the geometric path
//
//	p_β(u) ∝ N(u; 0, I)^(1−β) (p*(μ + σ⊙u) / Π_j σ_j⁻¹)^β ∝ exp(−‖u‖²/2 + β f(u)),
//
// from Z_0 = (2π)^(d/2) at β = 0 to Z_1 = Z / Π_j σ_j at β = 1. Each chain starts
// from u ~ N(0, I), adds
//
//	log w ← log w + (β_k − β_{k−1}) f(u),   k = 1 … K,
//
// and, for k < K, moves u by one HMC (or MALA) transition that leaves p_{β_k}
// invariant, so E[w] = Z_1/Z_0 and
//
//	log Ẑ = (d/2) log 2π + Σ_j log σ_j + log( (1/M) Σ_i w_i ),
//
// whose expectation is at most log Z (Jensen): a stochastic lower bound, and
// log p*(x) − log Ẑ a stochastic upper bound on log p(x) for fixed x. The standard
// error is the delta method over chains. Results do not depend on the number of
// workers when t's result for a row depends on that row alone. Invalid settings,
// and a log weight that ends NaN or +Inf, return an error; a chain whose weight is
// −Inf (it never left a region where p* = 0) counts as weight 0.
func AISEnergy(t BatchTarget, cfg EnergyAISConfig) (EnergyAISResult, error) {
	if t == nil {
		panic("mcmc: AISEnergy: nil target")
	}
	d := t.Dim()
	var res EnergyAISResult
	M, P, L, eps, betas, adapt, err := cfg.settings(d)
	if err != nil {
		return res, err
	}
	mu, sd := make([]float64, d), make([]float64, d)
	logZ0 := float64(d) / 2 * math.Log(2*math.Pi)
	for j := range sd {
		mu[j], sd[j] = 0, 1
		if cfg.BaseMean != nil {
			mu[j] = cfg.BaseMean[j]
		}
		if cfg.BaseStd != nil {
			sd[j] = cfg.BaseStd[j]
		}
		logZ0 += math.Log(sd[j])
	}
	streams := Streams(cfg.Seed, 0, M)
	for q := range P {
		streams = append(streams, rng.NewStream(cfg.Seed, 1<<32+uint64(q)))
	}
	n := M + P
	xb, gx := tensor.New(n, d), tensor.New(n, d)
	// f(u) and ∇f(u) through t at x = μ + σ⊙u.
	f := func(grad, u *tensor.Mat, out []float64) {
		x, g := xb.Slice(0, u.Rows), gx.Slice(0, u.Rows)
		tensor.ParallelFor(u.Rows, rowGrain(d), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				xr, ur := x.Row(i), u.Row(i)
				for j, v := range ur {
					xr[j] = float32(mu[j] + sd[j]*float64(v))
				}
			}
		})
		t.LogDensity(g, x, out)
		tensor.ParallelFor(u.Rows, rowGrain(d), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				ur, gr, gu := u.Row(i), g.Row(i), grad.Row(i)
				var s float64
				for j, v := range ur {
					uv := float64(v)
					s += uv * uv
					gu[j] = float32(sd[j]*float64(gr[j]) + uv)
				}
				out[i] += s / 2
			}
		})
	}
	c := newChains(n, d, f, true, streams, eps)
	c.rows(func(i int) {
		u, s := c.X.Row(i), c.streams[i]
		for j := range u {
			u[j] = float32(s.NormFloat64())
		}
	})
	c.evaluate()
	logw := make([]float64, M)
	K := len(betas) - 1
	res.AcceptTrace = make([]float64, 0, K-1)
	var avg = math.NaN()
	var acc, prop int
	for k := 1; k <= K; k++ {
		db := betas[k] - betas[k-1]
		for i := range logw {
			logw[i] += db * c.LogP[i]
		}
		if k == K {
			break
		}
		for i := range c.StepSize {
			c.StepSize[i] = eps
		}
		a0 := append([]int(nil), c.Accepted...)
		if cfg.Transition == "mala" {
			c.mala(betas[k], nil)
		} else {
			c.hmc(betas[k], L, nil)
		}
		var am, ap int
		for i := range M {
			am += c.Accepted[i] - a0[i]
		}
		for i := M; i < n; i++ {
			ap += c.Accepted[i] - a0[i]
		}
		acc += am
		prop += M
		res.AcceptTrace = append(res.AcceptTrace, float64(am)/float64(M))
		if adapt != nil {
			adapt.update(&eps, &avg, float64(ap)/float64(P))
		}
		if cfg.Progress != nil {
			cfg.Progress(k, K)
		}
		if cfg.Stop != nil {
			if err := cfg.Stop(); err != nil {
				return res, err
			}
		}
	}
	if cfg.Progress != nil {
		cfg.Progress(K, K)
	}
	for i, v := range logw {
		if math.IsNaN(v) || math.IsInf(v, 1) {
			return res, fmt.Errorf("mcmc: AIS: chain %d's log weight is %g (the energy is not finite there)", i, v)
		}
	}
	lz, se := logMeanExpInf(logw)
	res.LogZ, res.StdErr, res.LogZBase, res.LogWeights = logZ0+lz, se, logZ0, logw
	if prop > 0 {
		res.AcceptRate = float64(acc) / float64(prop)
	}
	res.StepSize = eps
	res.X = tensor.New(M, d)
	for i := range M {
		xr := res.X.Row(i)
		for j, v := range c.X.Row(i) {
			xr[j] = float32(mu[j] + sd[j]*float64(v))
		}
	}
	return res, nil
}

// settings checks cfg for a target of dimension d and fills in its defaults: chains
// M, pilots P, leapfrog steps L, step size, schedule and adaptation (nil: fixed).
func (cfg EnergyAISConfig) settings(d int) (M, P, L int, eps float64, betas []float64, adapt *StepAdapt, err error) {
	M, P, L, eps = cfg.Chains, cfg.PilotChains, cfg.Leapfrog, cfg.StepSize
	switch {
	case M < 0:
		err = fmt.Errorf("mcmc: AIS chains must be >= 1, got %d", cfg.Chains)
	case L < 0:
		err = fmt.Errorf("mcmc: AIS leapfrog steps must be >= 1, got %d", cfg.Leapfrog)
	case eps < 0 || math.IsNaN(eps) || math.IsInf(eps, 0):
		err = fmt.Errorf("mcmc: AIS step size must be positive and finite, got %g", cfg.StepSize)
	case P < 0:
		err = fmt.Errorf("mcmc: AIS pilot chains must be >= 1, got %d", cfg.PilotChains)
	case cfg.Transition != "" && cfg.Transition != "hmc" && cfg.Transition != "mala":
		err = fmt.Errorf("mcmc: AIS transition %q is not hmc or mala", cfg.Transition)
	case cfg.BaseMean != nil && len(cfg.BaseMean) != d:
		err = fmt.Errorf("mcmc: AIS base mean has %d values for dimension %d", len(cfg.BaseMean), d)
	case cfg.BaseStd != nil && len(cfg.BaseStd) != d:
		err = fmt.Errorf("mcmc: AIS base standard deviations have %d values for dimension %d", len(cfg.BaseStd), d)
	}
	if err != nil {
		return
	}
	for j := range d {
		if cfg.BaseMean != nil && (math.IsNaN(cfg.BaseMean[j]) || math.IsInf(cfg.BaseMean[j], 0)) {
			err = fmt.Errorf("mcmc: AIS base mean [%d] = %g is not finite", j, cfg.BaseMean[j])
			return
		}
		if cfg.BaseStd != nil && !(cfg.BaseStd[j] > 0 && !math.IsInf(cfg.BaseStd[j], 0)) {
			err = fmt.Errorf("mcmc: AIS base standard deviation [%d] = %g must be positive and finite", j, cfg.BaseStd[j])
			return
		}
	}
	if M == 0 {
		M = DefaultEnergyAISChains
	}
	if L == 0 {
		L = DefaultLeapfrog
	}
	if eps == 0 {
		eps = DefaultAISStepSize
	}
	if !cfg.FixedStepSize {
		a := cfg.Adapt
		if a.Target == 0 && cfg.Transition == "mala" {
			a.Target = 0.574
		}
		if err = a.Validate(); err != nil {
			return
		}
		a = a.withDefaults()
		adapt = &a
		if P == 0 {
			P = DefaultEnergyAISPilots
		}
	} else {
		P = 0
	}
	// The schedule, checked as DecoderAISConfig's.
	s, err := DecoderAISConfig{Steps: cfg.Steps, Schedule: cfg.Schedule, Betas: cfg.Betas, FixedStepSize: true}.settings()
	if err != nil {
		return
	}
	betas = s.betas
	if cfg.Betas == nil && cfg.Steps == 0 {
		betas = SigmoidBetas(DefaultEnergyAISSteps, 4)
	}
	return
}
