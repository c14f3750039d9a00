package decoder

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Sigma2Choice is the outcome of ChooseSigma2: the AIS estimate of the mean
// held-out log-likelihood at each variance of the grid, and the best.
type Sigma2Choice struct {
	Sigma2 float64   // the chosen variance
	N      int       // held-out examples scored
	Steps  int       // AIS transitions per value
	Grid   []float64 // the variances tried
	LogLik []float64 // mean log p(x) at each, in nats
	StdErr []float64 // its Monte Carlo standard error
}

// Table returns the grid as "σ²: mean ± se" items for people and JSON.
func (c Sigma2Choice) Table() string {
	var b strings.Builder
	for i, v := range c.Grid {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%g: %.2f ± %.2f", v, c.LogLik[i], c.StdErr[i])
	}
	return b.String()
}

// ChooseSigma2 scores the held-out data cfg.Sigma2Data (dequantised as the test
// data are) at every variance of cfg.Sigma2Grid with the AIS settings of cfg, and
// chooses the one of highest mean log-likelihood (cfg.Sigma2Steps transitions, or
// cfg.Steps when 0) (Wu et al. 2017 choose σ² so, on
// validation data). The data must have as many values per example as G(z).
func ChooseSigma2(ctx context.Context, net Net, dim int, cfg *EvalConfig, o model.ScoreOptions) (Sigma2Choice, error) {
	grid, err := ParseGrid(cfg.Sigma2Grid)
	if err != nil {
		return Sigma2Choice{}, err
	}
	if cfg.Sigma2Data == "" {
		return Sigma2Choice{}, model.Flagf("sigma2-data", "--sigma2-grid needs held-out data to choose on, e.g. --sigma2-data mnist,rows=50000:50050")
	}
	v, err := dataset.Load(cfg.Sigma2Data, dataset.Options{DataDir: o.DataDir, Seed: o.Seed})
	if err != nil {
		return Sigma2Choice{}, fmt.Errorf("--sigma2-data: %w", err)
	}
	if v.Dim() != dim {
		return Sigma2Choice{}, model.Flagf("sigma2-data", "%s has %d values per example; the model makes %d", cfg.Sigma2Data, v.Dim(), dim)
	}
	x := v.X
	if cfg.Dequantize {
		if x, err = dataset.Dequantize(v.X, cfg.Sigma2Data, o.Seed+1); err != nil {
			return Sigma2Choice{}, fmt.Errorf("--sigma2-data: %w", err)
		}
	}
	steps := cfg.Steps
	if cfg.Sigma2Steps > 0 {
		steps = cfg.Sigma2Steps
	}
	c := Sigma2Choice{N: v.Len(), Grid: grid, Sigma2: math.NaN(), Steps: steps}
	best := math.Inf(-1)
	for i, s2 := range grid {
		res, err := forwardAIS(ctx, net, s2, x, v.Labels, cfg, steps, o.Seed+1, fmt.Sprintf("σ² %d/%d", i+1, len(grid)),
			func(err error) error { return fmt.Errorf("--sigma2-data %s: %w", cfg.Sigma2Data, err) })
		if err != nil {
			return c, err
		}
		c.LogLik = append(c.LogLik, res.Mean)
		c.StdErr = append(c.StdErr, res.MeanStdErr)
		if res.Mean > best {
			best, c.Sigma2 = res.Mean, s2
		}
	}
	return c, nil
}

// BDMCResult is the bidirectional Monte Carlo check on simulated data: the mean
// forward (stochastic lower bound) and reverse (stochastic upper bound) AIS
// estimates of log p(x) over the simulated examples.
type BDMCResult struct {
	N                    int
	Forward, Reverse     float64
	ForwardSE, ReverseSE float64     // their Monte Carlo standard errors
	X                    *tensor.Mat // the simulated examples
	Labels               []int       // their labels (conditional models), or nil
}

// Gap returns Reverse − Forward: on data like the simulated examples it bounds the
// error of the forward estimate with the same settings (Grosse et al. 2015).
func (b BDMCResult) Gap() float64 { return b.Reverse - b.Forward }

// CheckBDMC simulates n examples from the model, z ~ N(0, I) and x = G(z) + σ ε
// from rng.NewStream(seed, 7), and runs forward and reverse AIS on them with the
// settings of cfg (the reverse chains start from the z that made each x, an exact
// posterior sample). A conditional model draws each example's label uniformly.
func CheckBDMC(ctx context.Context, net Net, sigma2 float64, n int, cfg *EvalConfig, seed uint64) (BDMCResult, error) {
	if net.Codes > 0 {
		// A simulated example's code is known: the check is of AIS on p(x | c),
		// the runs forwardAIS averages, with the code drawn as a label.
		net.Classes, net.Codes = net.Codes, 0
	}
	s := rng.NewStream(seed, 7)
	z := tensor.New(n, net.Latent)
	s.FillNormal(z.Data, 0, 1)
	var labels []int
	in := z
	if net.Classes > 0 {
		labels = make([]int, n)
		in = tensor.New(n, net.Latent+net.Classes)
		for r := range labels {
			labels[r] = s.IntN(net.Classes)
			copy(in.Row(r), z.Row(r))
			in.Row(r)[net.Latent+labels[r]] = 1
		}
	}
	x := net.G.Forward(in).Clone()
	sd := math.Sqrt(sigma2)
	for i := range x.Data {
		x.Data[i] += float32(sd * s.NormFloat64())
	}
	dec, rows, err := newDecoder(net, sigma2, x, labels)
	if err != nil {
		return BDMCResult{}, model.Flagf("sigma2", "%v", err)
	}
	lo, up, err := mcmc.BDMC(dec, rows, z, aisConfig(ctx, cfg, cfg.Steps, seed+2, "bdmc"))
	if err != nil {
		return BDMCResult{}, err
	}
	return BDMCResult{N: n, Forward: lo.Mean, Reverse: up.Mean, ForwardSE: lo.MeanStdErr, ReverseSE: up.MeanStdErr, X: x, Labels: labels}, nil
}
