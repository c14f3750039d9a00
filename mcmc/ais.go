package mcmc

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// DefaultAISSteps is the number of intermediate distributions of the Salakhutdinov &
// Murray (2008) schedule.
const DefaultAISSteps = 14500

// AISBetas returns an annealing schedule 0 = β_0 < β_1 < … < β_K = 1 with K = steps
// transitions, split as in Salakhutdinov & Murray (2008), "On the quantitative analysis
// of deep belief networks", section 4.1: 500/14500 of the steps uniform in [0, 0.5],
// 4000/14500 in [0.5, 0.9] and 10000/14500 in [0.9, 1]. AISBetas(14500) is exactly
// their schedule (steps of 1e-3, 1e-4 and 1e-5). It panics if steps < 3.
func AISBetas(steps int) []float64 {
	if steps < 3 {
		panic(fmt.Sprintf("mcmc: AISBetas: need at least 3 steps, got %d", steps))
	}
	n1 := max(1, int(math.Round(float64(steps)*500/14500)))
	n2 := max(1, int(math.Round(float64(steps)*4000/14500)))
	n3 := steps - n1 - n2
	if n3 < 1 {
		n3, n2 = 1, steps-n1-1
	}
	b := make([]float64, 0, steps+1)
	b = append(b, 0)
	for i := 1; i <= n1; i++ {
		b = append(b, 0.5*float64(i)/float64(n1))
	}
	for i := 1; i <= n2; i++ {
		b = append(b, 0.5+0.4*float64(i)/float64(n2))
	}
	for i := 1; i <= n3; i++ {
		b = append(b, 0.9+0.1*float64(i)/float64(n3))
	}
	b[len(b)-1] = 1
	return b
}

// BaseRateBias returns the visible biases of the base-rate model for AIS: the data
// marginals p_i, smoothed towards 1/2 as p̃_i = (p_i + 0.05)/1.1 so that units that are
// always 0 or always 1 keep finite biases, as log(p̃_i/(1−p̃_i)). data rows are binary
// examples. Salakhutdinov & Murray (2008) fit the base-rate model the same way with a
// small pseudo-count.
func BaseRateBias(data *tensor.Mat) []float32 {
	sum := make([]float64, data.Cols)
	for i := 0; i < data.Rows; i++ {
		for j, x := range data.Row(i) {
			sum[j] += float64(x)
		}
	}
	b := make([]float32, data.Cols)
	for j := range b {
		p := (sum[j]/float64(max(data.Rows, 1)) + 0.05) / 1.1
		b[j] = float32(math.Log(p / (1 - p)))
	}
	return b
}

// AISConfig sets up annealed importance sampling. The zero value runs 100 chains over
// the Salakhutdinov & Murray schedule from a uniform base model with seed 0.
type AISConfig struct {
	Chains int       // independent annealing runs; 0 means 100
	Betas  []float64 // increasing from 0 to 1; nil means AISBetas(DefaultAISSteps)
	// BaseBias is, for AIS, the visible biases b_A of the base-rate model (nil means
	// zeros); for AISGaussian, the means a of the Gaussian base model (nil means the
	// model's own B).
	BaseBias []float32
	Seed     uint64 // chain i uses rng.NewStream(Seed, i)
	// Progress, if set, is called after every intermediate distribution with
	// the number done and the total K.
	Progress func(done, total int)
	// Stop, if set, is called after every intermediate distribution; when it
	// returns an error (a cancelled context's, say) the run ends and returns it.
	Stop func() error
}

// AISResult is an AIS estimate of log Z.
type AISResult struct {
	LogZ       float64   // log Ẑ = log Z_A + log( (1/M) Σ_i w_i )
	StdErr     float64   // delta-method standard error of log Ẑ (see AIS)
	LogZBase   float64   // log Z_A of the base-rate model
	LogWeights []float64 // log w_i, one per chain
}

// chainsAndBetas returns the number of chains and the schedule with defaults filled
// in, or an error naming the setting that is invalid.
func (cfg AISConfig) chainsAndBetas() (int, []float64, error) {
	M := cfg.Chains
	if M == 0 {
		M = 100
	}
	if M < 1 {
		return 0, nil, fmt.Errorf("mcmc: AIS chains must be >= 1, got %d", cfg.Chains)
	}
	betas := cfg.Betas
	if betas == nil {
		betas = AISBetas(DefaultAISSteps)
	}
	if len(betas) < 2 || betas[0] != 0 || betas[len(betas)-1] != 1 {
		return 0, nil, fmt.Errorf("mcmc: AIS betas must run from 0 to 1 with at least 2 values, got %d values", len(betas))
	}
	for k := 1; k < len(betas); k++ {
		if !(betas[k] > betas[k-1]) {
			return 0, nil, fmt.Errorf("mcmc: AIS betas must increase: betas[%d]=%g after %g", k, betas[k], betas[k-1])
		}
	}
	return M, betas, nil
}

// AIS estimates log Z of the Bipartite model m by annealed importance sampling
// (Neal 2001; Salakhutdinov & Murray 2008) from the base-rate model
// p_A(v, h) ∝ exp(b_Aᵀv), whose log Z_A = Σ_i softplus(b_A,i) + nh log 2, through
//
//	p*_β(v) = exp((1−β) b_Aᵀv + β bᵀv) Π_j (1 + exp(β(c_j + W_jᵀv))).
//
// Each chain starts from v ~ p_A, adds log p*_{β_k}(v) − log p*_{β_{k−1}}(v) for
// k = 1…K and moves v by one block-Gibbs step of p_{β_k} (h ~ σ(β(Wᵀv + c)), then
// v ~ σ((1−β)b_A + β(Wh + b))). Then
//
//	log Ẑ = log Z_A + log( (1/M) Σ_i exp(log w_i) ).
//
// The standard error is the delta method applied to the mean of the weights: with
// r_i = w_i / max_j w_j, se(log Ẑ) = sd(r) / (√M · mean(r)), sd with divisor M−1.
// It is a first-order error bar; when a few weights dominate it understates the
// error, and AIS's bias makes log Ẑ an underestimate in expectation (Jensen).
// Chains run in parallel with their own streams; the result does not depend on the
// number of workers. Invalid settings return an error.
func AIS(m Bipartite, cfg AISConfig) (AISResult, error) {
	m.check()
	nv, nh := m.W.Rows, m.W.Cols
	M, betas, err := cfg.chainsAndBetas()
	if err != nil {
		return AISResult{}, err
	}
	bA := cfg.BaseBias
	if bA == nil {
		bA = make([]float32, nv)
	}
	if len(bA) != nv {
		return AISResult{}, fmt.Errorf("mcmc: AIS base biases have %d values, model has %d visible units", len(bA), nv)
	}
	logZA := float64(nh) * math.Ln2
	for _, b := range bA {
		logZA += softplus(float64(b))
	}
	// dB = b − b_A, for the linear part of the weight increment.
	dB := make([]float64, nv)
	for i := range dB {
		dB[i] = float64(m.B[i]) - float64(bA[i])
	}
	streams := Streams(cfg.Seed, 0, M)
	V := tensor.New(M, nv) // (M, nv) chain states
	X := tensor.New(M, nh) // (M, nh) hidden pre-activations, then samples
	logw := make([]float64, M)
	tensor.ParallelFor(M, 4, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r, s := V.Row(i), streams[i]
			for j := range r {
				r[j] = bern(s, float64(bA[j]))
			}
		}
	})
	linear := func(v []float32) float64 { // Σ_i (b_i − b_A,i) v_i over the ones of v
		var sum float64
		for j, vj := range v {
			if vj != 0 {
				sum += dB[j]
			}
		}
		return sum
	}
	visible := func(v []float32, s *rng.Stream, bk float64) { // v holds (Wh)_i on entry
		for j := range v {
			v[j] = bern(s, (1-bk)*float64(bA[j])+bk*(float64(v[j])+float64(m.B[j])))
		}
	}
	if err := anneal(m.W, m.C, betas, V, X, streams, logw, linear, visible, cfg); err != nil {
		return AISResult{}, err
	}
	lz, se := logMeanExp(logw)
	return AISResult{LogZ: logZA + lz, StdErr: se, LogZBase: logZA, LogWeights: logw}, nil
}

// anneal runs the annealing loop that AIS and AISGaussian share, over the chains whose
// states are the rows of V (set by the caller to draws from the base model): for
// k = 1…K it adds to logw[i] the increment
//
//	(β_k − β_{k−1})·linear(v_i) + Σ_j [softplus(β_k x_ij) − softplus(β_{k−1} x_ij)],
//	x_ij = c_j + (V W)_ij,
//
// and, except after the last step, moves chain i by one block-Gibbs step of p_{β_k}:
// h_ij ~ σ(β_k x_ij) into X, then V ← H Wᵀ and visible(v_i, stream i, β_k), which
// turns (Wh)_i into the new visible state. linear is the visible part of
// log p*_β that is linear in β, per unit of β. Row i uses only streams[i], so the
// result does not depend on the number of workers.
func anneal(W *tensor.Mat, C []float32, betas []float64, V, X *tensor.Mat, streams []*rng.Stream, logw []float64,
	linear func(v []float32) float64, visible func(v []float32, s *rng.Stream, bk float64), cfg AISConfig) error {
	M, K := V.Rows, len(betas)-1
	for k := 1; k <= K; k++ {
		if cfg.Progress != nil && k > 1 {
			cfg.Progress(k-1, K)
		}
		if cfg.Stop != nil && k > 1 {
			if err := cfg.Stop(); err != nil {
				return err
			}
		}
		bk, bp := betas[k], betas[k-1]
		tensor.Gemm(false, false, 1, V, W, 0, X) // (M, nh) = V W
		last := k == K
		tensor.ParallelFor(M, 4, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				v, x, s := V.Row(i), X.Row(i), streams[i]
				inc := linear(v) * (bk - bp)
				for j := range x {
					xj := float64(x[j]) + float64(C[j])
					inc += softplus(bk*xj) - softplus(bp*xj)
					if !last {
						x[j] = bern(s, bk*xj)
					}
				}
				logw[i] += inc
			}
		})
		if last {
			if cfg.Progress != nil {
				cfg.Progress(K, K)
			}
			return nil
		}
		tensor.Gemm(false, true, 1, X, W, 0, V) // (M, nv) = H Wᵀ
		tensor.ParallelFor(M, 4, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				visible(V.Row(i), streams[i], bk)
			}
		})
	}
	return nil
}

// bern returns 1 with probability σ(logit), else 0.
func bern(s *rng.Stream, logit float64) float32 {
	if s.Float64() < 1/(1+math.Exp(-logit)) {
		return 1
	}
	return 0
}

// logMeanExp returns log((1/M) Σ exp(l_i)) and its delta-method standard error
// sd(r)/(√M mean(r)) with r_i = exp(l_i − max l).
func logMeanExp(l []float64) (float64, float64) {
	lm, se, _ := LogWeights(l)
	return lm, se
}

// LogWeights summarises M importance weights w_i = exp(l_i) given as logs: the
// log of their mean, log((1/M) Σ w_i); its delta-method standard error
// sd(r)/(√M mean(r)) with r_i = exp(l_i − max l) (0 for one weight); and their
// effective sample size (Σw)²/Σw², from 1 (one weight carries the sum) to M
// (all equal).
func LogWeights(l []float64) (logMean, stderr, ess float64) {
	mx := math.Inf(-1)
	for _, x := range l {
		mx = max(mx, x)
	}
	n := float64(len(l))
	var s, s2 float64
	for _, x := range l {
		r := math.Exp(x - mx)
		s += r
		s2 += r * r
	}
	mean := s / n
	if len(l) > 1 {
		v := (s2 - n*mean*mean) / (n - 1)
		stderr = math.Sqrt(max(v, 0)) / (math.Sqrt(n) * mean)
	}
	return mx + math.Log(mean), stderr, s * s / s2
}
