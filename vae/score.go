package vae

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/decoder"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Eval holds data-set averages, in nats per example.
type Eval struct {
	N      int     `json:"n"`
	ELBO   float64 `json:"elbo"`           // mean ELBO (β = 1); for ae the reconstruction log-likelihood
	LogLik float64 `json:"log_likelihood"` // mean importance-weighted log p(x) estimate (k > 0, VAEs)
	K      int     `json:"k"`              // importance samples (0: LogLik not computed)
}

// evalBatch is the number of examples Evaluate scores at a time.
const evalBatch = 500

// Evaluate scores d. With k ≥ 1 it returns the importance-weighted log-likelihood
// estimate with k samples (see LogLikelihood) and the ELBO as the mean log-weight
// over the same samples; with k = 0, only a one-sample ELBO. Noise comes from s.
func (m *Model) Evaluate(d *dataset.Dataset, k int, s *rng.Stream) (Eval, error) {
	return m.evaluate(context.Background(), d, k, s, nil, nil)
}

// evaluate is Evaluate that also sets ll[i] and elbo[i] (when not nil) to the
// figures of example i, and reports progress on ctx.
func (m *Model) evaluate(ctx context.Context, d *dataset.Dataset, k int, s *rng.Stream, ll, elbo []float64) (Eval, error) {
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
	if ll == nil {
		ll = make([]float64, evalBatch)
	}
	if elbo == nil {
		elbo = make([]float64, evalBatch)
	}
	per := len(ll) == d.Len() && len(ll) > 0 // per-example output, else a reused batch buffer
	var y *tensor.Mat
	idx := make([]int, 0, evalBatch)
	var sumLL, sumELBO float64
	task := fmt.Sprintf("iwae k=%d", k)
	if k == 0 {
		task = "elbo"
	}
	for b0 := 0; b0 < d.Len(); b0 += evalBatch {
		if err := ctx.Err(); err != nil {
			return Eval{}, err
		}
		model.Step(ctx, task, b0, d.Len())
		b1 := min(b0+evalBatch, d.Len())
		x := d.X.Slice(b0, b1)
		if m.Config.Kind == KindCVAE {
			idx = idx[:0]
			for i := b0; i < b1; i++ {
				idx = append(idx, i)
			}
			y = OneHot(y, d.Labels, idx, m.Config.CondDim)
		}
		n := b1 - b0
		o := 0
		if per {
			o = b0
		}
		lb, eb := ll[o:o+n], elbo[o:o+n]
		if k > 0 {
			m.LogLikelihood(lb, eb, x, y, k, s)
		} else {
			m.ELBO(eb, x, y, s)
		}
		for i := 0; i < n; i++ {
			sumLL += lb[i]
			sumELBO += eb[i]
		}
	}
	model.Step(ctx, task, d.Len(), d.Len())
	if ev.N > 0 {
		ev.ELBO = sumELBO / float64(ev.N)
		if k > 0 {
			ev.LogLik = sumLL / float64(ev.N)
		}
	}
	return ev, nil
}

// EvalConfig holds the settings of `latent eval` for a VAE.
type EvalConfig struct {
	// K is the number of importance samples of the log-likelihood estimate (and,
	// with Classify, per class).
	K int `flag:"iw-k" help:"importance samples k of the IWAE log-likelihood estimate (per class with --classify; try 100 there)" range:"[1,100000000]"`
	// Classify also classifies every example of a cvae by Bayes' rule,
	// p(y|x) ∝ p(x|y) p(y) with p(y) the training class frequencies (uniform
	// for older model files), and reports the accuracy and the mean
	// log p(label|x).
	Classify bool `flag:"classify" help:"cvae: also classify every example by Bayes' rule, p(y|x) ∝ p(x|y) p(y), and report accuracy and mean_log_p_label (costs one --iw-k estimate per class)"`
	// Estimator is iwae (the importance-weighted bound with the encoder as the
	// proposal) or ais-hmc (the decoder as a Gaussian observation model scored
	// by AIS with HMC, Wu et al. 2017; its settings are AIS's).
	Estimator string `flag:"estimator" help:"log-likelihood estimator: iwae (importance sampling with the encoder, k = --iw-k) or ais-hmc (AIS with HMC over the decoder N(x; E[x|z], σ² I), Wu et al. 2017)" choices:"iwae|ais-hmc"`
	decoder.EvalConfig
}

// DefaultEvalConfig returns the eval defaults: k = 5000 (Burda et al. 2016).
// The ais-hmc settings are decoder.DefaultEvalConfig's with σ² = 0: the
// model's own (a Gaussian decoder's).
func DefaultEvalConfig() *EvalConfig {
	c := &EvalConfig{K: 5000, Estimator: "iwae", EvalConfig: *decoder.DefaultEvalConfig()}
	c.Sigma2, c.Dequantize = 0, false
	return c
}

// Score implements model.Scorer: the importance-weighted estimate
//
//	log p̂(x) = log (1/k) Σ_i p(x|h_i) N(h_i; 0, I) / Q(h_i|x),   h_i ~ Q(h|x),
//
// a stochastic lower bound on log p(x) (Burda et al. 2016), per example, with
// the mean log-weight (an unbiased ELBO) beside it. StdErr is the standard
// error of the mean over the examples. For a cvae the figure is log p(x|y) for
// each example's label; with Classify, Extra also holds the classifier's
// accuracy, mean_log_p_label and the marginal log p(x) = log Σ_y p(x|y) p(y).
// An autoencoder defines no density: LogLik is NaN and Extra holds the
// reconstruction log-likelihood (recon_log_lik).
//
// Noise: streams 4 (the estimate) and 5 (the classifier) of o.Seed.
func (t *Trainer) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	cfg := DefaultEvalConfig()
	if o.Family != nil {
		cfg = o.Family.(*EvalConfig)
	}
	m := t.Model
	if cfg.Classify && m.Config.Kind != KindCVAE {
		return model.Estimate{}, model.Flagf("classify", "only a cvae can classify (it models p(x|y)); this model is a %s", m.Config.Kind)
	}
	if cfg.Classify && d.Labels == nil {
		return model.Estimate{}, fmt.Errorf("--classify: --data %s has no labels to compare the predicted classes with", o.Data)
	}
	if err := m.CheckData(d); err != nil {
		return model.Estimate{}, err
	}
	if cfg.Estimator == "ais-hmc" {
		if cfg.Classify {
			return model.Estimate{}, model.Flagf("classify", "classifies with --estimator iwae only")
		}
		return t.scoreAIS(ctx, d, cfg, o)
	}
	if cfg.Dequantize {
		y, err := dataset.Dequantize(d.X, d.Name, o.Seed)
		if err != nil {
			return model.Estimate{}, err
		}
		dd := *d
		dd.X = y
		d = &dd
	}
	if m.Config.Decoder == Bernoulli {
		if err := dataset.CheckUnit(d); err != nil {
			return model.Estimate{}, fmt.Errorf("vae: a Bernoulli decoder scores values in [0, 1]: %w", err)
		}
	}
	ll, elbo := make([]float64, d.Len()), make([]float64, d.Len())
	ev, err := m.evaluate(ctx, d, cfg.K, rng.NewStream(o.Seed, 4), ll, elbo)
	if err != nil {
		return model.Estimate{}, err
	}
	if !m.Variational() {
		return model.Estimate{LogLik: math.NaN(), Method: "none: an autoencoder defines no density", N: ev.N,
			Extra: []model.Metric{{Name: "recon_log_lik", Value: ev.ELBO}}}, nil
	}
	est := model.Estimate{LogLik: ev.LogLik, StdErr: stdErr(ll, ev.LogLik), Method: fmt.Sprintf("iwae-k%d", cfg.K),
		Bound: "lower", N: ev.N, PerExample: ll, Extra: []model.Metric{{Name: "elbo", Value: ev.ELBO}}}
	if cfg.Dequantize {
		est.Extra = append(est.Extra, model.Metric{Name: "dequantized", Value: dataset.Dequantization},
			model.Metric{Name: "bits_per_dim", Value: dataset.BitsPerDim8(est.LogLik, d.Dim())})
	}
	if m.Config.Kind == KindCVAE {
		est.Extra = append(est.Extra, model.Metric{Name: "density", Value: "log p(x|y), y the example's label"})
	}
	if cfg.Classify {
		cl, err := m.EvaluateClassifier(d, cfg.K, rng.NewStream(o.Seed, 5))
		if err != nil {
			return model.Estimate{}, err
		}
		est.Extra = append(est.Extra,
			model.Metric{Name: "accuracy", Value: cl.Accuracy},
			model.Metric{Name: "mean_log_p_label", Value: cl.MeanLogPLabel},
			model.Metric{Name: "marginal_log_likelihood", Value: cl.MarginalLogLik},
			model.Metric{Name: "class_prior", Value: cl.Prior},
			model.Metric{Name: "classify_estimator", Value: fmt.Sprintf("bayes rule over iwae-k%d estimates of log p(x|y)", cfg.K)})
	}
	return est, nil
}

// stdErr returns the standard error of the mean of v, whose mean is mean.
func stdErr(v []float64, mean float64) float64 {
	n := float64(len(v))
	if n < 2 {
		return 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / (n - 1) / n)
}

// Monitor implements model.Monitor: a one-sample ELBO of held-out data after
// every epoch (for an autoencoder, the reconstruction log-likelihood), with
// noise from stream 2 of the training seed, child EpochsDone, so that a
// resumed run reports the same figures.
func (t *Trainer) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	ev, err := t.Model.evaluate(ctx, d, 0, rng.NewStream(t.Config.Seed, 2).Child(uint64(t.EpochsDone)), nil, nil)
	if err != nil {
		return nil, err
	}
	name := "elbo"
	if !t.Model.Variational() {
		name = "recon_log_lik"
	}
	return []model.Metric{{Name: name, Value: ev.ELBO}}, nil
}
