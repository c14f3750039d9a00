package vae

import (
	"fmt"
	"math"
	"time"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// TrainConfig holds the training settings. Its zero value trains for 10 epochs with
// Adam (lr 1e-3) on mini-batches of 128, seed 0, data used as given: the settings of
// pytorch/examples vae.
type TrainConfig struct {
	Epochs    int     // passes over the data; default 10
	BatchSize int     // examples per step; default 128 (the last batch may be smaller)
	LR        float64 // learning rate; default 1e-3
	Optimizer string  // "adam" (default) or "sgd"
	Momentum  float64 // SGD momentum (PyTorch convention); 0 for plain SGD
	Seed      uint64  // seeds the weights (stream 0) and shuffling/noise (stream 1)
	// Binarize "dynamic" draws every mini-batch afresh as x ~ Bernoulli(pixel
	// intensities) each time it is used (Burda et al. 2016); "" uses the data as given.
	Binarize string
	// Schedule sets the learning rate of each epoch: "" or "constant" keeps LR;
	// "burda" is the schedule of Burda et al. (2016, section 5): 3^i epochs at
	// LR·10^(−i/7) for i = 0, 1, …, so that epochs 1, 2–4, 5–13, … form the stages
	// and the first 3280 epochs cover i = 0…7.
	Schedule string
	// AdamEps is Adam's ε (0 means 1e-8; Burda et al. use 1e-4).
	AdamEps float64
}

// LearningRate returns the learning rate of epoch e (0-based) under the schedule.
func (c TrainConfig) LearningRate(e int) float64 {
	if c.Schedule != "burda" {
		return c.LR
	}
	// Stage i starts at epoch (3^i − 1)/2.
	i, start, length := 0, 0, 1
	for start+length <= e {
		start += length
		length *= 3
		i++
	}
	return c.LR * math.Pow(10, -float64(i)/7)
}

func (c TrainConfig) withDefaults() (TrainConfig, error) {
	if c.Epochs == 0 {
		c.Epochs = 10
	}
	if c.BatchSize == 0 {
		c.BatchSize = 128
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.Optimizer == "" {
		c.Optimizer = "adam"
	}
	switch {
	case c.Epochs < 0:
		return c, fmt.Errorf("vae: epochs must be >= 1, got %d", c.Epochs)
	case c.BatchSize < 0:
		return c, fmt.Errorf("vae: batch size must be >= 1, got %d", c.BatchSize)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return c, fmt.Errorf("vae: learning rate must be > 0, got %g", c.LR)
	case c.Optimizer != "adam" && c.Optimizer != "sgd":
		return c, fmt.Errorf("vae: unknown optimizer %q (want adam or sgd)", c.Optimizer)
	case c.Momentum < 0 || c.Momentum >= 1:
		return c, fmt.Errorf("vae: momentum must be in [0, 1), got %g", c.Momentum)
	case c.Binarize != "" && c.Binarize != "dynamic":
		return c, fmt.Errorf("vae: binarize must be \"dynamic\" or empty, got %q", c.Binarize)
	case c.Schedule != "" && c.Schedule != "constant" && c.Schedule != "burda":
		return c, fmt.Errorf("vae: unknown learning-rate schedule %q (want constant or burda)", c.Schedule)
	case c.AdamEps < 0 || math.IsNaN(c.AdamEps) || math.IsInf(c.AdamEps, 0):
		return c, fmt.Errorf("vae: Adam epsilon must be >= 0, got %g", c.AdamEps)
	}
	return c, nil
}

// EpochStats summarise one epoch, per example.
type EpochStats struct {
	Epoch   int     `json:"epoch"`   // 1-based
	Loss    float64 `json:"loss"`    // mean training loss (−ELBO for a VAE with β = 1)
	Recon   float64 `json:"recon"`   // mean −log p(x|h)
	KL      float64 `json:"kl"`      // mean KL(Q‖N(0, I))
	Steps   int     `json:"steps"`   // total optimiser steps so far
	Seconds float64 `json:"seconds"` // wall time of the epoch
}

// Trainer trains a Model by mini-batch stochastic optimisation. Everything it needs
// to continue bit-identically (parameters, optimiser state, step counts, the random
// stream) is in Checkpoint.
type Trainer struct {
	Model   *Model
	Config  TrainConfig
	Epoch   int // completed epochs
	Step    int // completed optimiser steps
	History []EpochStats
	Rng     *rng.Stream // shuffling, ε and dynamic binarisation
	Adam    *nn.Adam    // nil unless Optimizer is "adam"
	SGD     *nn.SGD     // nil unless Optimizer is "sgd"

	params []*nn.Param
	xb, yb *tensor.Mat
}

// NewTrainer returns a trainer for a fresh model built from cfg for examples of dim
// values, seeded from tc.Seed.
func NewTrainer(cfg Config, dim int, tc TrainConfig) (*Trainer, error) {
	tc, err := tc.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := New(cfg, dim, rng.NewStream(tc.Seed, 0))
	if err != nil {
		return nil, err
	}
	t := &Trainer{Model: m, Config: tc, Rng: rng.NewStream(tc.Seed, 1)}
	t.setup()
	return t, nil
}

func (t *Trainer) setup() {
	t.params = t.Model.Params()
	if t.Config.Optimizer == "sgd" {
		if t.SGD == nil {
			t.SGD = &nn.SGD{LR: t.Config.LR, Momentum: t.Config.Momentum}
		}
	} else if t.Adam == nil {
		t.Adam = nn.NewAdam(t.Config.LR)
		t.Adam.Eps = t.Config.AdamEps
	}
}

// CheckData returns an error if d cannot train or be scored by the model: wrong
// width, or a cvae without labels (or with more classes than the model knows).
func (m *Model) CheckData(d *dataset.Dataset) error {
	if d.Dim() != m.Dim {
		return fmt.Errorf("vae: data set %q has %d values per example, the %s has %d", d.Name, d.Dim(), m.Config.Kind, m.Dim)
	}
	if m.Config.Kind == KindConvVAE && (d.Height != 0 || d.Width != 0) &&
		(d.Height != m.Config.Height || d.Width != m.Config.Width || max(d.Channels, 1) != m.Config.Channels) {
		return fmt.Errorf("vae: data set %q has %d×%d×%d images, the convvae expects %d×%d×%d",
			d.Name, d.Height, d.Width, d.Channels, m.Config.Height, m.Config.Width, m.Config.Channels)
	}
	if m.Config.Kind == KindCVAE {
		if d.Labels == nil {
			return fmt.Errorf("vae: cvae needs labels, data set %q has none", d.Name)
		}
		for i, l := range d.Labels {
			if l < 0 || l >= m.Config.CondDim {
				return fmt.Errorf("vae: data set %q: label %d of example %d is outside the cvae's %d classes", d.Name, l, i, m.Config.CondDim)
			}
		}
	}
	return nil
}

// OneHot sets dst (len(idx) × classes) to the one-hot codes of labels[idx[i]].
func OneHot(dst *tensor.Mat, labels []int, idx []int, classes int) *tensor.Mat {
	dst = tensor.Reuse(dst, len(idx), classes)
	dst.Zero()
	for i, r := range idx {
		dst.Set(i, labels[r], 1)
	}
	return dst
}

// TrainEpoch runs one pass over d in a random order and returns its statistics. A
// loss that is not finite stops training with an error naming the step; the
// parameters are then those before that step.
func (t *Trainer) TrainEpoch(d *dataset.Dataset) (EpochStats, error) {
	m := t.Model
	if err := m.CheckData(d); err != nil {
		return EpochStats{}, err
	}
	if m.Config.Kind == KindCVAE && m.ClassPrior == nil && d.Len() > 0 {
		m.ClassPrior = ClassFrequencies(d.Labels, m.Config.CondDim)
	}
	start := time.Now()
	n := d.Len()
	perm := t.Rng.Perm(n)
	lr := t.Config.LearningRate(t.Epoch)
	if t.Adam != nil {
		t.Adam.LR = lr
	} else {
		t.SGD.LR = lr
	}
	var sum Stats
	for b0 := 0; b0 < n; b0 += t.Config.BatchSize {
		idx := perm[b0:min(b0+t.Config.BatchSize, n)]
		t.xb = d.Gather(t.xb, idx)
		if t.Config.Binarize == "dynamic" {
			t.Rng.FillBernoulli(t.xb.Data, t.xb.Data)
		}
		var y *tensor.Mat
		if m.Config.Kind == KindCVAE {
			t.yb = OneHot(t.yb, d.Labels, idx, m.Config.CondDim)
			y = t.yb
		}
		st := m.Grad(t.xb, y, t.Rng)
		if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
			return EpochStats{}, fmt.Errorf("vae: training loss is %v at step %d (epoch %d); try a smaller learning rate", st.Loss, t.Step+1, t.Epoch+1)
		}
		if t.Adam != nil {
			t.Adam.Step(t.params)
		} else {
			t.SGD.Step(t.params)
		}
		t.Step++
		sum.N += st.N
		sum.Loss += st.Loss
		sum.Recon += st.Recon
		sum.KL += st.KL
	}
	t.Epoch++
	es := EpochStats{Epoch: t.Epoch, Steps: t.Step, Seconds: time.Since(start).Seconds()}
	if sum.N > 0 {
		es.Loss, es.Recon, es.KL = sum.Loss/float64(sum.N), sum.Recon/float64(sum.N), sum.KL/float64(sum.N)
	}
	t.History = append(t.History, es)
	return es, nil
}

// Eval holds data-set averages, in nats per example.
type Eval struct {
	N      int     `json:"n"`
	ELBO   float64 `json:"elbo"`           // mean ELBO (β = 1); for ae the reconstruction log-likelihood
	LogLik float64 `json:"log_likelihood"` // mean importance-weighted log p(x) estimate (k > 0, VAEs)
	K      int     `json:"k"`              // importance samples (0: LogLik not computed)
}

// Evaluate scores d. With k ≥ 1 it returns the importance-weighted log-likelihood
// estimate with k samples (see LogLikelihood) and the ELBO as the mean log-weight
// over the same samples; with k = 0, only a one-sample ELBO. Noise comes from s.
func (m *Model) Evaluate(d *dataset.Dataset, k int, s *rng.Stream) (Eval, error) {
	if err := m.CheckData(d); err != nil {
		return Eval{}, err
	}
	if k < 0 {
		return Eval{}, fmt.Errorf("vae: importance samples must be >= 0, got %d", k)
	}
	if !m.Variational() {
		k = 0
	}
	ev := Eval{N: d.Len(), K: k}
	const batch = 500
	ll, elbo := make([]float64, batch), make([]float64, batch)
	var y *tensor.Mat
	idx := make([]int, 0, batch)
	var sumLL, sumELBO float64
	for b0 := 0; b0 < d.Len(); b0 += batch {
		b1 := min(b0+batch, d.Len())
		x := d.X.Slice(b0, b1)
		if m.Config.Kind == KindCVAE {
			idx = idx[:0]
			for i := b0; i < b1; i++ {
				idx = append(idx, i)
			}
			y = OneHot(y, d.Labels, idx, m.Config.CondDim)
		}
		n := b1 - b0
		if k > 0 {
			m.LogLikelihood(ll[:n], elbo[:n], x, y, k, s)
		} else {
			m.ELBO(elbo[:n], x, y, s)
		}
		for i := 0; i < n; i++ {
			sumLL += ll[i]
			sumELBO += elbo[i]
		}
	}
	if ev.N > 0 {
		ev.ELBO = sumELBO / float64(ev.N)
		if k > 0 {
			ev.LogLik = sumLL / float64(ev.N)
		}
	}
	return ev, nil
}

// meta is what a checkpoint stores besides tensors.
type meta struct {
	Config  Config       `json:"config"`
	Train   TrainConfig  `json:"train"`
	Dim     int          `json:"dim"`
	Epoch   int          `json:"epoch"`
	Step    int          `json:"step"`
	Data    string       `json:"data,omitempty"`
	History []EpochStats `json:"history,omitempty"`
	// ClassPrior is Model.ClassPrior (absent from files written before it existed).
	ClassPrior []float64 `json:"class_prior,omitempty"`
}

// Checkpoint returns a model file holding the model, its settings and the full
// training state. Its Kind is the model kind. The tensors share storage with the
// trainer: save the file before training on.
func (t *Trainer) Checkpoint(dataName string) (*checkpoint.File, error) {
	f := &checkpoint.File{Kind: t.Model.Config.Kind}
	if err := f.SetMeta(meta{Config: t.Model.Config, Train: t.Config, Dim: t.Model.Dim,
		Epoch: t.Epoch, Step: t.Step, Data: dataName, History: t.History, ClassPrior: t.Model.ClassPrior}); err != nil {
		return nil, err
	}
	nn.SaveParams(f, "param", t.params)
	if t.Adam != nil {
		t.Adam.Save(f, "adam")
	}
	if t.SGD != nil {
		t.SGD.Save(f, "sgd")
	}
	st, err := t.Rng.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("vae: random stream: %w", err)
	}
	f.AddBytes("rng", st)
	return f, nil
}

// LoadTrainer rebuilds a trainer (model, optimiser state, step counts, random
// stream) from a file written by Checkpoint. It also returns the data spec stored
// with it.
func LoadTrainer(f *checkpoint.File) (*Trainer, string, error) {
	switch f.Kind {
	case KindAE, KindVAE, KindCVAE, KindConvVAE:
	default:
		return nil, "", fmt.Errorf("vae: model file holds a %q model, not ae, vae, cvae or convvae", f.Kind)
	}
	var mt meta
	if err := f.GetMeta(&mt); err != nil {
		return nil, "", err
	}
	tc, err := mt.Train.withDefaults()
	if err != nil {
		return nil, "", err
	}
	m, err := New(mt.Config, mt.Dim, rng.New(0))
	if err != nil {
		return nil, "", err
	}
	if err := m.checkClassPrior(mt.ClassPrior); err != nil {
		return nil, "", err
	}
	m.ClassPrior = mt.ClassPrior
	t := &Trainer{Model: m, Config: tc, Epoch: mt.Epoch, Step: mt.Step, History: mt.History, Rng: rng.New(0)}
	t.setup()
	if err := nn.LoadParams(f, "param", t.params); err != nil {
		return nil, "", err
	}
	if t.Adam != nil {
		if err := t.Adam.Load(f, "adam", t.params); err != nil {
			return nil, "", err
		}
	}
	if t.SGD != nil {
		if err := t.SGD.Load(f, "sgd", t.params); err != nil {
			return nil, "", err
		}
	}
	st, err := f.Bytes("rng")
	if err != nil {
		return nil, "", err
	}
	if err := t.Rng.UnmarshalBinary(st); err != nil {
		return nil, "", fmt.Errorf("vae: %w", err)
	}
	return t, mt.Data, nil
}
