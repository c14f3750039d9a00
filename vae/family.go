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

// docs describe each kind for `latent train KIND -h`; common follows them.
var docs = map[string]string{
	KindAE: `An encoder network maps x to a code h and a decoder maps h back to
p(x|h) (Bernoulli logits, or Gaussian means); training minimises the
reconstruction loss -log p(x|code). It defines no density: eval reports the
reconstruction log-likelihood (recon_log_lik) and no log_likelihood, and it
cannot be sampled.`,
	KindVAE: `An encoder Q(h|x) = N(mu(x), diag sigma²(x)) and a decoder p(x|h)
(Bernoulli logits, or Gaussian means) with the prior h ~ N(0, I), trained by
maximising the ELBO E_Q[log p(x|h)] - beta·KL(Q || N(0, I)) (Kingma & Welling
2014) with h = mu + sigma·eps, or with --iw-k K > 1 the tighter IWAE bound L_K
(Burda et al. 2016).`,
	KindCVAE: `A VAE of p(x|y): encoder and decoder also see the example's label y
(one-hot); the training class frequencies are saved as p(y), so that
p(y|x) ∝ p(x|y) p(y) classifies (eval --classify). Needs labelled data.`,
	KindConvVAE: `The convolutional VAE of the Keras example: encoder conv 32 k3 s2,
conv 64 k3 s2, dense --hidden (one size, default 16), dense [mu, log sigma²];
the decoder mirrors it with transposed convolutions. Needs image data.`,
}

const common = `
--binarize dynamic draws every mini-batch afresh as Bernoulli(pixel
intensities), as Burda et al. do; --test SPEC reports a one-sample test ELBO
after every epoch; --pictures DIR writes samples.png (100 decoder means of the
same codes every epoch; a cvae's captioned with their class) and
reconstructions.png (rows of examples captioned "data" above their
reconstructions, "recon") after every epoch, and after the last one
traversals.png (one row per latent dimension j, tiles captioned "zj=value" for
zj from -3 to 3, the other coordinates 0) and, for a 2-D latent space,
manifold.png and latent-scatter.png.

latent sample --label L (cvae): the class to draw (default: the classes in turn).
latent eval --iw-k K (default 5000): importance samples of the IWAE estimate of
log p(x) (log p(x|y) for a cvae), a stochastic lower bound; --classify (cvae)
also classifies every example by Bayes' rule and reports accuracy and
mean_log_p_label (one --iw-k estimate per class: try --iw-k 100).`

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
			Doc:        docs[kind] + "\n" + common,
			Config:     func() any { return DefaultFlags(kind) },
			New:        newFamilyTrainer,
			Load:       func(f *checkpoint.File) (model.Model, error) { return LoadTrainer(f) },
			EvalConfig: func() any { return DefaultEvalConfig() },
			Needs:      model.Needs{Labels: kind == KindCVAE, Image: kind == KindConvVAE},
			Memory:     memory,
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

// memory estimates the bytes a training run needs, for model.Family.Memory:
// the parameters with their gradients and Adam moments, and the activations of
// one step, whose decoder runs on batch·k rows. The activations are counted
// generously (every layer's input, output and gradient, the convolutions'
// unfolded patches), so that a run this refuses would not have fitted.
func memory(cfg any, rows, dim int) (float64, string) {
	f := cfg.(*Flags)
	D, B := float64(f.Latent), float64(max(f.BatchSize, 1))
	R := B * float64(max(f.IWK, 1)) // decoder rows
	var params, perRow float64
	if f.Kind == KindConvVAE {
		// Activations of a pixel: 32 and 64 channels down, 64 and 32 up, and
		// their 3×3 unfolded patches.
		px := float64(dim)
		perRow = px * (32 + 64 + 64 + 32 + 9*(32+64+64+32))
		params = 9*(32+32*64+64*64+64*32+32) + px/16*64*2*float64(f.Hidden[0]+f.Latent)
	} else {
		in := float64(dim)
		for _, h := range f.Hidden {
			params += 2 * (in + 1) * float64(h)
			perRow += 4 * float64(h)
			in = float64(h)
		}
		params += (in + 1) * 2 * D
		perRow += 3*float64(dim) + 4*D
	}
	bytes := 4 * (4*params + 3*R*perRow)
	switch {
	case 4*params > 3*R*perRow:
		return bytes, "hidden"
	case f.IWK > 1:
		return bytes, "iw-k"
	}
	return bytes, "batch"
}
