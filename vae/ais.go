package vae

import (
	"context"
	"math"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/decoder"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// meanDecoder is the decoder as z ↦ E[x | z]: the Gaussian decoder's means, or the
// Bernoulli decoder's probabilities σ(logits), with the matching backward pass.
type meanDecoder struct {
	m       *Model
	p, dl   *tensor.Mat
	sigmoid bool
}

func (g *meanDecoder) Forward(z *tensor.Mat) *tensor.Mat {
	out := g.m.Dec.Forward(z)
	if !g.sigmoid {
		return out
	}
	g.p = tensor.Reuse(g.p, out.Rows, out.Cols)
	for r := 0; r < out.Rows; r++ {
		pr := g.p.Row(r)
		for j, v := range out.Row(r) {
			pr[j] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	}
	return g.p
}

func (g *meanDecoder) Backward(dy *tensor.Mat) *tensor.Mat {
	if !g.sigmoid {
		return g.m.Dec.Backward(dy)
	}
	g.dl = tensor.Reuse(g.dl, dy.Rows, dy.Cols)
	for r := 0; r < dy.Rows; r++ {
		pr, dr := g.p.Row(r), g.dl.Row(r)
		for j, v := range dy.Row(r) {
			dr[j] = v * pr[j] * (1 - pr[j])
		}
	}
	return g.m.Dec.Backward(g.dl)
}

// scoreAIS is the ais-hmc estimator: the decoder read as p(x) = ∫ N(z; 0, I)
// N(x; E[x | z], σ² I) dz (Wu et al. 2017), scored by AIS with HMC from the prior
// (see package decoder). σ² is --sigma2, or the model's own for a Gaussian decoder.
// A cvae's figure is log p(x | y) for each example's label.
func (t *Trainer) scoreAIS(ctx context.Context, d *dataset.Dataset, cfg *EvalConfig, o model.ScoreOptions) (model.Estimate, error) {
	m := t.Model
	if !m.Variational() {
		return model.Estimate{}, model.Flagf("estimator", "an autoencoder has no prior over its codes to integrate over; ais-hmc needs a vae")
	}
	net := decoder.Net{G: &meanDecoder{m: m, sigmoid: m.Config.Decoder == Bernoulli}, Latent: m.Config.Latent, Classes: m.Config.CondDim}
	if m.Config.Decoder == Gaussian {
		net.Sigma2 = m.Config.Sigma2
		if m.LogSigma2 != nil {
			net.Sigma2 = math.Exp(m.logVarX())
		}
	}
	est, err := decoder.Score(ctx, net, d, &cfg.EvalConfig, o)
	if err != nil {
		return est, err
	}
	mean := "the Gaussian decoder's mean"
	if m.Config.Decoder == Bernoulli {
		mean = "σ(logits) of the Bernoulli decoder"
	}
	est.Extra = append(est.Extra, model.Metric{Name: "observation_mean", Value: mean})
	return est, nil
}
