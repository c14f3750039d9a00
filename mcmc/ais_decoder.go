package mcmc

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Defaults of DecoderAISConfig.
const (
	DefaultDecoderAISChains = 16   // chains per example (Wu et al. 2017)
	DefaultDecoderAISSteps  = 1000 // transitions K
	DefaultDecoderAISBatch  = 4096 // rows (example × chain) per decoder call
	DefaultHMCStepSize      = 0.01 // initial ε (Wu et al.'s code)
	DefaultGeometricMin     = 1e-4 // β_1 of the geometric schedule
)

// DecoderAISConfig sets up AIS with HMC transitions for a decoder-based model (see
// AISDecoder). The zero value runs 16 chains per example over the sigmoidal schedule
// with 1000 transitions, 10 leapfrog steps per transition, ε starting at 0.01 and
// adapted per chain towards an acceptance rate of 0.65, seed 0: Wu et al.'s settings
// with fewer intermediate distributions.
type DecoderAISConfig struct {
	Chains   int       // independent chains per example; 0 means 16
	Steps    int       // transitions K (K+1 distributions β_0 … β_K); 0 means 1000
	Schedule string    // "sigmoid" (the default, also ""), "geometric" or "linear"
	Betas    []float64 // an explicit schedule from 0 to 1; overrides Steps and Schedule
	Leapfrog int       // leapfrog steps per HMC transition; 0 means 10
	StepSize float64   // initial leapfrog step size ε; 0 means 0.01

	// FixedStepSize turns the step-size adaptation off; otherwise each chain's ε
	// adapts after every transition as Adapt says (zero fields: Wu et al.'s values).
	FixedStepSize bool
	Adapt         StepAdapt

	Batch int    // rows (example × chain) per decoder call; 0 means 4096
	Seed  uint64 // chain c of example e draws from rng.NewStream(Seed, e).Child(2c) (reverse: 2c+1)

	// Progress, if set, is called after every transition with the number of
	// row-transitions done and their total.
	Progress func(done, total int)
}

// aisSettings is a DecoderAISConfig with its defaults filled in.
type aisSettings struct {
	chains, leapfrog, batch int
	eps                     float64
	betas                   []float64
	adapt                   *StepAdapt
}

// settings checks cfg and fills in its defaults, or returns an error naming the
// setting at fault.
func (cfg DecoderAISConfig) settings() (aisSettings, error) {
	s := aisSettings{chains: cfg.Chains, leapfrog: cfg.Leapfrog, batch: cfg.Batch, eps: cfg.StepSize}
	if s.chains < 0 {
		return s, fmt.Errorf("mcmc: AIS chains must be >= 1, got %d", cfg.Chains)
	}
	if s.chains == 0 {
		s.chains = DefaultDecoderAISChains
	}
	if s.leapfrog < 0 {
		return s, fmt.Errorf("mcmc: AIS leapfrog steps must be >= 1, got %d", cfg.Leapfrog)
	}
	if s.leapfrog == 0 {
		s.leapfrog = DefaultLeapfrog
	}
	if s.batch < 0 {
		return s, fmt.Errorf("mcmc: AIS batch must be >= 1 rows, got %d", cfg.Batch)
	}
	if s.batch == 0 {
		s.batch = DefaultDecoderAISBatch
	}
	if s.eps < 0 || math.IsNaN(s.eps) || math.IsInf(s.eps, 0) {
		return s, fmt.Errorf("mcmc: AIS HMC step size must be positive and finite, got %g", cfg.StepSize)
	}
	if s.eps == 0 {
		s.eps = DefaultHMCStepSize
	}
	if !cfg.FixedStepSize {
		if err := cfg.Adapt.Validate(); err != nil {
			return s, err
		}
		a := cfg.Adapt.withDefaults()
		s.adapt = &a
	}
	if cfg.Betas != nil {
		if err := checkBetas(cfg.Betas); err != nil {
			return s, err
		}
		s.betas = cfg.Betas
		return s, nil
	}
	K := cfg.Steps
	if K < 0 {
		return s, fmt.Errorf("mcmc: AIS steps must be >= 1, got %d", cfg.Steps)
	}
	if K == 0 {
		K = DefaultDecoderAISSteps
	}
	switch cfg.Schedule {
	case "", "sigmoid":
		s.betas = SigmoidBetas(K, 4)
	case "linear":
		s.betas = LinearBetas(K)
	case "geometric":
		if K < 2 {
			return s, fmt.Errorf("mcmc: AIS geometric schedule needs steps >= 2, got %d", K)
		}
		s.betas = GeometricBetas(K, DefaultGeometricMin)
	default:
		return s, fmt.Errorf("mcmc: AIS schedule %q is not one of sigmoid, geometric, linear", cfg.Schedule)
	}
	return s, nil
}

// DecoderAISResult holds AIS estimates of log p(x), one per example.
type DecoderAISResult struct {
	// LogLik[e] estimates log p(x_e): forward, log( (1/C) Σ_c w_ec ), a stochastic
	// lower bound; reverse, −log( (1/C) Σ_c w_ec ), a stochastic upper bound.
	LogLik []float64
	// StdErr[e] is the delta-method standard error over the C chains of example e:
	// with r_c = w_ec / max_c w_ec, sd(r)/(√C · mean(r)) (as AIS's). It is a
	// first-order error bar and understates the error when a few weights dominate.
	StdErr []float64
	// LogWeights holds log w_ec for example e, chain c at index e·C + c.
	LogWeights []float64
	// Mean is the mean of LogLik over examples; MeanStdErr its Monte Carlo standard
	// error √(Σ_e StdErr[e]²)/n (chains of different examples are independent). It
	// leaves out the spread of log p(x) over the data.
	Mean, MeanStdErr float64
	Bound            string  // "lower" (forward) or "upper" (reverse)
	Chains           int     // C
	AcceptRate       float64 // accepted HMC proposals over all chains and transitions
	// AcceptTrace[k−1] is the acceptance rate, over all chains, of the transition at
	// β_k, k = 1 … K−1 (reverse: at the k-th distribution from the posterior end).
	AcceptTrace []float64
	StepSize    float64     // mean over chains of the final step size ε
	Z           *tensor.Mat // (n·C, d) final states; forward: approximate posterior samples
}

// AISDecoder estimates log p(x) for each row x of x under a decoder-based model
//
//	p(x) = ∫ N(z; 0, I) p(x | z) dz
//
// by annealed importance sampling with HMC transitions (Neal 2001; Wu, Burda,
// Salakhutdinov & Grosse 2017, "On the quantitative analysis of decoder-based
// generative models"), through the distributions
//
//	p_β(z | x) ∝ N(z; 0, I) p(x | z)^β,   0 = β_0 < β_1 < … < β_K = 1,
//
// from the prior (Z_0 = 1) to the posterior (Z_K = p(x)). Each of the C chains of an
// example starts from z ~ N(0, I), adds to its log weight
//
//	log w ← log w + (β_k − β_{k−1}) log p(x | z),   k = 1 … K,
//
// and, for k < K, moves z by one HMC transition that leaves p_{β_k} invariant (see
// HMC; the log-likelihood and its gradient at z are kept from the transition, so a
// transition costs L decoder calls). Then E[w] = p(x), and
//
//	log p̂(x) = log( (1/C) Σ_c w_c ),
//
// whose expectation is at most log p(x) (Jensen): a stochastic lower bound. The
// standard error is the delta method over chains (see DecoderAISResult).
//
// Rows (example e, chain c) at e·C + c are processed Batch at a time; each row draws
// only from its own stream, so the result does not depend on the number of workers
// nor, when the decoder's result for a row depends on that row alone, on Batch.
// Invalid settings, a decoder with LatentDim() < 1, and a log weight that ends NaN or
// +Inf return an error; it panics if x has no rows.
func AISDecoder(d Decoder, x *tensor.Mat, cfg DecoderAISConfig) (DecoderAISResult, error) {
	return decoderAIS(d, x, nil, cfg, false)
}

// AISDecoderReverse runs AIS in the reverse direction, from the posterior to the
// prior (Grosse, Ghahramani & Adams 2015; Wu et al. 2017, section 4): each chain of
// example e starts from an exact posterior sample z ~ p(z | x_e), row e of z (or row
// e·C + c, one per chain, when z has n·C rows), and anneals through β_K = 1 > β_{K−1}
// > … > β_0 = 0 with the same HMC transitions:
//
//	log w ← log w + (β_{k−1} − β_k) log p(x | z),   k = K … 1,
//
// so that E[w] = Z_0/Z_K = 1/p(x), and
//
//	log p̂(x) = −log( (1/C) Σ_c w_c )
//
// is a stochastic upper bound on log p(x). Exact posterior samples are available on
// data simulated from the model: draw z ~ N(0, I), then x ~ p(x | z). With the
// forward estimate it brackets log p(x): bidirectional Monte Carlo (BDMC). Errors and
// panics as for AISDecoder; it also panics if z does not have LatentDim() columns
// and n or n·C rows.
func AISDecoderReverse(d Decoder, x, z *tensor.Mat, cfg DecoderAISConfig) (DecoderAISResult, error) {
	if z == nil {
		panic("mcmc: AISDecoderReverse: nil posterior samples")
	}
	return decoderAIS(d, x, z, cfg, true)
}

// BDMC runs AISDecoder and AISDecoderReverse with the same settings on data x
// simulated from the model with latent z (bidirectional Monte Carlo, Grosse et al.
// 2015): for each example, lower.LogLik[e] ≲ log p(x_e) ≲ upper.LogLik[e], and
// upper − lower bounds the error of the forward estimate on such data; it shrinks to
// 0 as the number of intermediate distributions grows.
func BDMC(d Decoder, x, z *tensor.Mat, cfg DecoderAISConfig) (lower, upper DecoderAISResult, err error) {
	if lower, err = AISDecoder(d, x, cfg); err != nil {
		return lower, upper, err
	}
	upper, err = AISDecoderReverse(d, x, z, cfg)
	return lower, upper, err
}

func decoderAIS(d Decoder, x, z0 *tensor.Mat, cfg DecoderAISConfig, reverse bool) (DecoderAISResult, error) {
	if d == nil {
		panic("mcmc: AISDecoder: nil decoder")
	}
	s, err := cfg.settings()
	if err != nil {
		return DecoderAISResult{}, err
	}
	dz := d.LatentDim()
	if dz < 1 {
		return DecoderAISResult{}, fmt.Errorf("mcmc: AIS: decoder latent dimension must be >= 1, got %d", dz)
	}
	n, C := x.Rows, s.chains
	if n < 1 {
		panic("mcmc: AISDecoder: no examples (x has 0 rows)")
	}
	if reverse && (z0.Cols != dz || (z0.Rows != n && z0.Rows != n*C)) {
		panic(fmt.Sprintf("mcmc: AISDecoderReverse: z is %d×%d for %d examples × %d chains of latent dimension %d",
			z0.Rows, z0.Cols, n, C, dz))
	}
	betas, dir := s.betas, uint64(0)
	if reverse {
		betas, dir = make([]float64, len(s.betas)), 1
		for k := range betas {
			betas[k] = s.betas[len(s.betas)-1-k]
		}
	}
	K, R := len(betas)-1, n*C
	res := DecoderAISResult{
		LogLik: make([]float64, n), StdErr: make([]float64, n), LogWeights: make([]float64, R),
		Bound: "lower", Chains: C, AcceptTrace: make([]float64, max(K-1, 0)), Z: tensor.New(R, dz),
	}
	if reverse {
		res.Bound = "upper"
	}
	accepted := make([]int, max(K-1, 0))
	var accAll, propAll int
	var epsSum float64
	xt := tensor.New(min(s.batch, R), x.Cols)
	for r0 := 0; r0 < R; r0 += s.batch {
		r1 := min(r0+s.batch, R)
		m := r1 - r0
		xb := xt.Slice(0, m)
		streams := make([]*rng.Stream, m)
		for i := range m {
			e, c := (r0+i)/C, (r0+i)%C
			copy(xb.Row(i), x.Row(e))
			streams[i] = rng.NewStream(cfg.Seed, uint64(e)).Child(2*uint64(c) + dir)
		}
		f := func(grad, z *tensor.Mat, out []float64) { d.LogLik(grad, z, xb, out) }
		ch := newChains(m, dz, f, true, streams, s.eps)
		ch.rows(func(i int) {
			zr := ch.X.Row(i)
			switch {
			case !reverse:
				for j := range zr {
					zr[j] = float32(ch.streams[i].NormFloat64())
				}
			case z0.Rows == n:
				copy(zr, z0.Row((r0+i)/C))
			default:
				copy(zr, z0.Row(r0+i))
			}
		})
		ch.evaluate()
		logw := res.LogWeights[r0:r1]
		for k := 1; k <= K; k++ {
			db := betas[k] - betas[k-1]
			for i := range logw {
				logw[i] += db * ch.LogP[i]
			}
			if k < K {
				before := sumInts(ch.Accepted)
				ch.hmc(betas[k], s.leapfrog, s.adapt)
				accepted[k-1] += sumInts(ch.Accepted) - before
			}
			if cfg.Progress != nil {
				cfg.Progress(r0*K+k*m, R*K)
			}
		}
		res.Z.Slice(r0, r1).Copy(ch.X)
		accAll += sumInts(ch.Accepted)
		propAll += sumInts(ch.Proposed)
		for _, e := range ch.StepSize {
			epsSum += e
		}
	}
	for k := range accepted {
		res.AcceptTrace[k] = float64(accepted[k]) / float64(R)
	}
	if propAll > 0 {
		res.AcceptRate = float64(accAll) / float64(propAll)
	}
	res.StepSize = epsSum / float64(R)
	var v float64
	for e := range n {
		lw := res.LogWeights[e*C : (e+1)*C]
		for c, l := range lw {
			if math.IsNaN(l) || math.IsInf(l, 1) {
				return res, fmt.Errorf("mcmc: AIS: log weight of example %d, chain %d is %g (the decoder's log-likelihood is not finite)", e, c, l)
			}
		}
		lme, se := logMeanExpInf(lw)
		if reverse {
			lme = -lme
		}
		res.LogLik[e], res.StdErr[e] = lme, se
		res.Mean += lme
		v += se * se
	}
	res.Mean /= float64(n)
	res.MeanStdErr = math.Sqrt(v) / float64(n)
	return res, nil
}

// logMeanExpInf is logMeanExp that returns (−Inf, NaN) when every l_i is −Inf.
func logMeanExpInf(l []float64) (float64, float64) {
	for _, v := range l {
		if !math.IsInf(v, -1) {
			return logMeanExp(l)
		}
	}
	return math.Inf(-1), math.NaN()
}

func sumInts(a []int) int {
	var s int
	for _, v := range a {
		s += v
	}
	return s
}
