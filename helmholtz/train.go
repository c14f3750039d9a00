package helmholtz

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
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
	// Seed seeds the trainer's stream (Seed, 1), from which the wake samples
	// of q and the sleep phase's dreams are drawn.
	Seed uint64
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

// Trainer trains a Machine by (reweighted) wake-sleep with nn.Adam (Kingma & Ba
// 2015) on mini-batches the training driver hands it (model.Epoch), and is the
// model of a helmholtz file. Its whole state (parameters, Adam's moments and
// step count, random stream, the bound of every epoch) is saved by Save, so a
// resumed run continues bit-identically.
type Trainer struct {
	M   *Machine
	Cfg TrainConfig
	S   *rng.Stream // the wake samples and the dreams
	Opt *nn.Adam
	// Bounds holds the mean training bound of every epoch trained.
	Bounds []float64

	params  []*nn.Param // the machine's parameters (shared), G the loss gradients
	wake    pass
	sleep   pass
	streams []*rng.Stream
	weights []float32 // per wake row: w̃ / Batch
	delta   *tensor.Mat
	batch   *tensor.Mat
	lw      []float64
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
	t := &Trainer{M: m, Cfg: cfg, S: rng.NewStream(cfg.Seed, 1), Opt: nn.NewAdam(cfg.LR)}
	names := paramNames(m.Layers())
	for i, p := range m.params() {
		t.params = append(t.params, &nn.Param{Name: names[i], Shape: []int{len(p)}, W: p, G: make([]float32, len(p))})
	}
	return t, nil
}

// Epoch implements model.Trainer: one (reweighted) wake-sleep step per
// mini-batch of e. It returns the loss −B, B the mean over the examples of the
// K-sample bound of the wake phase (an ELBO for K = 1), measured with the
// parameters before each step.
func (t *Trainer) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	if d := e.Data.Dim(); d != t.M.Sizes[0] {
		return model.Stats{}, fmt.Errorf("helmholtz: the data have %d values per example, the model %d visible units", d, t.M.Sizes[0])
	}
	var sum float64
	n := 0
	for x, _ := e.Next(t.batch); x != nil; x, _ = e.Next(t.batch) {
		t.batch = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		b := t.StepBatch(x)
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return model.Stats{}, e.Err("the training bound is %v: training diverged (lower --lr)", b)
		}
		sum += b * float64(x.Rows)
		n += x.Rows
	}
	bound := sum / float64(max(n, 1))
	t.Bounds = append(t.Bounds, bound)
	return model.Stats{Loss: -bound, LossName: "-bound", Metrics: []model.Metric{
		{Name: "train_bound", Value: bound},
		{Name: "train_bound_per_epoch", Value: append([]float64(nil), t.Bounds...)},
	}}, nil
}

// StepBatch computes the (reweighted) wake-sleep gradients for the rows of x and
// takes one Adam step. It returns the mean K-sample bound of the batch.
func (t *Trainer) StepBatch(x *tensor.Mat) float64 {
	bound := t.gradients(x)
	t.Opt.Step(t.params)
	return bound
}

// gradients sets the G of t.params to the gradients of the loss, the negated
// wake-sleep objective (Adam descends). Wake phase: with h^(k) ~ q(·|x) and w̃_k
// the normalised importance weights (w̃ = 1 for K = 1), the generative loss is
// −Σ_k w̃_k log p(x, h^(k)), whose gradient is
//
//	∂/∂G_l = Σ_k w̃_k (σ(G_l h_l + c_{l-1}) - h_{l-1}) h_lᵀ,
//	∂/∂c_{l-1} = Σ_k w̃_k (σ(·) - h_{l-1}),  ∂/∂b = Σ_k w̃_k (σ(b) - h_L),
//
// and, with QWake, that of −Σ_k w̃_k log q(h^(k)|x), Σ_k w̃_k (σ(R_l h_{l-1} + r_l) - h_l) h_{l-1}ᵀ.
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
	g := t.params
	// Top prior: Σ_rows w (σ(b) - h_L).
	top := g[gi].G
	for j := range top {
		top[j] = 0
	}
	for r := 0; r < rows; r++ {
		w := t.weights[r]
		for j, h := range ps.h[l].Row(r) {
			top[j] += w * (ps.topP[j] - h)
		}
	}
	gi++
	for i := 0; i < l; i++ {
		gw, gb, rw, rb := g[gi].G, g[gi+1].G, g[gi+2].G, g[gi+3].G
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
			rw, rb := g[gi+2].G, g[gi+3].G
			gi += 4
			layerPass(sp.qa[i+1], sp.qp[i+1], sp.h[i], m.RecW[i], m.RecB[i])
			t.weightedDelta(sp.h[i+1], sp.qp[i+1], w)
			tensor.Gemm(true, false, 1, t.delta, sp.h[i], 1, tensor.FromSlice(m.Sizes[i+1], m.Sizes[i], rw))
			t.delta.SumCols(rb, 1, 1)
		}
	}
	return bound / float64(b)
}

// weightedDelta sets t.delta[r, j] = w[r] (p[r, j] - v[r, j]).
func (t *Trainer) weightedDelta(v, p *tensor.Mat, w []float32) {
	t.delta = tensor.Reuse(t.delta, v.Rows, v.Cols)
	for r := 0; r < v.Rows; r++ {
		d, vr, pr, wr := t.delta.Row(r), v.Row(r), p.Row(r), w[r]
		for j := range d {
			d[j] = wr * (pr[j] - vr[j])
		}
	}
}

// Check implements model.Checker: every parameter finite and at most 1e6 in
// magnitude (a sigmoid saturates long before; --lr 1e10 gets there in a step).
func (t *Trainer) Check() error {
	for _, p := range t.params {
		if err := model.CheckFinite(p.Name, 1e6, p.W); err != nil {
			return err
		}
	}
	return nil
}
