package vae

import (
	"fmt"

	"github.com/latent-ml/latent/nn"
)

// Model kinds.
const (
	KindAE      = "ae"      // deterministic autoencoder (the baseline)
	KindVAE     = "vae"     // MLP variational autoencoder
	KindCVAE    = "cvae"    // conditional VAE: encoder and decoder also see y
	KindConvVAE = "convvae" // convolutional VAE of the Keras example
)

// Decoder likelihoods.
const (
	Bernoulli = "bernoulli" // p(x|h) = Π Bernoulli(x_j; σ(logit_j)); x in [0, 1]
	Gaussian  = "gaussian"  // p(x|h) = Π N(x_j; mean_j, σ²)
)

// Config describes a model. Its zero value is a Bernoulli VAE with one hidden layer
// of 400 ReLU units and a 20-dimensional latent space (pytorch/examples vae).
//
// The tagged fields are `latent train`'s flags (model.Bind); the others come
// from the training data.
type Config struct {
	Kind string // KindAE, KindVAE (default), KindCVAE or KindConvVAE
	// Latent is the latent dimension D; default 20.
	Latent int `flag:"latent" help:"latent dimension D" range:"[1,65536]"`
	// Hidden are the hidden layer sizes of the encoder; the decoder mirrors them.
	// Default [400]. For convvae, the single dense layer after the convolutions;
	// default [16] (Keras example).
	Hidden []int `flag:"hidden" help:"hidden layer sizes of the encoder, comma-separated; the decoder mirrors them (convvae: the one dense layer after the convolutions)" range:"[1,65536]"`
	// Activation is the hidden nonlinearity, see nn.ParseAct; default "relu".
	Activation string `flag:"activation" help:"hidden nonlinearity" choices:"relu|leaky-relu|tanh|sigmoid|softplus|identity"`
	// Decoder is Bernoulli (default; data in [0, 1]) or Gaussian.
	Decoder string `flag:"decoder" help:"decoder likelihood p(x|h); bernoulli models values in [0, 1]" choices:"bernoulli|gaussian"`
	// Sigma2 is the Gaussian decoder's variance σ². 0 means learned: one shared
	// log σ² parameter, starting at 0 (σ² = 1).
	Sigma2 float64 `flag:"sigma2" help:"Gaussian decoder variance σ² (0: learned)" range:"[0,inf)"`
	// Beta is the weight of the KL term (β-VAE); default 1.
	Beta float64 `flag:"beta" help:"weight β of the KL term (β-VAE; 1 is the ELBO)" range:"(0,inf)"`
	// IWK is the number of importance samples per example in the training objective:
	// 1 (default) is the ELBO with a closed-form KL, k > 1 the IWAE bound L_k.
	IWK int `flag:"iw-k" help:"importance samples k in the training objective (k > 1: the IWAE bound L_k)" range:"[1,100000]"`
	// Height, Width, Channels give the image shape (NHWC) for convvae.
	Height, Width, Channels int
	// CondDim is the size of the conditioning vector y for cvae (the number of
	// classes when y is a one-hot label).
	CondDim int
	// Dropout is the probability of dropping each hidden unit of the MLP
	// encoder and decoder during training (0: none).
	Dropout float64 `flag:"dropout" help:"dropout probability after every hidden layer of the encoder and decoder, in training only (Wu et al. 2017 trained their VAE-50 with 0.2); 0: none" range:"[0,1)"`
	// Init is the weight initialisation, see nn.ParseInit; default
	// "lecun-uniform" (PyTorch's).
	Init string `flag:"init" help:"weight initialisation" choices:"lecun-uniform|glorot|he"`
}

// withDefaults returns c with zero fields replaced by their defaults, or an error
// naming the first bad field.
func (c Config) withDefaults() (Config, error) {
	if c.Kind == "" {
		c.Kind = KindVAE
	}
	switch c.Kind {
	case KindAE, KindVAE, KindCVAE, KindConvVAE:
	default:
		return c, fmt.Errorf("vae: unknown model kind %q (want ae, vae, cvae or convvae)", c.Kind)
	}
	if c.Latent == 0 {
		c.Latent = 20
	}
	if c.Latent < 0 {
		return c, fmt.Errorf("vae: latent dimension must be >= 1, got %d", c.Latent)
	}
	if len(c.Hidden) == 0 {
		if c.Kind == KindConvVAE {
			c.Hidden = []int{16}
		} else {
			c.Hidden = []int{400}
		}
	}
	c.Hidden = append([]int(nil), c.Hidden...)
	for i, h := range c.Hidden {
		if h < 1 {
			return c, fmt.Errorf("vae: hidden layer %d size must be >= 1, got %d", i+1, h)
		}
	}
	if c.Dropout < 0 || c.Dropout >= 1 || c.Dropout != c.Dropout {
		return c, fmt.Errorf("vae: dropout must be in [0, 1), got %g", c.Dropout)
	}
	if c.Dropout > 0 && c.Kind == KindConvVAE {
		return c, fmt.Errorf("vae: dropout %g: only the MLP kinds (ae, vae, cvae) have it", c.Dropout)
	}
	if c.Kind == KindConvVAE && len(c.Hidden) != 1 {
		return c, fmt.Errorf("vae: convvae takes one dense hidden size, got %v", c.Hidden)
	}
	if c.Activation == "" {
		c.Activation = "relu"
	}
	if _, err := nn.ParseAct(c.Activation); err != nil {
		return c, fmt.Errorf("vae: activation: %w", err)
	}
	if c.Decoder == "" {
		c.Decoder = Bernoulli
	}
	if c.Decoder != Bernoulli && c.Decoder != Gaussian {
		return c, fmt.Errorf("vae: unknown decoder %q (want bernoulli or gaussian)", c.Decoder)
	}
	if c.Sigma2 < 0 || c.Sigma2 != c.Sigma2 {
		return c, fmt.Errorf("vae: decoder variance sigma2 must be > 0 (or 0 for learned), got %g", c.Sigma2)
	}
	if c.Beta == 0 {
		c.Beta = 1
	}
	if c.Beta < 0 || c.Beta != c.Beta {
		return c, fmt.Errorf("vae: beta must be > 0, got %g", c.Beta)
	}
	if c.IWK == 0 {
		c.IWK = 1
	}
	if c.IWK < 0 {
		return c, fmt.Errorf("vae: importance samples iw-k must be >= 1, got %d", c.IWK)
	}
	if c.IWK > 1 && c.Beta != 1 {
		return c, fmt.Errorf("vae: the IWAE objective (iw-k %d) has no KL weight; beta must be 1, got %g", c.IWK, c.Beta)
	}
	if c.IWK > 1 && c.Kind == KindAE {
		return c, fmt.Errorf("vae: an autoencoder has no importance weights; iw-k must be 1, got %d", c.IWK)
	}
	if c.Kind == KindCVAE && c.CondDim < 1 {
		return c, fmt.Errorf("vae: cvae needs a conditioning vector (labels); conditioning size is %d", c.CondDim)
	}
	if c.Kind != KindCVAE && c.CondDim != 0 {
		return c, fmt.Errorf("vae: %s takes no conditioning vector, got size %d", c.Kind, c.CondDim)
	}
	if c.Kind == KindConvVAE && (c.Height < 2 || c.Width < 2 || c.Channels < 1) {
		return c, fmt.Errorf("vae: convvae needs image data; image shape is %d×%d×%d", c.Height, c.Width, c.Channels)
	}
	if c.Init == "" {
		c.Init = nn.LeCunUniform.String()
	}
	if _, err := nn.ParseInit(c.Init); err != nil {
		return c, fmt.Errorf("vae: init: %w", err)
	}
	return c, nil
}
