package vae

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// TrainConfig holds the optimisation settings. Its zero value trains with Adam
// (lr 1e-3) on mini-batches of 128, seed 0: the settings of pytorch/examples vae.
// The number of epochs, the order of the examples and dynamic binarisation are
// the training driver's (model.Train). The tagged fields are `latent train`'s
// flags (model.Bind).
type TrainConfig struct {
	// BatchSize is the number of examples per step; default 128 (the last batch
	// of an epoch may be smaller).
	BatchSize int `flag:"batch" help:"examples per mini-batch" range:"[1,1000000]"`
	// LR is the learning rate; default 1e-3.
	LR float64 `flag:"lr" help:"learning rate (of the first stage under --schedule burda); a resumed run may change it" range:"(0,inf)" resume:"free"`
	// Optimizer is "adam" (default) or "sgd" (nn.Adam, nn.SGD).
	Optimizer string `flag:"optimizer" help:"optimiser" choices:"adam|sgd"`
	// Momentum is the SGD momentum (PyTorch convention); 0 for plain SGD.
	Momentum float64 `flag:"momentum" help:"SGD momentum" range:"[0,1)"`
	// Schedule sets the learning rate of each epoch: "" or "constant" keeps LR;
	// "burda" is the schedule of Burda et al. (2016, section 5): 3^i epochs at
	// LR·10^(−i/7) for i = 0, 1, …, so that epochs 1, 2–4, 5–13, … form the stages
	// and the first 3280 epochs cover i = 0…7.
	Schedule string `flag:"schedule" help:"learning-rate schedule; burda: 3^i epochs at lr·10^(-i/7), i = 0..7 (3280 epochs)" choices:"constant|burda"`
	// AdamEps is Adam's ε (0 means 1e-8; Burda et al. use 1e-4).
	AdamEps float64 `flag:"adam-eps" help:"Adam's epsilon (Burda et al. use 1e-4)" range:"(0,inf)"`
	// Seed seeds the weights (stream 0) and the noise ε of the objective (stream 1).
	Seed uint64
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
	case c.BatchSize < 0:
		return c, fmt.Errorf("vae: batch size must be >= 1, got %d", c.BatchSize)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return c, fmt.Errorf("vae: learning rate must be > 0, got %g", c.LR)
	case c.Optimizer != "adam" && c.Optimizer != "sgd":
		return c, fmt.Errorf("vae: unknown optimizer %q (want adam or sgd)", c.Optimizer)
	case c.Momentum < 0 || c.Momentum >= 1:
		return c, fmt.Errorf("vae: momentum must be in [0, 1), got %g", c.Momentum)
	case c.Schedule != "" && c.Schedule != "constant" && c.Schedule != "burda":
		return c, fmt.Errorf("vae: unknown learning-rate schedule %q (want constant or burda)", c.Schedule)
	case c.AdamEps < 0 || math.IsNaN(c.AdamEps) || math.IsInf(c.AdamEps, 0):
		return c, fmt.Errorf("vae: Adam epsilon must be >= 0, got %g", c.AdamEps)
	}
	return c, nil
}

// EpochStats summarise one epoch, per example. They hold no times, so that
// identical runs write identical model files.
type EpochStats struct {
	Epoch int     `json:"epoch"` // 1-based
	Loss  float64 `json:"loss"`  // mean training loss (−ELBO for a VAE with β = 1)
	Recon float64 `json:"recon"` // mean −log p(x|h)
	KL    float64 `json:"kl"`    // mean KL(Q‖N(0, I))
	Steps int     `json:"steps"` // total optimiser steps so far
}

// Trainer trains a Model by mini-batch stochastic optimisation, one epoch at a
// time under model.Train (it is a model.Trainer). Everything it needs to
// continue bit-identically (parameters, optimiser state, step counts, the random
// stream) is written by Save.
type Trainer struct {
	Model      *Model
	Config     TrainConfig
	EpochsDone int // completed epochs
	Steps      int // completed optimiser steps
	History    []EpochStats
	Rng        *rng.Stream // the noise ε of the training objective
	Adam       *nn.Adam    // nil unless Optimizer is "adam"
	SGD        *nn.SGD     // nil unless Optimizer is "sgd"

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
	m.Drop = *rng.NewStream(tc.Seed, 2)
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

// Kind implements model.Model: the model kind (ae, vae, cvae or convvae).
func (t *Trainer) Kind() string { return t.Model.Config.Kind }

// Dim implements model.Model.
func (t *Trainer) Dim() int { return t.Model.Dim }

// BatchSize implements model.Trainer.
func (t *Trainer) BatchSize() int { return t.Config.BatchSize }

// Epoch implements model.Trainer: one optimiser step per mini-batch of e (the
// driver's shuffle and, with dynamic binarisation, a fresh Bernoulli draw of
// every batch, as in Burda et al. 2016), at the learning rate of the schedule
// for epoch e.Index. A loss that is not finite stops the epoch with an error
// naming the step; the parameters are then those before that step.
func (t *Trainer) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	m := t.Model
	if err := m.CheckData(e.Data); err != nil {
		return model.Stats{}, err
	}
	lr := t.Config.LearningRate(e.Index)
	if t.Adam != nil {
		t.Adam.LR = lr
	} else {
		t.SGD.LR = lr
	}
	m.SetDropout(true)
	defer m.SetDropout(false)
	var sum Stats
	for {
		x, idx := e.Next(t.xb)
		if x == nil {
			break
		}
		t.xb = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		var y *tensor.Mat
		if m.Config.Kind == KindCVAE {
			t.yb = OneHot(t.yb, e.Data.Labels, idx, m.Config.CondDim)
			y = t.yb
		}
		st := m.Grad(x, y, t.Rng)
		if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
			return model.Stats{}, e.Err("vae: the training loss is %v (lower the learning rate, --lr)", st.Loss)
		}
		if t.Adam != nil {
			t.Adam.Step(t.params)
		} else {
			t.SGD.Step(t.params)
		}
		t.Steps++
		sum.N += st.N
		sum.Loss += st.Loss
		sum.Recon += st.Recon
		sum.KL += st.KL
	}
	t.EpochsDone = e.Index + 1
	es := EpochStats{Epoch: t.EpochsDone, Steps: t.Steps}
	if sum.N > 0 {
		es.Loss, es.Recon, es.KL = sum.Loss/float64(sum.N), sum.Recon/float64(sum.N), sum.KL/float64(sum.N)
	}
	t.History = append(t.History, es)
	st := model.Stats{Loss: es.Loss, LossName: t.lossName(), Metrics: []model.Metric{{Name: "recon", Value: es.Recon}}}
	if m.Variational() {
		st.Metrics = append(st.Metrics, model.Metric{Name: "kl", Value: es.KL})
		if m.Config.Beta == 1 && m.Config.IWK == 1 {
			st.Metrics = append(st.Metrics, model.Metric{Name: "elbo", Value: -es.Loss})
		}
	}
	if t.Config.Schedule == "burda" {
		st.Metrics = append(st.Metrics, model.Metric{Name: "lr", Value: lr})
	}
	return st, nil
}

// lossName names the training loss.
func (t *Trainer) lossName() string {
	c := t.Model.Config
	switch {
	case c.Kind == KindAE:
		return "-log p(x|code)"
	case c.IWK > 1:
		return fmt.Sprintf("-L_%d (IWAE bound)", c.IWK)
	case c.Beta != 1:
		return fmt.Sprintf("-ELBO (beta %g)", c.Beta)
	}
	return "-ELBO"
}

// maxParam bounds the magnitude of a sane parameter; Check calls larger values
// a divergence.
const maxParam = 1e8

// Check implements model.Checker: every parameter finite and below maxParam in
// magnitude.
func (t *Trainer) Check() error {
	for _, p := range t.params {
		if err := model.CheckFinite("vae: parameter "+p.Name, maxParam, p.W); err != nil {
			return err
		}
	}
	return nil
}

// meta is what a model file stores besides tensors.
type meta struct {
	Config  Config       `json:"config"`
	Train   TrainConfig  `json:"train"`
	Dim     int          `json:"dim"`
	Epoch   int          `json:"epoch"`
	Step    int          `json:"step"`
	Data    string       `json:"data,omitempty"` // written by older versions only (model.Settings holds it now)
	History []EpochStats `json:"history,omitempty"`
	// ClassPrior is Model.ClassPrior (absent from files written before it existed).
	ClassPrior []float64 `json:"class_prior,omitempty"`
}

// Save implements model.Model: the model, its settings and the full training
// state, in f, whose Kind becomes the model kind. The tensors share storage
// with the trainer: write the file before training on.
func (t *Trainer) Save(f *checkpoint.File) error {
	f.Kind = t.Model.Config.Kind
	if err := f.SetMeta(meta{Config: t.Model.Config, Train: t.Config, Dim: t.Model.Dim,
		Epoch: t.EpochsDone, Step: t.Steps, History: t.History, ClassPrior: t.Model.ClassPrior}); err != nil {
		return err
	}
	nn.SaveParams(f, "param", t.params)
	if t.Adam != nil {
		t.Adam.Save(f, "adam")
	}
	if t.SGD != nil {
		t.SGD.Save(f, "sgd")
	}
	if err := f.AddState("rng", t.Rng); err != nil {
		return err
	}
	if t.Model.Config.Dropout > 0 {
		return f.AddState("dropout", &t.Model.Drop)
	}
	return nil
}

// LoadTrainer rebuilds a trainer (model, optimiser state, step counts, random
// stream) from a file written by Save.
func LoadTrainer(f *checkpoint.File) (*Trainer, error) {
	switch f.Kind {
	case KindAE, KindVAE, KindCVAE, KindConvVAE:
	default:
		return nil, fmt.Errorf("vae: model file holds a %q model, not ae, vae, cvae or convvae", f.Kind)
	}
	var mt meta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	if mt.Config.Kind != f.Kind {
		return nil, fmt.Errorf("vae: the file is of kind %q and its settings describe a %q", f.Kind, mt.Config.Kind)
	}
	tc, err := mt.Train.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := New(mt.Config, mt.Dim, rng.New(0))
	if err != nil {
		return nil, err
	}
	if err := m.checkClassPrior(mt.ClassPrior); err != nil {
		return nil, err
	}
	m.ClassPrior = mt.ClassPrior
	t := &Trainer{Model: m, Config: tc, EpochsDone: mt.Epoch, Steps: mt.Step, History: mt.History, Rng: rng.New(0)}
	t.setup()
	if err := nn.LoadParams(f, "param", t.params); err != nil {
		return nil, err
	}
	if t.Adam != nil {
		if err := t.Adam.Load(f, "adam", t.params); err != nil {
			return nil, err
		}
	}
	if t.SGD != nil {
		if err := t.SGD.Load(f, "sgd", t.params); err != nil {
			return nil, err
		}
	}
	if err := f.State("rng", t.Rng); err != nil {
		return nil, err
	}
	if m.Config.Dropout > 0 {
		if err := f.State("dropout", &m.Drop); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Retune takes the learning rate from cfg (a *Flags parsed from the command line
// of a resumed run) when changed names "lr": the one setting a resumed run may
// change. Adam's moments and step count are kept; from the next epoch on, the
// schedule runs from the new rate.
func (t *Trainer) Retune(cfg any, changed []string) error {
	f, ok := cfg.(*Flags)
	if !ok {
		return fmt.Errorf("vae: retune: want *vae.Flags, got %T", cfg)
	}
	for _, k := range changed {
		if k != "lr" {
			return fmt.Errorf("vae: --%s cannot change when a run is resumed", k)
		}
		c := t.Config
		c.LR = f.LR
		c, err := c.withDefaults()
		if err != nil {
			return err
		}
		t.Config = c
	}
	return nil
}
