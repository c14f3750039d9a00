// Package decoder scores decoder-based generative models, a GAN's generator or a
// VAE's decoder read as the density
//
//	p(x) = ∫ N(z; 0, I) N(x; G(z), σ² I) dz,
//
// by annealed importance sampling from the prior to the posterior over z with
// Hamiltonian Monte Carlo transitions (Wu, Burda, Salakhutdinov & Grosse, ICLR 2017,
// "On the quantitative analysis of decoder-based generative models"). It adds what
// their protocol has around mcmc.AISDecoder: the observation variance σ² chosen
// on held-out data from a grid, uniformly dequantised 8-bit data, and the
// bidirectional Monte Carlo gap on data simulated from the model as the check of
// the estimate's accuracy (their section 4). The families (gan, vae) bind
// EvalConfig's flags and call Score.
package decoder

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
)

// EvalConfig holds the settings of a decoder model's log-likelihood estimate: the
// flags of `latent eval` for the families that use this package.
type EvalConfig struct {
	Sigma2      float64 `flag:"sigma2" help:"variance σ² of the Gaussian observation model N(x; G(z), σ² I) (0: the model's own, a Gaussian-decoder VAE's)" range:"[0,inf)"`
	Sigma2Grid  string  `flag:"sigma2-grid" help:"choose σ² among these comma-separated values by the AIS estimate on --sigma2-data, as Wu et al. 2017 do (overrides --sigma2)"`
	Sigma2Data  string  `flag:"sigma2-data" help:"held-out data SPEC that --sigma2-grid is scored on, e.g. mnist,rows=50000:50050"`
	Sigma2Steps int     `flag:"sigma2-steps" help:"AIS transitions for each --sigma2-grid value (0: --ais-steps)" range:"[0,10000000]"`
	Chains      int     `flag:"chains" help:"AIS chains per example" range:"[1,100000]"`
	Steps       int     `flag:"ais-steps" help:"AIS transitions (intermediate distributions)" range:"[1,10000000]"`
	Leapfrog    int     `flag:"leapfrog" help:"leapfrog steps per HMC transition" range:"[1,1000]"`
	Dequantize  bool    `flag:"dequantize" help:"read values as 8-bit levels k/255 and score y = (k + u)/256, u ~ U(0, 1) (dataset.Dequantize)"`
	BDMC        int     `flag:"bdmc" help:"also simulate this many examples from the model and report forward and reverse AIS on them and their gap, the bound on the estimate's error (Wu et al. 2017, section 4)" range:"[0,100000]"`
}

// DefaultEvalConfig returns the defaults: σ² = 0.01 (Wu et al.'s choice for
// GAN-50 on MNIST), 16 chains, 1000 transitions, 10 leapfrog steps, dequantised,
// no σ² grid and no BDMC check.
func DefaultEvalConfig() *EvalConfig {
	return &EvalConfig{Sigma2: 0.01, Chains: 16, Steps: 1000, Leapfrog: 10, Dequantize: true}
}

// Net is what a family gives: its generator in evaluation mode (a differentiable
// z ↦ G(z), the mean of p(x | z)) and the dimension of z. A conditional generator
// G(z, y) takes z with a one-hot label of Classes values appended; its figure is
// then log p(x | y) for each example's label.
type Net struct {
	G       mcmc.Generator
	Latent  int
	Classes int // 0: unconditional
	// Codes is the number of values of a categorical code appended after z
	// (and the one-hot label, if any), drawn uniformly: an InfoGAN's. The
	// density is then the mixture over codes (see forwardAIS); 0: none.
	Codes  int
	Sigma2 float64 // the model's own observation variance, used when EvalConfig.Sigma2 is 0; 0: none
}

// Score implements the estimate for a family's model.Scorer: log p(x) of every
// example of d (dequantised first with cfg.Dequantize, from o.Seed) by forward AIS
// with HMC, a stochastic lower bound whose standard error is over chains. With
// cfg.Sigma2Grid σ² is first chosen on cfg.Sigma2Data (see ChooseSigma2); with
// cfg.BDMC the forward and reverse estimates on that many examples simulated from
// the model are reported beside it (bdmc_forward, bdmc_reverse, bdmc_gap).
//
// Noise: the dequantisation of d (dataset.Dequantize) from o.Seed; the AIS chains from o.Seed
// (mcmc.DecoderAISConfig.Seed); the σ² grid from o.Seed+1 and the simulated data
// from rng.NewStream(o.Seed, 7).
func Score(ctx context.Context, net Net, d *dataset.Dataset, cfg *EvalConfig, o model.ScoreOptions) (model.Estimate, error) {
	if cfg == nil {
		cfg = DefaultEvalConfig()
	}
	if err := model.CheckMemory("chains", float64(d.Len())*float64(cfg.Chains+2)*float64(net.Latent)*4*4); err != nil {
		return model.Estimate{}, err
	}
	var extra []model.Metric
	sigma2 := cfg.Sigma2
	if sigma2 == 0 {
		sigma2 = net.Sigma2
	}
	if sigma2 == 0 && cfg.Sigma2Grid == "" {
		return model.Estimate{}, model.Flagf("sigma2", "this model has no observation variance of its own; give --sigma2 (Wu et al. 2017 chose 0.005-0.025 on MNIST) or --sigma2-grid with --sigma2-data")
	}
	if cfg.Sigma2Grid != "" {
		ch, err := ChooseSigma2(ctx, net, d.Dim(), cfg, o)
		if err != nil {
			return model.Estimate{}, err
		}
		sigma2 = ch.Sigma2
		extra = append(extra, model.Metric{Name: "sigma2_grid", Value: ch.Table()},
			model.Metric{Name: "sigma2_chosen_on", Value: fmt.Sprintf("%s, %d examples, %d AIS transitions", cfg.Sigma2Data, ch.N, ch.Steps)})
	}
	x, deq := d.X, "none"
	if cfg.Dequantize {
		var err error
		if x, err = dataset.Dequantize(d.X, d.Name, o.Seed); err != nil {
			return model.Estimate{}, err
		}
		deq = dataset.Dequantization
	}
	if net.Codes > 0 && net.Classes > 0 {
		return model.Estimate{}, fmt.Errorf("decoder: a generator with both labels and codes is not supported")
	}
	res, err := forwardAIS(ctx, net, sigma2, x, d.Labels, cfg, cfg.Steps, o.Seed, "ais",
		func(err error) error { return fmt.Errorf("--data %s: %w", o.Data, err) })
	if err != nil {
		return model.Estimate{}, err
	}
	est := model.Estimate{LogLik: res.Mean, StdErr: res.MeanStdErr, Method: "ais-hmc", Bound: "lower",
		N: len(res.LogLik), PerExample: res.LogLik,
		Extra: append([]model.Metric{{Name: "sigma2", Value: sigma2}, {Name: "ais_chains", Value: cfg.Chains},
			{Name: "ais_steps", Value: cfg.Steps}, {Name: "leapfrog", Value: cfg.Leapfrog},
			{Name: "accept_rate", Value: res.AcceptRate}, {Name: "dequantized", Value: deq},
			{Name: "log_likelihood_sd_over_examples", Value: sdOver(res.LogLik, res.Mean)}}, extra...)}
	if cfg.Dequantize {
		est.Extra = append(est.Extra, model.Metric{Name: "bits_per_dim", Value: dataset.BitsPerDim8(est.LogLik, d.Dim())})
	}
	if net.Classes > 0 {
		est.Extra = append(est.Extra, model.Metric{Name: "density", Value: "log p(x|y), y the example's label"})
	}
	if net.Codes > 0 {
		est.Extra = append(est.Extra, model.Metric{Name: "density", Value: fmt.Sprintf("log p(x) = log (1/%d) Σ_c p(x|c), each p(x|c) by its own AIS run (ais_chains per code)", net.Codes)})
	}
	if cfg.BDMC > 0 {
		b, err := CheckBDMC(ctx, net, sigma2, cfg.BDMC, cfg, o.Seed)
		if err != nil {
			return model.Estimate{}, err
		}
		est.Extra = append(est.Extra, model.Metric{Name: "bdmc_n", Value: cfg.BDMC},
			model.Metric{Name: "bdmc_forward", Value: b.Forward}, model.Metric{Name: "bdmc_forward_stderr", Value: b.ForwardSE},
			model.Metric{Name: "bdmc_reverse", Value: b.Reverse}, model.Metric{Name: "bdmc_reverse_stderr", Value: b.ReverseSE},
			model.Metric{Name: "bdmc_gap", Value: b.Gap()})
	}
	return est, nil
}

// aisConfig returns the AIS settings of cfg with steps transitions, reporting
// progress under the name step.
func aisConfig(ctx context.Context, cfg *EvalConfig, steps int, seed uint64, step string) mcmc.DecoderAISConfig {
	return mcmc.DecoderAISConfig{Chains: cfg.Chains, Steps: steps, Leapfrog: cfg.Leapfrog, Seed: seed,
		Progress: func(done, total int) {
			if done%max(total/200, 1) == 0 || done == total {
				model.Step(ctx, step, done, total)
			}
		}, Stop: ctx.Err}
}

// sdOver is the standard deviation of v about mean (the spread of log p(x) over
// the examples, beside the Monte Carlo error).
func sdOver(v []float64, mean float64) float64 {
	var s float64
	for _, x := range v {
		s += (x - mean) * (x - mean)
	}
	return math.Sqrt(s / float64(max(len(v)-1, 1)))
}

// ParseGrid parses a comma-separated list of positive variances.
func ParseGrid(s string) ([]float64, error) {
	var g []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, model.Flagf("sigma2-grid", "%q is not a positive variance (want a list such as 0.005,0.01,0.025)", strings.TrimSpace(f))
		}
		g = append(g, v)
	}
	return g, nil
}
