package ebm

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// EvalConfig holds the settings of the log-likelihood estimate.
type EvalConfig struct {
	Chains     int    `flag:"chains" help:"AIS chains for log Z" range:"[1,100000]"`
	Steps      int    `flag:"ais-steps" help:"AIS transitions (intermediate distributions)" range:"[1,10000000]"`
	Leapfrog   int    `flag:"leapfrog" help:"leapfrog steps per HMC transition" range:"[1,1000]"`
	Dequantize bool   `flag:"dequantize" help:"read values as 8-bit levels k/255 and score x̃ = (k + u)/256, u ~ U(0, 1)"`
	Base       string `flag:"base" help:"AIS base in logit space: a per-value Gaussian fitted to the replay buffer, or N(0, π²/3)" choices:"buffer|standard"`
}

// DefaultEvalConfig returns 32 chains, 1000 transitions of 10 leapfrog steps,
// dequantised, the base fitted to the buffer.
func DefaultEvalConfig() *EvalConfig {
	return &EvalConfig{Chains: 32, Steps: 1000, Leapfrog: 10, Dequantize: true, Base: "buffer"}
}

// logitTarget is the model's density carried to y = logit(x) ∈ ℝ^d: with
// x = σ(y) and the Jacobian Π_j σ'(y_j),
//
//	log p*(y) = −E(σ(y)) + Σ_j log σ'(y_j),   log σ'(y) = −softplus(y) − softplus(−y),
//	∇ log p*(y) = −∇_x E(σ(y)) ⊙ σ'(y) + 1 − 2σ(y),
//
// with E(x) = F(2x − 1), ∇_x E = 2 ∇_s F. Its integral over ℝ^d is Z, the
// integral of exp(−E) over the box [0, 1]^d.
type logitTarget struct {
	m    *Model
	s    *tensor.Mat
	ones []float32
}

func (t *logitTarget) Dim() int { return t.m.dim }

func (t *logitTarget) LogDensity(grad, y *tensor.Mat, out []float64) {
	n, d := y.Rows, y.Cols
	t.s = tensor.Reuse(t.s, n, d)
	for i := range n {
		sr := t.s.Row(i)
		for j, v := range y.Row(i) {
			sr[j] = float32(2/(1+math.Exp(-float64(v))) - 1)
		}
	}
	if cap(t.ones) < n {
		t.ones = make([]float32, n)
	}
	ones := t.ones[:n]
	for i := range ones {
		ones[i] = 1
	}
	e := t.m.Net.Forward(t.s)
	for i, v := range e {
		out[i] = -float64(v)
	}
	g := t.m.Net.InputGrad(ones)
	for i := range n {
		yr, gr, dr := y.Row(i), g.Row(i), grad.Row(i)
		var lj float64
		for j, v := range yr {
			yv := float64(v)
			sg := 1 / (1 + math.Exp(-yv))
			lj -= softplus(yv) + softplus(-yv)
			dr[j] = float32(-2*float64(gr[j])*sg*(1-sg) + 1 - 2*sg)
		}
		out[i] += lj
	}
}

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// LogZ estimates log Z = log ∫_[0,1]^d exp(−E(x)) dx by annealed importance
// sampling with HMC transitions (mcmc.AISEnergy) in logit space (see
// logitTarget), from a Gaussian base: with base "buffer", per value the mean and
// standard deviation (at least 0.5) of logit(x) over the replay buffer, x clamped
// to [1/512, 1 − 1/512]; with "standard", N(0, π²/3), the variance of the
// logistic distribution that the uniform distribution on [0, 1] becomes.
// progress and stop (either may be nil) are AISEnergy's Progress and Stop.
func (m *Model) LogZ(cfg EvalConfig, seed uint64, progress func(done, total int), stop func() error) (mcmc.EnergyAISResult, error) {
	mean, sd := make([]float64, m.dim), make([]float64, m.dim)
	if cfg.Base == "buffer" {
		n := float64(m.Buf.Rows)
		for i := range m.Buf.Rows {
			for j, v := range m.Buf.Row(i) {
				x := min(max((float64(v)+1)/2, 1.0/512), 1-1.0/512)
				l := math.Log(x / (1 - x))
				mean[j] += l / n
				sd[j] += l * l / n
			}
		}
		for j := range sd {
			sd[j] = max(math.Sqrt(max(sd[j]-mean[j]*mean[j], 0)), 0.5)
		}
	} else {
		for j := range sd {
			sd[j] = math.Pi / math.Sqrt(3)
		}
	}
	return mcmc.AISEnergy(&logitTarget{m: m}, mcmc.EnergyAISConfig{Chains: cfg.Chains, Steps: cfg.Steps,
		Leapfrog: cfg.Leapfrog, BaseMean: mean, BaseStd: sd, Seed: seed, Progress: progress, Stop: stop})
}

// Score implements model.Scorer. The protocol: values are read in [0, 1]; with
// Dequantize, as 8-bit levels k = round(255x), scored at x̃ = (k + u)/256 with
// u ~ U(0, 1) from o.Seed (dataset.Dequantize: uniform dequantisation into the
// box); and
//
//	log p(x̃) = −E(x̃) − log Ẑ,
//
// a density on [0, 1]^d in nats per example, log Ẑ from LogZ. The standard error
// is log Ẑ's over the AIS chains (−E(x̃) is exact). AIS underestimates log Z in
// expectation, so the figure is a stochastic upper bound on log p(x̃) (Bound
// "upper"). log_likelihood_discrete = LogLik − d log 256 estimates the lower bound
// E_u[log p(x̃)] − d log 256 ≤ log P(k) on the 8-bit data.
func (m *Model) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	cfg, _ := o.Family.(*EvalConfig)
	if cfg == nil {
		cfg = DefaultEvalConfig()
	}
	if d.Dim() != m.dim {
		return model.Estimate{}, fmt.Errorf("ebm: the data have %d values per example, the model %d", d.Dim(), m.dim)
	}
	for i := range d.X.Rows {
		for _, v := range d.X.Row(i) {
			if !(v >= 0 && v <= 1) {
				return model.Estimate{}, fmt.Errorf("ebm: the data must lie in [0, 1]; %s has %g in row %d", d.Name, v, i)
			}
		}
	}
	x, deq := d.X, "none"
	if cfg.Dequantize {
		var err error
		if x, err = dataset.Dequantize(d.X, d.Name, o.Seed); err != nil {
			return model.Estimate{}, err
		}
		deq = dataset.Dequantization
	}
	e := m.Energy(x)
	res, err := m.LogZ(*cfg, o.Seed+1, func(done, total int) {
		if done%max(total/200, 1) == 0 || done == total {
			model.Step(ctx, "ais", done, total)
		}
	}, ctx.Err)
	if err != nil {
		return model.Estimate{}, err
	}
	per := make([]float64, len(e))
	var mean float64
	for i, v := range e {
		per[i] = -v - res.LogZ
		mean += per[i] / float64(len(e))
	}
	var sd float64
	for _, v := range per {
		sd += (v - mean) * (v - mean)
	}
	sd = math.Sqrt(sd / float64(max(len(per)-1, 1)))
	ess := effectiveChains(res.LogWeights)
	if w := aisWarning(ess, cfg.Chains, cfg.Base); w != "" {
		model.Logf(ctx, "%s", w)
	}
	extra := []model.Metric{{Name: "log_z", Value: res.LogZ}, {Name: "log_z_stderr", Value: res.StdErr},
		{Name: "ais_effective_chains", Value: ess}}
	if cfg.Dequantize {
		extra = append(extra, model.Metric{Name: "log_likelihood_discrete", Value: mean - float64(m.dim)*math.Log(256)},
			model.Metric{Name: "bits_per_dim", Value: dataset.BitsPerDim8(mean, m.dim)})
	}
	extra = append(extra, model.Metric{Name: "ais_chains", Value: cfg.Chains}, model.Metric{Name: "ais_steps", Value: cfg.Steps},
		model.Metric{Name: "leapfrog", Value: cfg.Leapfrog}, model.Metric{Name: "accept_rate", Value: res.AcceptRate},
		model.Metric{Name: "base", Value: cfg.Base}, model.Metric{Name: "dequantized", Value: deq},
		model.Metric{Name: "log_likelihood_sd_over_examples", Value: sd})
	return model.Estimate{LogLik: mean, StdErr: res.StdErr, Method: "ais-hmc", Bound: "upper", N: len(per),
		PerExample: per, Extra: extra}, nil
}

// effectiveChains returns the effective sample size of AIS weights, (Σw)²/Σw²:
// near the number of chains when the weights are even, near 1 when one chain
// dominates, and then the delta-method standard error is not to be trusted.
func effectiveChains(logw []float64) float64 {
	_, _, ess := mcmc.LogWeights(logw)
	return ess
}

// aisWarning returns a warning when fewer than a tenth of the chains (and
// fewer than 2) carry the AIS weight: then one chain decides log Ẑ, which is
// then likely far too low (AIS errs low on log Z), and the standard error
// means little. Session 13's EBM gave 1.0 effective chain of 32 from the
// buffer base (log Z −77) and 29 of 32 from the standard base (log Z −2.09).
func aisWarning(ess float64, chains int, base string) string {
	if chains < 2 || ess >= max(2, 0.1*float64(chains)) {
		return ""
	}
	other := "standard"
	if base == "standard" {
		other = "buffer"
	}
	return fmt.Sprintf("ebm: warning: %.1f of %d AIS chains carry the weight: log Z is not converged and the log-likelihood is too high; try more --ais-steps or --base %s", ess, chains, other)
}
