package gan

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// EvalConfig holds the settings of a GAN's log-likelihood estimate.
type EvalConfig struct {
	Sigma2     float64 `flag:"sigma2" help:"variance σ² of the Gaussian observation model N(x; G(z), σ² I)" range:"(0,inf)"`
	Chains     int     `flag:"chains" help:"AIS chains per example" range:"[1,100000]"`
	Steps      int     `flag:"ais-steps" help:"AIS transitions (intermediate distributions)" range:"[1,10000000]"`
	Leapfrog   int     `flag:"leapfrog" help:"leapfrog steps per HMC transition" range:"[1,1000]"`
	Dequantize bool    `flag:"dequantize" help:"read values as 8-bit levels k/255 and score y = (k + u)/256, u ~ U(0, 1) (dataset.Dequantize)"`
}

// DefaultEvalConfig returns the defaults: σ² = 0.01 (Wu et al.'s choice for
// GAN-50 on MNIST), 16 chains, 1000 transitions, 10 leapfrog steps, dequantised.
func DefaultEvalConfig() *EvalConfig {
	return &EvalConfig{Sigma2: 0.01, Chains: 16, Steps: 1000, Leapfrog: 10, Dequantize: true}
}

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
// is first read as 8-bit levels k and scored at y = (k + u)/256 with u from
// o.Seed (dataset.Dequantize), so the figure is a density of continuous data
// as in Wu et al.'s Table 2, and log p(y) − d ln 256 a bound on log P(k).
func (m *Model) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	cfg, _ := o.Family.(*EvalConfig)
	if cfg == nil {
		cfg = DefaultEvalConfig()
	}
	if m.Classes > 0 {
		return model.Estimate{}, fmt.Errorf("gan: the AIS estimate is built for unconditional generators; this %s is conditional", m.Arch)
	}
	if err := model.CheckMemory("chains", float64(d.Len())*float64(cfg.Chains+2)*float64(m.Cfg.Latent)*4*4); err != nil {
		return model.Estimate{}, err
	}
	x, deq := d.X, "none"
	if cfg.Dequantize {
		var err error
		if x, err = dataset.Dequantize(d.X, d.Name, o.Seed); err != nil {
			return model.Estimate{}, err
		}
		deq = dataset.Dequantization
	}
	dec, err := mcmc.NewGaussianDecoder(generator{m}, m.Cfg.Latent, cfg.Sigma2)
	if err != nil {
		return model.Estimate{}, model.Flagf("sigma2", "%v", err)
	}
	m.EMA.Swap()
	defer m.EMA.Swap()
	m.G.SetTraining(false)
	defer m.G.SetTraining(true)
	res, err := mcmc.AISDecoder(dec, x, mcmc.DecoderAISConfig{Chains: cfg.Chains, Steps: cfg.Steps,
		Leapfrog: cfg.Leapfrog, Seed: o.Seed, Progress: func(done, total int) {
			if done%max(total/200, 1) == 0 || done == total {
				model.Step(ctx, "ais", done, total)
			}
		}})
	if err != nil {
		return model.Estimate{}, err
	}
	// The spread of log p(x) over the examples, beside the Monte Carlo error.
	var sd float64
	for _, v := range res.LogLik {
		sd += (v - res.Mean) * (v - res.Mean)
	}
	sd = math.Sqrt(sd / float64(max(len(res.LogLik)-1, 1)))
	return model.Estimate{LogLik: res.Mean, StdErr: res.MeanStdErr, Method: "ais-hmc", Bound: "lower",
		N: len(res.LogLik), PerExample: res.LogLik,
		Extra: []model.Metric{{Name: "sigma2", Value: cfg.Sigma2}, {Name: "ais_chains", Value: cfg.Chains},
			{Name: "ais_steps", Value: cfg.Steps}, {Name: "accept_rate", Value: res.AcceptRate},
			{Name: "dequantized", Value: deq},
			{Name: "log_likelihood_sd_over_examples", Value: sd}}}, nil
}
