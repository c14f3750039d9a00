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
	DefaultAISStepSize      = 0.1  // initial leapfrog step size ε
	DefaultPilotChains      = 2    // pilot chains per example that adapt ε
	DefaultGeometricMin     = 1e-4 // β_1 of the geometric schedule
)

// DecoderAISConfig sets up AIS with HMC transitions for a decoder-based model (see
// AISDecoder). The zero value runs 16 chains per example over the sigmoidal schedule
// with 1000 transitions, 10 leapfrog steps per transition, and ε starting at 0.1 and
// adapted towards an acceptance rate of 0.65 by 2 pilot chains per example, seed 0.
type DecoderAISConfig struct {
	Chains   int       // independent chains per example; 0 means 16
	Steps    int       // transitions K (K+1 distributions β_0 … β_K); 0 means 1000
	Schedule string    // "sigmoid" (the default, also ""), "geometric" or "linear"
	Betas    []float64 // an explicit schedule from 0 to 1; overrides Steps and Schedule
	Leapfrog int       // leapfrog steps per HMC transition; 0 means 10
	StepSize float64   // initial (or, with FixedStepSize, fixed) leapfrog step size ε; 0 means 0.1

	// FixedStepSize keeps ε = StepSize throughout. Otherwise the step size adapts as
	// in Wu et al.'s code, by the rule of Adapt (zero fields: their values), but
	// driven by PilotChains extra chains per example (0 means 2) whose mean acceptance
	// sets the ε that the example's chains use at the next transition. The chains
	// themselves never adapt, so, given the pilots, each chain is plain AIS with a
	// fixed sequence of kernels: its weight is unbiased and the chains are independent.
	// (Adapting each chain's ε from its own history biases the estimate: on this
	// package's pPCA test, 20 examples, 16 chains, K = 1000, it came out 0.10–0.17
	// nats low over two draws of the model, 2–4 standard errors; driven by pilots,
	// 0.03–0.07 low, under 2. One ε adapted from all chains, as in Wu et al.'s code,
	// couples the chains and makes the result depend on the batch.) The pilots'
	// weights are discarded; they cost PilotChains/Chains of the run.
	FixedStepSize bool
	Adapt         StepAdapt
	PilotChains   int

	// Batch is the number of rows (example × chain, pilots included) per decoder call,
	// rounded down to whole examples (at least one); 0 means 4096.
	Batch int
	// Seed: chain c of example e draws from rng.NewStream(Seed, e).Child(2c) (reverse:
	// 2c+1), pilot q from rng.NewStream(Seed, e).Child(2³² + q).
	Seed uint64

	// Progress, if set, is called after every transition with the work done and its
	// total, in example-transitions over all passes.
	Progress func(done, total int)
	// Stop, if set, is called after every transition; when it returns an error (a
	// cancelled context's, say) the run ends and returns it.
	Stop func() error
}

// aisSettings is a DecoderAISConfig with its defaults filled in.
type aisSettings struct {
	chains, pilots, leapfrog, batch int
	eps                             float64
	betas                           []float64
	adapt                           *StepAdapt // nil: fixed ε
}

// settings checks cfg and fills in its defaults, or returns an error naming the
// setting at fault.
func (cfg DecoderAISConfig) settings() (aisSettings, error) {
	s := aisSettings{chains: cfg.Chains, pilots: cfg.PilotChains, leapfrog: cfg.Leapfrog, batch: cfg.Batch, eps: cfg.StepSize}
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
		s.eps = DefaultAISStepSize
	}
	if cfg.FixedStepSize {
		s.pilots = 0
	} else {
		if err := cfg.Adapt.Validate(); err != nil {
			return s, err
		}
		a := cfg.Adapt.withDefaults()
		s.adapt = &a
		if s.pilots < 0 {
			return s, fmt.Errorf("mcmc: AIS pilot chains must be >= 1, got %d", cfg.PilotChains)
		}
		if s.pilots == 0 {
			s.pilots = DefaultPilotChains
		}
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
	AcceptRate       float64 // accepted HMC proposals of the C chains over all transitions
	// AcceptTrace[j] is the acceptance rate, over all chains, of transition j+1:
	// forward at β_{j+1}, reverse at β_{K−j−1}.
	AcceptTrace []float64
	StepSize    float64     // mean over examples of the last step size ε used
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
// standard error is the delta method over chains (see DecoderAISResult). The step
// size is adapted by pilot chains (see DecoderAISConfig.FixedStepSize).
//
// Examples are processed whole, as many per decoder call as Batch allows; each row
// draws only from its own stream, so the result does not depend on the number of
// workers nor, when the decoder's result for a row depends on that row alone, on
// Batch. Invalid settings, a decoder with LatentDim() < 1, and a log weight that ends
// NaN or +Inf return an error; it panics if x has no rows.
func AISDecoder(d Decoder, x *tensor.Mat, cfg DecoderAISConfig) (DecoderAISResult, error) {
	lo, _, err := runDecoderAIS(d, x, nil, cfg, true, false)
	return lo, err
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
// forward estimate it brackets log p(x): bidirectional Monte Carlo (BDMC).
//
// The step size at β_k is the one the forward pilot chains chose at β_k: they run
// first, from the prior, so that the kernels do not depend on the chains' starting
// points. Errors and panics as for AISDecoder; it also panics if z does not have
// LatentDim() columns and n or n·C rows.
func AISDecoderReverse(d Decoder, x, z *tensor.Mat, cfg DecoderAISConfig) (DecoderAISResult, error) {
	if z == nil {
		panic("mcmc: AISDecoderReverse: nil posterior samples")
	}
	_, up, err := runDecoderAIS(d, x, z, cfg, false, true)
	return up, err
}

// BDMC runs AISDecoder and AISDecoderReverse with the same settings on data x
// simulated from the model with latent z (bidirectional Monte Carlo, Grosse et al.
// 2015): for each example, lower.LogLik[e] ≲ log p(x_e) ≲ upper.LogLik[e], and
// upper − lower bounds the error of the forward estimate on such data; it shrinks to
// 0 as the number of intermediate distributions grows. The results are those of the
// two functions (the reverse pass reuses the forward pass's pilots).
func BDMC(d Decoder, x, z *tensor.Mat, cfg DecoderAISConfig) (lower, upper DecoderAISResult, err error) {
	if z == nil {
		panic("mcmc: BDMC: nil posterior samples")
	}
	return runDecoderAIS(d, x, z, cfg, true, true)
}

// aisRun is the state of a forward and/or reverse decoder AIS run.
type aisRun struct {
	d       Decoder
	x, z0   *tensor.Mat
	s       aisSettings
	seed    uint64
	n, dz   int
	xb      *tensor.Mat // tiled examples of the current block
	trace   []float64   // (block examples, K−1): ε the chains use at forward transition k
	done    int
	total   int
	onStep  func(done, total int)
	stop    func() error
	err     error // from stop
	fw, rev *DecoderAISResult
	acc     [2][]int // accepted proposals per transition (forward, reverse)
	accAll  [2]int
	propAll [2]int
	epsSum  [2]float64
}

// runDecoderAIS runs the forward pass, the reverse pass or both, block by block of
// whole examples.
func runDecoderAIS(d Decoder, x, z0 *tensor.Mat, cfg DecoderAISConfig, forward, reverse bool) (lo, up DecoderAISResult, err error) {
	if d == nil {
		panic("mcmc: AISDecoder: nil decoder")
	}
	s, err := cfg.settings()
	if err != nil {
		return lo, up, err
	}
	dz := d.LatentDim()
	if dz < 1 {
		return lo, up, fmt.Errorf("mcmc: AIS: decoder latent dimension must be >= 1, got %d", dz)
	}
	n, C := x.Rows, s.chains
	if n < 1 {
		panic("mcmc: AISDecoder: no examples (x has 0 rows)")
	}
	if reverse && (z0.Cols != dz || (z0.Rows != n && z0.Rows != n*C)) {
		panic(fmt.Sprintf("mcmc: AISDecoderReverse: z is %d×%d for %d examples × %d chains of latent dimension %d",
			z0.Rows, z0.Cols, n, C, dz))
	}
	K := len(s.betas) - 1
	r := &aisRun{d: d, x: x, z0: z0, s: s, seed: cfg.Seed, n: n, dz: dz, onStep: cfg.Progress, stop: cfg.Stop}
	passes := 0
	if forward {
		r.fw, passes = newDecoderAISResult(n, C, K, dz, "lower"), passes+1
	}
	if reverse {
		r.rev, passes = newDecoderAISResult(n, C, K, dz, "upper"), passes+1
		if !forward && s.adapt != nil {
			passes++ // the pilots' own forward pass
		}
	}
	r.total = passes * n * K
	r.acc = [2][]int{make([]int, max(K-1, 0)), make([]int, max(K-1, 0))}
	perBlock := max(1, s.batch/(C+s.pilots))
	r.xb = tensor.New(min(perBlock, n)*(C+s.pilots), x.Cols)
	if reverse && s.adapt != nil {
		r.trace = make([]float64, min(perBlock, n)*max(K-1, 0))
	}
	for e0 := 0; e0 < n; e0 += perBlock {
		e1 := min(e0+perBlock, n)
		if forward {
			r.pass(e0, e1, C, false)
		} else if reverse && s.adapt != nil {
			r.pass(e0, e1, 0, false) // pilots alone, for their step sizes
		}
		if reverse && r.err == nil {
			r.pass(e0, e1, C, true)
		}
		if r.err != nil {
			return lo, up, r.err
		}
	}
	if forward {
		if err := r.finish(r.fw, 0); err != nil {
			return lo, up, err
		}
		lo = *r.fw
	}
	if reverse {
		if err := r.finish(r.rev, 1); err != nil {
			return lo, up, err
		}
		up = *r.rev
	}
	return lo, up, nil
}

func newDecoderAISResult(n, C, K, dz int, bound string) *DecoderAISResult {
	return &DecoderAISResult{
		LogLik: make([]float64, n), StdErr: make([]float64, n), LogWeights: make([]float64, n*C),
		Bound: bound, Chains: C, AcceptTrace: make([]float64, max(K-1, 0)), Z: tensor.New(n*C, dz),
	}
}

// pass anneals examples [e0, e1) with C chains each: forward (with the pilot chains
// when the step size adapts; C may then be 0 to run the pilots alone, which records
// their step sizes in r.trace), or reverse (no pilots; step sizes from r.trace).
func (r *aisRun) pass(e0, e1, C int, reverse bool) {
	s := r.s
	P := 0
	if !reverse && s.adapt != nil {
		P = s.pilots
	}
	G := C + P // rows per example: chains, then pilots
	ne := e1 - e0
	m := ne * G
	K := len(s.betas) - 1
	betas, dir := s.betas, uint64(0)
	if reverse {
		betas, dir = make([]float64, K+1), 1
		for k := range betas {
			betas[k] = s.betas[K-k]
		}
	}
	xb := r.xb.Slice(0, m)
	streams := make([]*rng.Stream, m)
	for i := range m {
		e, c := e0+i/G, i%G
		copy(xb.Row(i), r.x.Row(e))
		if c < C {
			streams[i] = rng.NewStream(r.seed, uint64(e)).Child(2*uint64(c) + dir)
		} else {
			streams[i] = rng.NewStream(r.seed, uint64(e)).Child(1<<32 + uint64(c-C))
		}
	}
	f := func(grad, z *tensor.Mat, out []float64) { r.d.LogLik(grad, z, xb, out) }
	ch := newChains(m, r.dz, f, true, streams, s.eps)
	ch.rows(func(i int) {
		zr := ch.X.Row(i)
		e, c := e0+i/G, i%G
		switch {
		case !reverse:
			for j := range zr {
				zr[j] = float32(ch.streams[i].NormFloat64())
			}
		case r.z0.Rows == r.n:
			copy(zr, r.z0.Row(e))
		default:
			copy(zr, r.z0.Row(e*C+c))
		}
	})
	ch.evaluate()
	res, way := r.fw, 0
	if reverse {
		res, way = r.rev, 1
	}
	logw := make([]float64, m)
	prev := make([]int, m)
	for k := 1; k <= K; k++ {
		db := betas[k] - betas[k-1]
		for i := range logw {
			logw[i] += db * ch.LogP[i]
		}
		if k < K {
			if s.adapt != nil {
				r.setStepSizes(ch, k, ne, C, P, reverse)
			}
			copy(prev, ch.Accepted)
			ch.hmc(betas[k], s.leapfrog, nil)
			if P > 0 {
				r.adaptPilots(ch, prev, ne, C, P)
			}
			if C > 0 {
				for e := range ne {
					for i := e * G; i < e*G+C; i++ {
						r.acc[way][k-1] += ch.Accepted[i] - prev[i]
					}
				}
			}
		}
		r.done += ne
		if r.onStep != nil {
			r.onStep(r.done, r.total)
		}
		if r.stop != nil {
			if r.err = r.stop(); r.err != nil {
				return
			}
		}
	}
	if C == 0 {
		return
	}
	for e := range ne {
		for c := range C {
			i, o := e*G+c, (e0+e)*C+c
			res.LogWeights[o] = logw[i]
			copy(res.Z.Row(o), ch.X.Row(i))
			r.accAll[way] += ch.Accepted[i]
			r.propAll[way] += ch.Proposed[i]
		}
		r.epsSum[way] += ch.StepSize[e*G]
	}
}

// setStepSizes gives every chain of each example the step size for transition k:
// forward, its pilots' current ε (recorded in r.trace when a reverse pass follows);
// reverse, the ε the forward pilots used at the same β.
func (r *aisRun) setStepSizes(ch *Chains, k, ne, C, P int, reverse bool) {
	G, K := C+P, len(r.s.betas)-1
	for e := range ne {
		var eps float64
		if reverse {
			eps = r.trace[e*(K-1)+(K-k)-1]
		} else {
			eps = ch.StepSize[e*G+C] // the pilots share one ε
			if r.trace != nil {
				r.trace[e*(K-1)+k-1] = eps
			}
		}
		for i := e * G; i < e*G+C; i++ {
			ch.StepSize[i] = eps
		}
	}
}

// adaptPilots updates each example's pilot step size from its pilots' mean
// acceptance in the last transition (StepAdapt's rule, on the mean).
func (r *aisRun) adaptPilots(ch *Chains, prev []int, ne, C, P int) {
	G := C + P
	a := r.s.adapt
	for e := range ne {
		p0 := e*G + C
		var acc float64
		for i := p0; i < p0+P; i++ {
			acc += float64(ch.Accepted[i] - prev[i])
		}
		eps, avg := ch.StepSize[p0], ch.avg[p0]
		a.update(&eps, &avg, acc/float64(P))
		for i := p0; i < p0+P; i++ {
			ch.StepSize[i], ch.avg[i] = eps, avg
		}
	}
}

// finish fills in the per-example estimates of res from its log weights.
func (r *aisRun) finish(res *DecoderAISResult, way int) error {
	n, C := r.n, r.s.chains
	for k, a := range r.acc[way] {
		res.AcceptTrace[k] = float64(a) / float64(n*C)
	}
	if r.propAll[way] > 0 {
		res.AcceptRate = float64(r.accAll[way]) / float64(r.propAll[way])
	}
	res.StepSize = r.epsSum[way] / float64(n)
	var v float64
	for e := range n {
		lw := res.LogWeights[e*C : (e+1)*C]
		for c, l := range lw {
			if math.IsNaN(l) || math.IsInf(l, 1) {
				return fmt.Errorf("mcmc: AIS: log weight of example %d, chain %d is %g (the decoder's log-likelihood is not finite)", e, c, l)
			}
		}
		lme, se := logMeanExpInf(lw)
		if res.Bound == "upper" {
			lme = -lme
		}
		res.LogLik[e], res.StdErr[e] = lme, se
		res.Mean += lme
		v += se * se
	}
	res.Mean /= float64(n)
	res.MeanStdErr = math.Sqrt(v) / float64(n)
	return nil
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
