package gan

import (
	"context"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/decoder"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// EvalConfig holds the settings of a GAN's log-likelihood estimate: those of
// every decoder-based model (σ² or a grid to choose it on held-out data, AIS
// chains, transitions and leapfrog steps, dequantisation, the BDMC check).
type EvalConfig = decoder.EvalConfig

// DefaultEvalConfig returns decoder.DefaultEvalConfig: σ² = 0.01 (Wu et al.'s
// choice for GAN-50 on MNIST), 16 chains, 1000 transitions, 10 leapfrog steps,
// dequantised.
func DefaultEvalConfig() *EvalConfig { return decoder.DefaultEvalConfig() }

// generator is the moving-average generator in evaluation mode as an
// mcmc.Generator: z ↦ G(z) and ∂L/∂z.
type generator struct{ m *Model }

func (g generator) Forward(z *tensor.Mat) *tensor.Mat   { return g.m.G.Forward(z) }
func (g generator) Backward(dy *tensor.Mat) *tensor.Mat { return g.m.G.Backward(dy) }

// Score implements model.Scorer: log p(x) of the decoder model
//
//	p(x) = ∫ N(z; 0, I) N(x; G(z), σ² I) dz
//
// estimated by annealed importance sampling from the prior to the posterior
// over z with Hamiltonian Monte Carlo transitions (Wu, Burda, Salakhutdinov &
// Grosse 2017), with the moving-average weights. It is a stochastic lower bound
// on log p(x) (Jensen); the standard error is over chains. With Dequantize, x
// is first x + U(0, 1/256) from o.Seed, so the figure is a density of
// continuous data as in Wu et al.'s Table 2. A conditional GAN's figure is
// log p(x | y) for each example's label; an InfoGAN's is the mixture over its
// codes, log (1/K) Σ_c p(x | c), one AIS run per code.
func (m *Model) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	cfg, _ := o.Family.(*EvalConfig)
	if cfg == nil {
		cfg = DefaultEvalConfig()
	}
	m.swapEMA()
	defer m.swapEMA()
	m.G.SetTraining(false)
	defer m.G.SetTraining(true)
	return decoder.Score(ctx, decoder.Net{G: generator{m}, Latent: m.Cfg.Latent, Classes: m.Classes, Codes: m.Codes}, d, cfg, o)
}
