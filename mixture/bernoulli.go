package mixture

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// BernoulliConfig holds the settings of FitBernoulli.
type BernoulliConfig struct {
	Components int // K >= 1
	// PriorA and PriorB are the parameters of the Beta(a, b) prior on every
	// probability μ_kd; the M-step is then a MAP estimate and keeps μ in
	// [(a-1)/(N_k+a+b-2), (N_k+a-1)/(N_k+a+b-2)], off 0 and 1 when a, b > 1.
	// Zero means 2 (one pseudo-count each way); both must be >= 1.
	PriorA, PriorB float64
	EM             EMConfig // MaxIter (default 100), Tol (default 1e-3)
	NInit          int      // restarts, keeping the lowest free energy; default 1
	// InitIters is the number of Lloyd iterations after k-means++ seeding (0: none).
	InitIters int
	Seed      uint64
	Init      *BernoulliMixture // initial parameters instead of k-means++, when non-nil
	FastMath  bool              // products through float32 tensor.Gemm (see package doc)
}

// BernoulliMixture is a mixture of K products of D Bernoulli distributions,
//
//	p(x) = Σ_k π_k Π_d μ_kd^x_d (1 - μ_kd)^(1-x_d),
//
// fitted with a Beta(a, b) prior on every μ_kd.
type BernoulliMixture struct {
	K, D           int
	Weights        []float64 // π, len K
	Probs          []float64 // μ, K×D row-major, in (0, 1)
	PriorA, PriorB float64
	FastMath       bool

	logit []float64 // K×D: log μ - log(1-μ)
	log0  []float64 // K: Σ_d log(1-μ_kd)
}

// NewBernoulliMixture returns a mixture with the given parameters (copied), prior
// Beta(a, b). It returns an error when a probability is outside (0, 1).
func NewBernoulliMixture(weights, probs []float64, a, b float64) (*BernoulliMixture, error) {
	k := len(weights)
	if k == 0 || len(probs)%k != 0 || len(probs) == 0 {
		return nil, fmt.Errorf("mixture: %d weights and %d probabilities do not fit K×D", k, len(probs))
	}
	if !(a >= 1) || !(b >= 1) {
		return nil, fmt.Errorf("mixture: Beta prior needs a, b >= 1, got a=%v b=%v", a, b)
	}
	m := &BernoulliMixture{K: k, D: len(probs) / k, PriorA: a, PriorB: b,
		Weights: append([]float64(nil), weights...), Probs: append([]float64(nil), probs...)}
	for i, w := range weights {
		if !(w > 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("mixture: weight %d = %v, must be positive", i, w)
		}
	}
	for i, p := range probs {
		if !(p > 0 && p < 1) {
			return nil, fmt.Errorf("mixture: probability %d = %v, must be in (0, 1)", i, p)
		}
	}
	m.prepare()
	return m, nil
}

// newBernoulli returns a mixture with zero parameters, for EM to initialise.
func newBernoulli(k, d int, a, b float64, fast bool) *BernoulliMixture {
	return &BernoulliMixture{K: k, D: d, PriorA: a, PriorB: b, FastMath: fast,
		Weights: make([]float64, k), Probs: make([]float64, k*d)}
}

func (m *BernoulliMixture) prepare() {
	m.logit = resize(m.logit, m.K*m.D)
	m.log0 = resize(m.log0, m.K)
	for c := 0; c < m.K; c++ {
		var s float64
		for j := 0; j < m.D; j++ {
			p := m.Probs[c*m.D+j]
			l1 := math.Log1p(-p)
			m.logit[c*m.D+j] = math.Log(p) - l1
			s += l1
		}
		m.log0[c] = s
	}
}

// NumComponents returns K.
func (m *BernoulliMixture) NumComponents() int { return m.K }

// LogPrior returns the log density of the Beta(a, b) prior at the current
// probabilities,
//
//	log p(G) = Σ_kd [(a-1) log μ_kd + (b-1) log(1-μ_kd) - log B(a, b)].
func (m *BernoulliMixture) LogPrior() float64 {
	a, b := m.PriorA, m.PriorB
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	logB := la + lb - lab
	var s float64
	for _, p := range m.Probs {
		s += (a-1)*math.Log(p) + (b-1)*math.Log1p(-p)
	}
	return s - float64(len(m.Probs))*logB
}

// LogJoint sets dst[n*K+k] = log π_k + Σ_d [x_nd log μ_kd + (1-x_nd) log(1-μ_kd)]
// = log π_k + Σ_d log(1-μ_kd) + Σ_d x_nd logit μ_kd.
// It panics if x.Cols != D or len(dst) != x.Rows*K.
func (m *BernoulliMixture) LogJoint(dst []float64, x *tensor.Mat) {
	k, d := m.K, m.D
	if x.Cols != d || len(dst) != x.Rows*k {
		panic(fmt.Sprintf("mixture: LogJoint: x %d×%d, dst %d for K=%d D=%d", x.Rows, x.Cols, len(dst), k, d))
	}
	base := make([]float64, k)
	for c := range base {
		base[c] = math.Log(m.Weights[c]) + m.log0[c]
	}
	if m.FastMath {
		w := tensor.New(k, d)
		for i, v := range m.logit {
			w.Data[i] = float32(v)
		}
		tensor.ParallelFor(x.Rows, rowChunk, func(lo, hi int) {
			zb := getF32((hi - lo) * k)
			z := tensor.FromSlice(hi-lo, k, zb)
			gemm32(false, true, x.Slice(lo, hi), w, z)
			for i := lo; i < hi; i++ {
				zr := z.Row(i - lo)
				out := dst[i*k : (i+1)*k]
				for c := range out {
					out[c] = base[c] + float64(zr[c])
				}
			}
			putF32(zb)
		})
		return
	}
	tensor.ParallelFor(x.Rows, rowChunk, func(lo, hi int) {
		idx := make([]int, 0, d)
		val := make([]float64, 0, d)
		for i := lo; i < hi; i++ {
			idx, val = idx[:0], val[:0]
			for j, v := range x.Row(i) { // sparse: binary images are mostly 0
				if v != 0 {
					idx = append(idx, j)
					val = append(val, float64(v))
				}
			}
			out := dst[i*k : (i+1)*k]
			for c := range out {
				lg := m.logit[c*d : (c+1)*d]
				var s float64
				for p, j := range idx {
					s += val[p] * lg[j]
				}
				out[c] = base[c] + s
			}
		}
	})
}

// mBlock is the number of rows whose sufficient statistics are summed together
// before the blocks are added in order (a fixed constant: results do not depend on
// the number of workers).
const mBlock = 8192

// MStep sets, with N_k = Σ_n r_nk + 10ε,
//
//	π_k = N_k / Σ_j N_j,   μ_kd = (Σ_n r_nk x_nd + a - 1) / (N_k + a + b - 2),
//
// the maximum of E_Q[log p(x, k | G)] + log p(G) under the Beta(a, b) prior.
func (m *BernoulliMixture) MStep(x *tensor.Mat, resp []float64) error {
	k, d, n := m.K, m.D, x.Rows
	nb := (n + mBlock - 1) / mBlock
	part := make([]float64, nb*k*(d+1))
	tensor.ParallelFor(n, mBlock, func(lo, hi int) {
		p := part[(lo/mBlock)*k*(d+1) : (lo/mBlock+1)*k*(d+1)]
		if m.FastMath {
			const sub = 1024
			rb := getF32(sub * k)
			sb := getF32(k * d)
			st := tensor.FromSlice(k, d, sb)
			for s0 := lo; s0 < hi; s0 += sub {
				s1 := min(s0+sub, hi)
				r := tensor.FromSlice(s1-s0, k, rb[:(s1-s0)*k])
				for i := s0; i < s1; i++ {
					rr := r.Row(i - s0)
					for c := range rr {
						rv := resp[i*k+c]
						rr[c] = float32(rv)
						p[c*(d+1)+d] += rv
					}
				}
				gemm32(true, false, r, x.Slice(s0, s1), st) // (K, D) = Rᵀ X
				for c := 0; c < k; c++ {
					pc := p[c*(d+1) : c*(d+1)+d]
					for j, v := range st.Row(c) {
						pc[j] += float64(v)
					}
				}
			}
			putF32(rb)
			putF32(sb)
			return
		}
		for i := lo; i < hi; i++ {
			xr := x.Row(i)
			for c := 0; c < k; c++ {
				r := resp[i*k+c]
				if r == 0 {
					continue
				}
				pc := p[c*(d+1) : (c+1)*(d+1)]
				pc[d] += r
				for j, v := range xr {
					if v != 0 {
						pc[j] += r * float64(v)
					}
				}
			}
		}
	})
	sum := make([]float64, k*(d+1))
	for b := 0; b < nb; b++ {
		for j, v := range part[b*k*(d+1) : (b+1)*k*(d+1)] {
			sum[j] += v
		}
	}
	var ntot float64
	for c := 0; c < k; c++ {
		ntot += sum[c*(d+1)+d] + 10*epsilon
	}
	a, b := m.PriorA, m.PriorB
	for c := 0; c < k; c++ {
		nk := sum[c*(d+1)+d] + 10*epsilon
		m.Weights[c] = nk / ntot
		for j := 0; j < d; j++ {
			mu := (sum[c*(d+1)+j] + a - 1) / (nk + a + b - 2)
			if !(mu > 0 && mu < 1) {
				return fmt.Errorf("mixture: component %d probability %d is %v (N_k = %v, prior a=%v b=%v): use a, b > 1", c, j, mu, nk, a, b)
			}
			m.Probs[c*d+j] = mu
		}
	}
	m.prepare()
	return nil
}

// NumParams returns K-1 + K·D.
func (m *BernoulliMixture) NumParams() int { return m.K - 1 + m.K*m.D }

// FitBernoulli fits a Bernoulli mixture to the rows of x (values in [0, 1]) by EM
// with the Beta prior (MAP), NInit times from k-means++ initialisations (or once
// from cfg.Init), keeping the lowest final free energy.
func FitBernoulli(x *tensor.Mat, cfg BernoulliConfig) (*BernoulliMixture, Result, error) {
	k, d := cfg.Components, x.Cols
	if err := checkData(x, k); err != nil {
		return nil, Result{}, err
	}
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			if v < 0 || v > 1 {
				return nil, Result{}, fmt.Errorf("mixture: Bernoulli data must be in [0, 1]: row %d column %d is %v", i, j, v)
			}
		}
	}
	a, b := cfg.PriorA, cfg.PriorB
	if a == 0 {
		a = 2
	}
	if b == 0 {
		b = 2
	}
	if !(a >= 1) || !(b >= 1) {
		return nil, Result{}, fmt.Errorf("mixture: Beta prior needs PriorA, PriorB >= 1, got a=%v b=%v", a, b)
	}
	m := newBernoulli(k, d, a, b, cfg.FastMath)
	nInit := cfg.NInit
	if cfg.Init != nil {
		if cfg.Init.K != k || cfg.Init.D != d {
			return nil, Result{}, fmt.Errorf("mixture: Init has K=%d D=%d, want K=%d D=%d", cfg.Init.K, cfg.Init.D, k, d)
		}
		nInit = 1
	}
	init := func(i int) error {
		if cfg.Init != nil {
			copy(m.Weights, cfg.Init.Weights)
			copy(m.Probs, cfg.Init.Probs)
			m.prepare()
			return nil
		}
		return initKMeans(m, x, max(cfg.InitIters, 0), rng.NewStream(cfg.Seed, uint64(i)))
	}
	save := func() any {
		return [2][]float64{append([]float64(nil), m.Weights...), append([]float64(nil), m.Probs...)}
	}
	restore := func(p any) {
		s := p.([2][]float64)
		copy(m.Weights, s[0])
		copy(m.Probs, s[1])
		m.prepare()
	}
	res, err := fitRestarts(nInit, m, x, cfg.EM, init, save, restore)
	if err != nil {
		return nil, res, err
	}
	return m, res, nil
}

// Sample draws n binary points: k ~ π, then x_d ~ Bernoulli(μ_kd). It returns the
// points (n×D) and their components.
func (m *BernoulliMixture) Sample(n int, s *rng.Stream) (*tensor.Mat, []int) {
	return m.SampleComponent(n, -1, s)
}

// SampleComponent draws n points from component c (c < 0: a component k ~ π for
// each point, as Sample). It panics if c >= K.
func (m *BernoulliMixture) SampleComponent(n, c int, s *rng.Stream) (*tensor.Mat, []int) {
	if c >= m.K {
		panic(fmt.Sprintf("mixture: SampleComponent: component %d of %d", c, m.K))
	}
	out := tensor.New(n, m.D)
	labels := make([]int, n)
	fixed := c
	for i := 0; i < n; i++ {
		c := fixed
		if c < 0 {
			c = drawCategorical(m.Weights, s)
		}
		labels[i] = c
		row := out.Row(i)
		for j := range row {
			if s.Float64() < m.Probs[c*m.D+j] {
				row[j] = 1
			}
		}
	}
	return out, labels
}

// Predict returns the most probable component of every row of x.
func (m *BernoulliMixture) Predict(x *tensor.Mat) []int { return Predict(m, nil, x) }

// PredictProba returns p(k | x_n), n×K row-major.
func (m *BernoulliMixture) PredictProba(x *tensor.Mat) []float64 { return PredictProba(m, nil, x) }

// ScoreSamples returns log p(x_n) for every row.
func (m *BernoulliMixture) ScoreSamples(x *tensor.Mat) []float64 { return ScoreSamples(m, nil, x) }

// Score returns the mean log-likelihood per example.
func (m *BernoulliMixture) Score(x *tensor.Mat) float64 { return Score(m, x) }

// BIC returns -2 Σ log p(x_n) + NumParams·log n.
func (m *BernoulliMixture) BIC(x *tensor.Mat) float64 { return BIC(m, m.NumParams(), x) }

// AIC returns -2 Σ log p(x_n) + 2·NumParams.
func (m *BernoulliMixture) AIC(x *tensor.Mat) float64 { return AIC(m, m.NumParams(), x) }
