package helmholtz

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// TrainConfig holds the settings of wake-sleep training.
type TrainConfig struct {
	// K is the number of samples of q per example in the wake phase. K = 1 with
	// QWake off is plain wake-sleep; K > 1 is reweighted wake-sleep.
	K int
	// QWake adds the wake-phase update of q, Σ_k w̃_k ∇ log q(h^(k)|x) (RWS).
	QWake bool
	// QSleep adds the sleep-phase update of q, ∇ log q(h|x) on dreams (x, h) ~ p.
	QSleep bool
	Batch  int     // examples per step; 0 means 100
	LR     float64 // Adam learning rate; 0 means 1e-3
	Seed   uint64
	// Dynamic draws a fresh binarisation of every mini-batch (values in [0, 1] are
	// Bernoulli means), from the trainer's stream.
	Dynamic bool `json:",omitempty"`
}

// WakeSleep returns the settings of plain wake-sleep (Hinton et al. 1995).
func WakeSleep() TrainConfig { return TrainConfig{K: 1, QSleep: true} }

// Reweighted returns the settings of reweighted wake-sleep with k samples and both
// q updates (Bornschein & Bengio 2015, section 4).
func Reweighted(k int) TrainConfig { return TrainConfig{K: k, QWake: true, QSleep: true} }

func (c TrainConfig) withDefaults() TrainConfig {
	if c.K == 0 {
		c.K = 1
	}
	if c.Batch == 0 {
		c.Batch = 100
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	return c
}

// Validate reports a setting out of range.
func (c TrainConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.K < 1:
		return fmt.Errorf("helmholtz: K must be >= 1, got %d", c.K)
	case c.Batch < 1:
		return fmt.Errorf("helmholtz: Batch must be >= 1, got %d", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("helmholtz: LR must be > 0, got %v", c.LR)
	case !c.QWake && !c.QSleep:
		return fmt.Errorf("helmholtz: at least one of QWake and QSleep must be set, or q never learns")
	}
	return nil
}

// Trainer trains a Machine by (reweighted) wake-sleep with Adam (Kingma & Ba 2015).
// Its whole state (parameters, Adam moments, step, epoch, random stream) is saved by
// Save, so a resumed run continues bit-identically.
type Trainer struct {
	M     *Machine
	Cfg   TrainConfig
	Epoch int // epochs completed
	Step  int // Adam steps taken
	S     *rng.Stream

	mom, vel [][]float32 // Adam moments, as M.params()
	grad     [][]float32
	wake     pass
	sleep    pass
	streams  []*rng.Stream
	weights  []float32 // per wake row: w̃ / Batch
	delta    *tensor.Mat
	batch    *tensor.Mat
	perm     []int
	lw       []float64
}

func resize64(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}

// NewTrainer returns a trainer for m. It returns an error for invalid settings.
func NewTrainer(m *Machine, cfg TrainConfig) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	t := &Trainer{M: m, Cfg: cfg, S: rng.NewStream(cfg.Seed, 1)}
	for _, p := range m.params() {
		t.mom = append(t.mom, make([]float32, len(p)))
		t.vel = append(t.vel, make([]float32, len(p)))
		t.grad = append(t.grad, make([]float32, len(p)))
	}
	return t, nil
}

// Stats summarises one epoch.
type Stats struct {
	// Bound is the mean over examples of log (1/K) Σ_k p(x, h^(k))/q(h^(k)|x) for the
	// wake samples (an ELBO for K = 1, a K-sample importance-weighted bound otherwise),
	// measured with the parameters before each step.
	Bound float64
}

// TrainEpoch runs one pass over the rows of x in a random order (batches of
// Cfg.Batch; a last partial batch is used too).
func (t *Trainer) TrainEpoch(x *tensor.Mat) (Stats, error) {
	if x.Cols != t.M.Sizes[0] {
		return Stats{}, fmt.Errorf("helmholtz: data has %d columns, model has %d visible units", x.Cols, t.M.Sizes[0])
	}
	n := x.Rows
	if cap(t.perm) < n {
		t.perm = make([]int, n)
	}
	t.perm = t.perm[:n]
	for i := range t.perm {
		t.perm[i] = i
	}
	t.S.Shuffle(n, func(i, j int) { t.perm[i], t.perm[j] = t.perm[j], t.perm[i] })
	var bound float64
	for b := 0; b < n; b += t.Cfg.Batch {
		idx := t.perm[b:min(b+t.Cfg.Batch, n)]
		t.batch = tensor.Reuse(t.batch, len(idx), x.Cols)
		for i, r := range idx {
			copy(t.batch.Row(i), x.Row(r))
		}
		if t.Cfg.Dynamic {
			dataset.BinarizeBatch(t.batch, t.S)
		}
		bd := t.StepBatch(t.batch)
		if math.IsNaN(bd) {
			return Stats{}, fmt.Errorf("helmholtz: bound became NaN at epoch %d step %d", t.Epoch+1, t.Step)
		}
		bound += bd * float64(len(idx))
	}
	t.Epoch++
	return Stats{Bound: bound / float64(n)}, nil
}

// StepBatch computes the (reweighted) wake-sleep gradients for the rows of x and
// takes one Adam ascent step. It returns the mean K-sample bound of the batch.
func (t *Trainer) StepBatch(x *tensor.Mat) float64 {
	bound := t.gradients(x)
	t.adam()
	return bound
}

// gradients fills t.grad. Wake phase: with h^(k) ~ q(·|x) and w̃_k the normalised
// importance weights (w̃ = 1 for K = 1), the generative gradient is
//
//	Σ_k w̃_k ∇_G log p(x, h^(k)):  ∂/∂G_l = Σ_k w̃_k (h_{l-1} - σ(G_l h_l + c_{l-1})) h_lᵀ,
//	∂/∂c_{l-1} = Σ_k w̃_k (h_{l-1} - σ(·)),  ∂/∂b = Σ_k w̃_k (h_L - σ(b)),
//
// and, with QWake, the recognition gradient Σ_k w̃_k (h_l - σ(R_l h_{l-1} + r_l)) h_{l-1}ᵀ.
// Sleep phase (QSleep): (x, h) ~ p and the same recognition gradient with weight 1.
// All gradients are averaged over the examples of the batch.
func (t *Trainer) gradients(x *tensor.Mat) float64 {
	m, k, l := t.M, t.Cfg.K, t.M.Layers()
	b := x.Rows
	rows := b * k
	ps := &t.wake
	ps.ensure(m, rows)
	if cap(t.streams) < rows {
		t.streams = make([]*rng.Stream, rows)
	}
	t.streams = t.streams[:rows]
	for i := range t.streams {
		t.streams[i] = t.S
	}
	for e := 0; e < b; e++ { // row e*K + s is sample s of example e
		for s := 0; s < k; s++ {
			copy(ps.h[0].Row(e*k+s), x.Row(e))
		}
	}
	m.recognise(ps, t.streams, true)
	m.generativeScore(ps, true)
	if cap(t.weights) < rows {
		t.weights = make([]float32, rows)
	}
	t.weights = t.weights[:rows]
	var bound float64
	t.lw = resize64(t.lw, k)
	lw := t.lw
	for e := 0; e < b; e++ {
		for s := range lw {
			lw[s] = ps.logp[e*k+s] - ps.logq[e*k+s]
		}
		lme := logMeanExp(lw)
		bound += lme
		for s := range lw { // w̃_s = exp(lw_s - log Σ exp lw) = exp(lw_s - lme)/K
			t.weights[e*k+s] = float32(math.Exp(lw[s]-lme) / float64(k) / float64(b))
		}
	}
	gi := 0
	g := t.grad
	// Top prior: Σ_rows w (h_L - σ(b)).
	top := g[gi]
	for j := range top {
		top[j] = 0
	}
	for r := 0; r < rows; r++ {
		w := t.weights[r]
		for j, h := range ps.h[l].Row(r) {
			top[j] += w * (h - ps.topP[j])
		}
	}
	gi++
	for i := 0; i < l; i++ {
		gw, gb, rw, rb := g[gi], g[gi+1], g[gi+2], g[gi+3]
		gi += 4
		// Generative layer i given h_{i+1}.
		t.weightedDelta(ps.h[i], ps.gp[i], t.weights)
		tensor.Gemm(true, false, 1, t.delta, ps.h[i+1], 0, tensor.FromSlice(m.Sizes[i], m.Sizes[i+1], gw))
		t.delta.SumCols(gb, 1, 0)
		for j := range rw {
			rw[j] = 0
		}
		for j := range rb {
			rb[j] = 0
		}
		if t.Cfg.QWake {
			t.weightedDelta(ps.h[i+1], ps.qp[i+1], t.weights)
			tensor.Gemm(true, false, 1, t.delta, ps.h[i], 0, tensor.FromSlice(m.Sizes[i+1], m.Sizes[i], rw))
			t.delta.SumCols(rb, 1, 0)
		}
	}
	if t.Cfg.QSleep {
		sp := &t.sleep
		sp.ensure(m, b)
		m.dream(sp, t.S)
		if cap(t.weights) < b {
			t.weights = make([]float32, b)
		}
		w := t.weights[:b]
		for r := range w {
			w[r] = 1 / float32(b)
		}
		gi = 1
		for i := 0; i < l; i++ {
			rw, rb := g[gi+2], g[gi+3]
			gi += 4
			layerPass(sp.qa[i+1], sp.qp[i+1], sp.h[i], m.RecW[i], m.RecB[i])
			t.weightedDelta(sp.h[i+1], sp.qp[i+1], w)
			tensor.Gemm(true, false, 1, t.delta, sp.h[i], 1, tensor.FromSlice(m.Sizes[i+1], m.Sizes[i], rw))
			t.delta.SumCols(rb, 1, 1)
		}
	}
	return bound / float64(b)
}

// weightedDelta sets t.delta[r, j] = w[r] (v[r, j] - p[r, j]).
func (t *Trainer) weightedDelta(v, p *tensor.Mat, w []float32) {
	t.delta = tensor.Reuse(t.delta, v.Rows, v.Cols)
	for r := 0; r < v.Rows; r++ {
		d, vr, pr, wr := t.delta.Row(r), v.Row(r), p.Row(r), w[r]
		for j := range d {
			d[j] = wr * (vr[j] - pr[j])
		}
	}
}

// adam takes one ascent step θ ← θ + lr·m̂/(√v̂ + ε), β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
func (t *Trainer) adam() {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	t.Step++
	bc1 := 1 - math.Pow(b1, float64(t.Step))
	bc2 := 1 - math.Pow(b2, float64(t.Step))
	step := float32(t.Cfg.LR / bc1)
	isq := float32(1 / math.Sqrt(bc2))
	for pi, p := range t.M.params() {
		mo, ve, g := t.mom[pi], t.vel[pi], t.grad[pi]
		for i, gi := range g {
			mi := b1*mo[i] + (1-b1)*gi
			vi := b2*ve[i] + (1-b2)*gi*gi
			mo[i], ve[i] = mi, vi
			p[i] += step * mi / (float32(math.Sqrt(float64(vi)))*isq + eps)
		}
	}
}
