package vae

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
)

// Flags is the configuration `latent train ae|vae|cvae|convvae` binds to its
// flags: the model's Config and the TrainConfig (model.Bind). The image shape,
// the number of classes and the seed come from the training data and the run.
type Flags struct {
	Config
	TrainConfig
}

// DefaultFlags returns the defaults of `latent train kind`: pytorch/examples
// vae's 20-dimensional latent space, one hidden layer of 400 ReLU units (16 for
// convvae, the Keras example), a Bernoulli decoder, Adam at 1e-3 on batches of
// 128.
func DefaultFlags(kind string) *Flags {
	hidden := []int{400}
	if kind == KindConvVAE {
		hidden = []int{16}
	}
	return &Flags{
		Config: Config{Kind: kind, Latent: 20, Hidden: hidden, Activation: "relu", Decoder: Bernoulli,
			Beta: 1, IWK: 1, Init: "lecun-uniform"},
		TrainConfig: TrainConfig{BatchSize: 128, LR: 1e-3, Optimizer: "adam", Schedule: "constant", AdamEps: 1e-8},
	}
}

// Validate checks the settings that depend on one another (model.Validate
// calls it after the range and choices of every flag); errors name the flag.
func (f *Flags) Validate() error {
	c := f.Config
	switch {
	case c.IWK > 1 && c.Beta != 1:
		return model.Flagf("beta", "the IWAE objective (--iw-k %d) has no KL weight; --beta must be 1, got %g", c.IWK, c.Beta)
	case c.IWK > 1 && c.Kind == KindAE:
		return model.Flagf("iw-k", "an autoencoder has no importance weights; must be 1, got %d", c.IWK)
	case c.Kind == KindConvVAE && len(c.Hidden) != 1:
		return model.Flagf("hidden", "convvae takes one dense hidden size, got %s", intsText(c.Hidden))
	case len(c.Hidden) == 0:
		return model.Flagf("hidden", "needs at least one hidden layer size")
	case c.Decoder == Bernoulli && c.Sigma2 != 0:
		return model.Flagf("sigma2", "is the variance of a Gaussian decoder; add --decoder gaussian")
	}
	return nil
}

func intsText(v []int) string {
	s := ""
	for i, n := range v {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(n)
	}
	return s
}

const doc = `Flags (model): --latent D, --hidden H1,H2,... (the decoder mirrors the encoder),
--activation, --decoder bernoulli|gaussian (--sigma2: its variance, 0 learned),
--beta (the KL weight; 1 is the ELBO), --iw-k K (K > 1 trains on the IWAE bound
L_K of Burda et al. 2016), --init.
Flags (optimiser): --batch, --lr, --optimizer adam|sgd (--momentum for sgd,
--adam-eps for adam), --schedule constant|burda (Burda et al.'s 3^i epochs at
lr·10^(-i/7), i = 0..7: 3280 epochs).
--binarize dynamic draws every mini-batch afresh as Bernoulli(pixel intensities)
(Burda et al.); --test SPEC reports a one-sample test ELBO after every epoch;
--pictures DIR writes samples.png, reconstructions.png (captioned: data above its
reconstruction) and, after the last epoch, traversals.png (one row per latent
dimension, each tile captioned with its dimension and value) and, for a 2-D
latent space, manifold.png and latent-scatter.png.
sample: --label L (cvae: the class to draw; default: cycle through the classes).
eval: --iw-k K (default 5000) importance samples of the IWAE estimate of log p(x),
a stochastic lower bound; --classify (cvae) classifies by Bayes' rule,
p(y|x) ∝ p(x|y) p(y), p(y) the training class frequencies, and reports accuracy
and mean_log_p_label (one --iw-k estimate per class: try --iw-k 100).`

func init() {
	for _, k := range []struct{ kind, summary string }{
		{KindAE, "deterministic autoencoder (the baseline; no density)"},
		{KindVAE, "variational autoencoder (MLP; ELBO or IWAE training, IWAE log-likelihood)"},
		{KindCVAE, "conditional VAE p(x|y) on labelled data; a classifier by Bayes' rule (eval --classify)"},
		{KindConvVAE, "convolutional VAE (the Keras example) on image data"},
	} {
		kind := k.kind
		model.Register(model.Family{
			Name:       kind,
			Summary:    k.summary,
			Doc:        doc,
			Config:     func() any { return DefaultFlags(kind) },
			New:        newFamilyTrainer,
			Load:       func(f *checkpoint.File) (model.Model, error) { return LoadTrainer(f) },
			EvalConfig: func() any { return DefaultEvalConfig() },
			Needs:      model.Needs{Labels: kind == KindCVAE, Image: kind == KindConvVAE},
			Epochs:     10,
		})
	}
}

// newFamilyTrainer makes the trainer of a new run of `latent train` on d.
func newFamilyTrainer(cfg any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
	f := *cfg.(*Flags)
	c, tc := f.Config, f.TrainConfig
	tc.Seed = s.Seed
	if h, w, ch, ok := s.Image(); ok {
		c.Height, c.Width, c.Channels = h, w, ch
	}
	if c.Kind == KindCVAE {
		if d.Labels == nil {
			return nil, fmt.Errorf("cvae needs labels, and this data set has none")
		}
		c.CondDim = d.NumClasses
	}
	if c.Decoder == Bernoulli && s.Binarize != "dynamic" {
		if err := dataset.CheckUnit(d); err != nil {
			return nil, fmt.Errorf("a Bernoulli decoder models values in [0, 1] (or use --decoder gaussian): %w", err)
		}
	}
	t, err := NewTrainer(c, d.Dim(), tc)
	if err != nil {
		return nil, err
	}
	if err := t.Model.CheckData(d); err != nil {
		return nil, err
	}
	if c.Kind == KindCVAE {
		t.Model.ClassPrior = ClassFrequencies(d.Labels, c.CondDim)
	}
	return t, nil
}
