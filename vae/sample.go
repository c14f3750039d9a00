package vae

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// labelRows returns n one-hot rows for a cvae: all of class label when label >=
// 0, else row i of class i mod CondDim; and the classes. It returns nil, nil
// for other kinds.
func (m *Model) labelRows(n, label int) (*tensor.Mat, []int) {
	if m.Config.Kind != KindCVAE {
		return nil, nil
	}
	labels, idx := make([]int, n), make([]int, n)
	for i := range labels {
		idx[i], labels[i] = i, i%m.Config.CondDim
		if label >= 0 {
			labels[i] = label
		}
	}
	return OneHot(nil, labels, idx, m.Config.CondDim), labels
}

// Sample implements model.Sampler: the decoder means E[x|h] of o.N codes
// h ~ N(0, I) drawn from rng.New(o.Seed); for a cvae, of class o.Label, or of
// classes 0, 1, …, C−1, 0, … in turn when o.Label < 0 (the returned data set's
// labels say which). An autoencoder has no prior to sample from.
func (t *Trainer) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	m := t.Model
	if !m.Variational() {
		return nil, fmt.Errorf("sample: a plain autoencoder (ae) has no prior to draw codes from; train a vae")
	}
	if o.Label >= 0 && m.Config.Kind != KindCVAE {
		return nil, model.Flagf("label", "only a cvae takes a label; this model is a %s", m.Config.Kind)
	}
	if m.Config.Kind == KindCVAE && o.Label >= m.Config.CondDim {
		return nil, model.Flagf("label", "must be in [0, %d), got %d", m.Config.CondDim, o.Label)
	}
	y, labels := m.labelRows(o.N, o.Label)
	x := m.Sample(nil, o.N, y, rng.New(o.Seed))
	out := &dataset.Dataset{Name: "samples", X: x, Labels: labels}
	if labels != nil {
		out.NumClasses = m.Config.CondDim
	}
	if h, w, c, ok := m.image(); ok {
		out.Height, out.Width, out.Channels = h, w, c
	}
	return out, nil
}

// image returns the image shape of the training data, when it had one.
func (m *Model) image() (h, w, c int, ok bool) {
	cfg := m.Config
	if cfg.Height > 0 && cfg.Width > 0 && cfg.Height*cfg.Width*max(cfg.Channels, 1) == m.Dim {
		return cfg.Height, cfg.Width, max(cfg.Channels, 1), true
	}
	return 0, 0, 0, false
}

// Transform implements model.Transformer: the codes of every example of d, the
// encoder's mean μ(x) and standard deviation σ(x) of Q(h|x) (columns mu1 … muD,
// sigma1 … sigmaD), or an autoencoder's code (code1 … codeD). A cvae encodes
// each example with its label.
func (t *Trainer) Transform(ctx context.Context, d *dataset.Dataset) (*tensor.Mat, []string, error) {
	m := t.Model
	if err := m.CheckData(d); err != nil {
		return nil, nil, err
	}
	D := m.Config.Latent
	cols := 2 * D
	if !m.Variational() {
		cols = D
	}
	out := tensor.New(d.Len(), cols)
	names := make([]string, 0, cols)
	for j := 1; j <= D; j++ {
		if m.Variational() {
			names = append(names, fmt.Sprintf("mu%d", j))
		} else {
			names = append(names, fmt.Sprintf("code%d", j))
		}
	}
	if m.Variational() {
		for j := 1; j <= D; j++ {
			names = append(names, fmt.Sprintf("sigma%d", j))
		}
	}
	var mu, lv, y *tensor.Mat
	if m.Variational() {
		lv = tensor.New(1, D)
	}
	idx := make([]int, 0, evalBatch)
	for b0 := 0; b0 < d.Len(); b0 += evalBatch {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		model.Step(ctx, "encode", b0, d.Len())
		b1 := min(b0+evalBatch, d.Len())
		if m.Config.Kind == KindCVAE {
			idx = idx[:0]
			for i := b0; i < b1; i++ {
				idx = append(idx, i)
			}
			y = OneHot(y, d.Labels, idx, m.Config.CondDim)
		}
		mu, lv = m.Encode(mu, lv, d.X.Slice(b0, b1), y)
		for i := 0; i < b1-b0; i++ {
			r := out.Row(b0 + i)
			copy(r, mu.Row(i))
			if m.Variational() {
				for j, v := range lv.Row(i) {
					r[D+j] = float32(math.Exp(0.5 * float64(v))) // σ = exp(½ log σ²)
				}
			}
		}
	}
	model.Step(ctx, "encode", d.Len(), d.Len())
	return out, names, nil
}

// Describe implements model.Describer: the architecture, the objective and the
// training state.
func (t *Trainer) Describe() []model.Metric {
	m, c := t.Model, t.Model.Config
	var params int
	for _, p := range m.Params() {
		params += len(p.W)
	}
	arch := fmt.Sprintf("%d", m.Dim)
	if c.CondDim > 0 {
		arch += fmt.Sprintf("+%d", c.CondDim)
	}
	if c.Kind == KindConvVAE {
		arch = fmt.Sprintf("%d×%d×%d-conv32-conv64-%d", c.Height, c.Width, c.Channels, c.Hidden[0])
	} else {
		for _, h := range c.Hidden {
			arch += fmt.Sprintf("-%d", h)
		}
	}
	arch += fmt.Sprintf("-%d", c.Latent)
	out := []model.Metric{
		{Name: "kind", Value: c.Kind},
		{Name: "encoder", Value: arch},
		{Name: "latent", Value: c.Latent},
		{Name: "hidden", Value: intsText(c.Hidden)},
		{Name: "activation", Value: c.Activation},
	}
	if h, w, ch, ok := m.image(); ok {
		out = append(out, model.Metric{Name: "image", Value: fmt.Sprintf("%d×%d×%d", h, w, ch)})
	}
	if c.Kind == KindCVAE {
		out = append(out, model.Metric{Name: "classes", Value: c.CondDim})
		prior := "uniform (not recorded)"
		if m.ClassPrior != nil {
			prior = fmt.Sprintf("%.4g", m.ClassPrior)
		}
		out = append(out, model.Metric{Name: "class prior p(y)", Value: prior})
	}
	dec := c.Decoder
	if c.Decoder == Gaussian {
		if m.LogSigma2 != nil {
			dec += fmt.Sprintf(" (σ² learned: %.4g)", math.Exp(m.logVarX()))
		} else {
			dec += fmt.Sprintf(" (σ² %g)", c.Sigma2)
		}
	}
	out = append(out, model.Metric{Name: "decoder", Value: dec})
	if m.Variational() {
		obj := "ELBO"
		switch {
		case c.IWK > 1:
			obj = fmt.Sprintf("IWAE bound L_%d", c.IWK)
		case c.Beta != 1:
			obj = fmt.Sprintf("β-ELBO, β = %g", c.Beta)
		}
		out = append(out, model.Metric{Name: "objective", Value: obj})
	}
	opt := t.Config.Optimizer
	switch {
	case opt == "adam":
		opt += fmt.Sprintf(" (lr %g, ε %g)", t.Config.LR, orDefault(t.Config.AdamEps, 1e-8))
	case t.Config.Momentum > 0:
		opt += fmt.Sprintf(" (lr %g, momentum %g)", t.Config.LR, t.Config.Momentum)
	default:
		opt += fmt.Sprintf(" (lr %g)", t.Config.LR)
	}
	if t.Config.Schedule == "burda" {
		opt += ", Burda et al.'s schedule"
	}
	out = append(out,
		model.Metric{Name: "optimizer", Value: opt},
		model.Metric{Name: "batch", Value: t.Config.BatchSize},
		model.Metric{Name: "parameters", Value: params},
		model.Metric{Name: "epochs", Value: t.EpochsDone},
		model.Metric{Name: "steps", Value: t.Steps})
	if n := len(t.History); n > 0 {
		out = append(out, model.Metric{Name: "last training loss", Value: fmt.Sprintf("%.4f (%s)", t.History[n-1].Loss, t.lossName())})
	}
	return out
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}
