package mcmc

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// GaussianBipartite holds the parameters of a Gaussian–Bernoulli bipartite energy model
// (a Gaussian–Bernoulli RBM in its own, standardised, coordinates), with energy
//
//	E(v, h) = Σ_i (v_i − b_i)²/(2σ_i²) − Σ_ij (v_i/σ_i) W_ij h_j − cᵀh,   v ∈ ℝ^nv, h ∈ {0,1}^nh,
//
// σ_i = exp(LogSigma_i), and density p(v, h) = exp(−E(v, h))/Z (Cho et al. 2011,
// "Improved learning of Gaussian-Bernoulli RBMs"). Summing out h gives the free energy
//
//	F(v) = Σ_i (v_i − b_i)²/(2σ_i²) − Σ_j softplus(c_j + Σ_i W_ij v_i/σ_i).
//
// The slices are the caller's: a Gaussian RBM passes views of its own parameters.
// Functions panic (caller bug) if the shapes disagree.
type GaussianBipartite struct {
	W        *tensor.Mat // (nv, nh)
	B        []float32   // visible means b, len nv
	C        []float32   // hidden biases, len nh
	LogSigma []float32   // log σ_i, len nv
}

// NumVisible returns nv.
func (m GaussianBipartite) NumVisible() int { return m.W.Rows }

// NumHidden returns nh.
func (m GaussianBipartite) NumHidden() int { return m.W.Cols }

func (m GaussianBipartite) check() {
	if m.W == nil || len(m.B) != m.W.Rows || len(m.C) != m.W.Cols || len(m.LogSigma) != m.W.Rows {
		r, c := -1, -1
		if m.W != nil {
			r, c = m.W.Rows, m.W.Cols
		}
		panic(fmt.Sprintf("mcmc: GaussianBipartite: W %d×%d with len(B)=%d, len(C)=%d, len(LogSigma)=%d",
			r, c, len(m.B), len(m.C), len(m.LogSigma)))
	}
}

// AISGaussian estimates log Z of the GaussianBipartite model m by annealed importance
// sampling (Neal 2001; Salakhutdinov & Murray 2008). It anneals the interaction and the
// hidden biases, keeping the model's σ, from the base model with base means
// a = cfg.BaseBias (nil: a = b, the model's own)
//
//	p_A(v, h) ∝ exp(−Σ_i (v_i − a_i)²/(2σ_i²)),   i.e. v ~ N(a, σ²), h uniform,
//	log Z_A = (nv/2) log 2π + Σ_i log σ_i + nh log 2
//
// (a Gaussian integral √(2π) σ_i per visible unit, 2 states per hidden unit), along
// the geometric path p_β(v, h) ∝ p_A(v, h)^{1−β} exp(−E(v, h))^β. Summing out h,
//
//	p*_β(v) = exp(−Σ_i [(1−β)(v_i − a_i)² + β(v_i − b_i)²]/(2σ_i²)) Π_j (1 + exp(β x_j)),
//	x_j = c_j + Σ_i W_ij v_i/σ_i,
//
// so p*_0 = 2^nh p*_A and p*_1(v) = exp(−F(v)). In u = v/σ, with α = a/σ and s = b/σ,
// the weight increment of step k is
//
//	log p*_{β_k}(v) − log p*_{β_{k−1}}(v)
//	    = (β_k − β_{k−1}) Σ_i (s_i − α_i)(u_i − (α_i + s_i)/2)
//	      + Σ_j [softplus(β_k x_j) − softplus(β_{k−1} x_j)],
//
// and the transition is one block-Gibbs step of p_{β_k}, whose conditionals are
//
//	p_β(h_j = 1 | v) = 1/(1 + exp(−β x_j)),
//	p_β(u_i | h)     = N((1−β)α_i + β(s_i + Σ_j W_ij h_j), 1).
//
// Each chain starts from v ~ N(a, σ²), and
//
//	log Ẑ = log Z_A + log( (1/M) Σ_i exp(log w_i) ),
//
// with the delta-method standard error of AIS. Z normalises the density of v itself:
// a caller that standardised its data adds the Jacobian of that map to log p(x), not
// to Z (rbm.RBM.MeanLogProb). The schedule, chain count and seed (chain i uses
// rng.NewStream(Seed, i)) are as for AIS; the result does not depend on the number
// of workers. Invalid settings (and a non-finite log σ or base mean) return an error.
func AISGaussian(m GaussianBipartite, cfg AISConfig) (AISResult, error) {
	m.check()
	nv, nh := m.W.Rows, m.W.Cols
	M, betas, err := cfg.chainsAndBetas()
	if err != nil {
		return AISResult{}, err
	}
	if cfg.BaseBias != nil && len(cfg.BaseBias) != nv {
		return AISResult{}, fmt.Errorf("mcmc: AIS base means have %d values, model has %d visible units", len(cfg.BaseBias), nv)
	}
	// alpha = a/σ, s = b/σ, in float64; lin_i = s_i − α_i and mid_i = (α_i + s_i)/2 give
	// the linear part of the weight increment.
	alpha, s := make([]float64, nv), make([]float64, nv)
	lin, mid := make([]float64, nv), make([]float64, nv)
	logZA := float64(nv)/2*math.Log(2*math.Pi) + float64(nh)*math.Ln2
	for i := range s {
		ls := float64(m.LogSigma[i])
		if math.IsNaN(ls) || math.IsInf(ls, 0) {
			return AISResult{}, fmt.Errorf("mcmc: AIS: log σ[%d] = %g is not finite", i, ls)
		}
		logZA += ls
		is := math.Exp(-ls)
		s[i] = float64(m.B[i]) * is
		alpha[i] = s[i]
		if cfg.BaseBias != nil {
			a := float64(cfg.BaseBias[i])
			if math.IsNaN(a) || math.IsInf(a, 0) {
				return AISResult{}, fmt.Errorf("mcmc: AIS: base mean [%d] = %g is not finite", i, a)
			}
			alpha[i] = a * is
		}
		lin[i], mid[i] = s[i]-alpha[i], (alpha[i]+s[i])/2
	}
	streams := Streams(cfg.Seed, 0, M)
	U := tensor.New(M, nv) // (M, nv) chain states in u = v/σ
	X := tensor.New(M, nh) // (M, nh) hidden pre-activations, then samples
	logw := make([]float64, M)
	tensor.ParallelFor(M, 4, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			u, st := U.Row(i), streams[i]
			for j := range u {
				u[j] = float32(alpha[j] + st.NormFloat64())
			}
		}
	})
	linear := func(u []float32) float64 { // Σ_i (s_i − α_i)(u_i − (α_i + s_i)/2)
		var sum float64
		for j, uj := range u {
			sum += lin[j] * (float64(uj) - mid[j])
		}
		return sum
	}
	visible := func(u []float32, st *rng.Stream, bk float64) { // u holds (Wh)_i on entry
		for j := range u {
			u[j] = float32((1-bk)*alpha[j] + bk*(s[j]+float64(u[j])) + st.NormFloat64())
		}
	}
	if err := anneal(m.W, m.C, betas, U, X, streams, logw, linear, visible, cfg); err != nil {
		return AISResult{}, err
	}
	lz, se := logMeanExp(logw)
	return AISResult{LogZ: logZA + lz, StdErr: se, LogZBase: logZA, LogWeights: logw}, nil
}
