package diffusion

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// KindGaussian is the family name of Gaussian diffusion.
const KindGaussian = "ddpm"

// GaussConfig holds the settings of Gaussian diffusion.
type GaussConfig struct {
	Noise
	Arch     string  `flag:"arch" help:"ε network: a U-Net for images, an MLP for vectors (auto: U-Net when the data are images)" choices:"auto|unet|mlp"`
	Channels int     `flag:"channels" help:"U-Net channels at full resolution (twice that at 1/2 and 1/4; even)" range:"[2,1024]"`
	Hidden   []int   `flag:"hidden" help:"hidden layer sizes of the MLP (--arch mlp)" range:"[1,65536]"`
	TimeDim  int     `flag:"time-dim" help:"size of the MLP's sinusoidal time embedding (even)" range:"[2,4096]"`
	Batch    int     `flag:"batch" help:"examples per step" range:"[1,100000]"`
	LR       float64 `flag:"lr" help:"Adam learning rate" range:"(0,1]"`
	EMA      float64 `flag:"ema" help:"decay of the weight average used for samples and the bound (0: none)" range:"[0,1)"`
	Clip     float64 `flag:"clip" help:"largest global gradient norm (0: no clipping)" range:"[0,inf)"`
	// Dropout is the U-Net's dropout probability in its residual blocks.
	Dropout float64 `flag:"dropout" help:"dropout probability in the U-Net's residual blocks, during training only (Ho et al. 2020 use 0.1)" range:"[0,1)"`
	// Attention adds the U-Net's self-attention block at 1/4 resolution.
	Attention bool `flag:"attention" help:"a self-attention block after the U-Net's middle block, at a quarter of the resolution (7×7 for MNIST)"`
	// Conditional trains p(x | y) on the labels, each dropped (replaced by
	// "no label") with probability PUncond, so that one network also learns
	// p(x): classifier-free guidance (Ho & Salimans 2022).
	Conditional bool    `flag:"conditional" help:"condition on the labels, for classifier-free guidance (sample --label, --guidance)"`
	PUncond     float64 `flag:"p-uncond" help:"probability of dropping a label in training (--conditional)" range:"[0,1]"`
}

// Validate implements the check model.Validate calls.
func (c *GaussConfig) Validate() error {
	if c.TimeDim%2 != 0 {
		return model.Flagf("time-dim", "must be even, got %d", c.TimeDim)
	}
	if c.Channels%2 != 0 {
		return model.Flagf("channels", "must be even, got %d", c.Channels)
	}
	return nil
}

// DefaultGaussConfig returns the defaults: T = 1000, the linear schedule of
// Ho et al. 2020, a U-Net of 32/64/64 channels, batch 64, Adam 5e-4, EMA
// 0.999, gradients clipped at norm 1.
func DefaultGaussConfig() *GaussConfig {
	return &GaussConfig{Noise: Noise{T: 1000, Schedule: "linear", BetaStart: LinearBetaStart, BetaEnd: LinearBetaEnd},
		Arch: "auto", Channels: 32, Hidden: []int{256, 256}, TimeDim: 64, Batch: 64, LR: 5e-4, EMA: 0.999, Clip: 1, PUncond: 0.1}
}

// SampleConfig holds the settings of `latent sample` for ddpm.
type SampleConfig struct {
	Steps int     `flag:"steps" help:"DDIM steps S (0: ancestral sampling with all T steps)" range:"[0,100000]"`
	Eta   float64 `flag:"eta" help:"DDIM's η: 0 deterministic, 1 ancestral-like noise" range:"[0,1]"`
	Chain string  `flag:"chain" help:"also write a picture of the reverse process x_T → x_0 of the first 8 samples to this PNG"`
	// Guidance is the weight w of classifier-free guidance,
	// ε̃ = (1 + w) ε̂(x_t, y) − w ε̂(x_t, ∅) (Ho & Salimans 2022, eq. 6).
	Guidance float64 `flag:"guidance" help:"classifier-free guidance weight w (conditional models; 0: none)" range:"[0,1000]"`
}

// EvalConfig holds the settings of `latent eval` for ddpm.
type EvalConfig struct {
	TPerImage int `flag:"vlb-t" help:"steps t drawn per image for the unbiased estimate of the bound (0: all T terms)" range:"[0,100000]"`
	// Variance picks the reverse variances of the bound's terms t ≥ 2: the
	// posterior's β̃_t, or Analytic-DPM's optimum from Γ_t estimated on
	// VarData (Bao et al. 2022; see Gaussian.AnalyticVariances).
	Variance string `flag:"variance" help:"reverse variances of the bound's steps t ≥ 2: fixed β̃_t, or analytic (Bao et al. 2022), estimated on --var-data" choices:"fixed|analytic"`
	VarData  string `flag:"var-data" help:"data SPEC that --variance analytic estimates E‖ε̂‖² on (training images, not the scored ones), e.g. mnist,rows=0:1000"`
	VarN     int    `flag:"var-n" help:"draws per step t for --variance analytic" range:"[1,1000000]"`
	Weights  string `flag:"weights" help:"score the weight average (ema) or the trained weights as they are (raw); early in training the average lags" choices:"ema|raw"`
}

// DefaultEvalConfig returns 16 steps t per image and the fixed variances (32
// draws per step when analytic).
func DefaultEvalConfig() *EvalConfig {
	return &EvalConfig{TPerImage: 16, Variance: "fixed", VarN: 32, Weights: "ema"}
}

func init() {
	model.Register(model.Family{
		Name:    KindGaussian,
		Summary: "Gaussian diffusion (DDPM, Ho et al. 2020): ε-prediction U-Net, ancestral and DDIM sampling, the variational bound in nats and bits/dim",
		Doc:     gaussDoc,
		Config:  func() any { return DefaultGaussConfig() },
		New: func(cfg any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
			return NewGaussModel(*cfg.(*GaussConfig), d, s)
		},
		Load:         func(f *checkpoint.File) (model.Model, error) { return LoadGaussModel(f) },
		SampleConfig: func() any { return &SampleConfig{} },
		EvalConfig:   func() any { return DefaultEvalConfig() },
		Quantized:    true,
		Epochs:       20,
	})
}

const gaussDoc = `Data in [0, 1] are scaled to [−1, 1]; T steps of Gaussian noise take them to
N(0, I), and a network (a U-Net for images whose sides are multiples of 4, an
MLP for vectors) learns to predict the noise ε from x_t and t, trained on
L_simple = ‖ε − ε̂‖² at one uniform t per example (Ho et al. 2020). Samples and
the bound use the moving average of the weights. sample takes --steps S for DDIM
(Song et al. 2021) with --eta, or ancestral sampling over all T steps, and
--chain FILE.png for a picture of x_T → x_0. eval reports the variational bound
with the discretised decoder for 8-bit data (values are read as levels
round(255x)), in nats per image and bits per dimension: an unbiased estimate
over --vlb-t steps per image with its standard error, or all T terms.`

// epsNet is a trainable noise predictor; a conditional one reads the labels
// last set (the number of classes meaning none).
type epsNet interface {
	Denoiser
	Backward(dy *tensor.Mat)
	Params() []*nn.Param
	SetLabels(labels []int)
}

// mlpEps is the MLP noise predictor for vectors.
type mlpEps struct{ *timeMLP }

func (m mlpEps) Eps(x *tensor.Mat, t []int) *tensor.Mat { return m.Forward(x, t, 1, 0) }

// GaussModel is a Gaussian diffusion model in training.
type GaussModel struct {
	Cfg     GaussConfig
	Arch    string // "unet" or "mlp"
	Classes int    // labels conditioned on (0: unconditional)
	dim     int
	H, W, C int
	Seed    uint64
	Net     epsNet
	trainer

	Diff Gaussian

	ts, labels       []int
	y, eps, xt, grad *tensor.Mat
}

// NewGaussModel returns an untrained model for the data d (values in [0, 1]).
func NewGaussModel(cfg GaussConfig, d *dataset.Dataset, s *model.Settings) (*GaussModel, error) {
	if err := dataset.CheckUnit(d); err != nil {
		return nil, fmt.Errorf("%s: the data are scaled from [0, 1] to [−1, 1]: %w", KindGaussian, err)
	}
	m := &GaussModel{Cfg: cfg, dim: d.Dim(), Seed: s.Seed}
	h, w, c, img := s.Image()
	if img {
		m.H, m.W, m.C = h, w, c
	}
	m.Arch = cfg.Arch
	if m.Arch == "auto" {
		m.Arch = "mlp"
		if img {
			m.Arch = "unet"
		}
	}
	if m.Arch == "unet" {
		if !img {
			return nil, model.Flagf("arch", "unet needs images and --data %s has rows of %d values without an image shape (use --arch mlp)", s.Data, d.Dim())
		}
		if err := CheckUNetShape(h, w); err != nil {
			return nil, fmt.Errorf("%s: %v (or use --arch mlp)", KindGaussian, err)
		}
	}
	if cfg.Conditional {
		if d.Labels == nil || d.NumClasses < 1 {
			return nil, model.Flagf("conditional", "--data %s has no labels to condition on", s.Data)
		}
		m.Classes = d.NumClasses
	}
	if err := m.build(rng.NewStream(s.Seed, 0)); err != nil {
		return nil, err
	}
	m.Noise = *rng.NewStream(s.Seed, 1)
	return m, nil
}

func (m *GaussModel) build(s *rng.Stream) error {
	sc, err := m.Cfg.Noise.schedule()
	if err != nil {
		return err
	}
	m.Diff = Gaussian{S: sc, ClipX0: true}
	switch m.Arch {
	case "unet":
		if m.Cfg.Channels < 2 || m.Cfg.Channels%2 != 0 {
			return model.Flagf("channels", "must be even and at least 2, got %d", m.Cfg.Channels)
		}
		if err := CheckUNetShape(m.H, m.W); err != nil {
			return err
		}
		u := NewUNetCond(m.H, m.W, m.C, m.Cfg.Channels, m.Classes, s)
		if m.Cfg.Attention {
			u.AddAttention(s)
		}
		m.Net = u
		if !(m.Cfg.Dropout >= 0 && m.Cfg.Dropout < 1) {
			return model.Flagf("dropout", "must be in [0, 1), got %g", m.Cfg.Dropout)
		}
		m.useDropout(u, m.Cfg.Dropout, m.Seed)
	case "mlp":
		if m.Cfg.Dropout != 0 {
			return model.Flagf("dropout", "is for the U-Net (the MLP has no dropout), got %g", m.Cfg.Dropout)
		}
		if m.Cfg.Attention {
			return model.Flagf("attention", "is for the U-Net (--arch unet); the MLP has no positions to attend over")
		}
		if m.Cfg.TimeDim < 2 || m.Cfg.TimeDim%2 != 0 {
			return model.Flagf("time-dim", "must be even and at least 2, got %d", m.Cfg.TimeDim)
		}
		m.Net = mlpEps{newTimeMLP(m.dim, m.Cfg.TimeDim, m.Classes, m.Cfg.Hidden, s)}
	default:
		return fmt.Errorf("%s: unknown network %q", KindGaussian, m.Arch)
	}
	m.init(m.Net.Params(), m.Cfg.LR)
	return nil
}

// Kind implements model.Model.
func (m *GaussModel) Kind() string { return KindGaussian }

// Dim implements model.Model.
func (m *GaussModel) Dim() int { return m.dim }

// BatchSize implements model.Trainer.
func (m *GaussModel) BatchSize() int { return m.Cfg.Batch }

// Eps implements Denoiser with the network's current weights.
func (m *GaussModel) Eps(x *tensor.Mat, t []int) *tensor.Mat { return m.Net.Eps(x, t) }

// Epoch implements model.Trainer: per mini-batch, one t ~ U{1…T} and one ε
// per example, and an Adam step on L_simple = mean ‖ε − ε̂_θ(x_t, t)‖²/D.
func (m *GaussModel) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	var buf *tensor.Mat
	var sum float64
	n := 0
	for x, idx := e.Next(buf); x != nil; x, idx = e.Next(buf) {
		buf = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		if m.Classes > 0 {
			m.labels = m.labels[:0]
			for _, i := range idx {
				y := e.Data.Labels[i]
				if m.Noise.Float64() < m.Cfg.PUncond {
					y = m.Classes
				}
				m.labels = append(m.labels, y)
			}
			m.Net.SetLabels(m.labels)
		}
		l := m.step(x)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return model.Stats{}, e.Err("the loss is %v", l)
		}
		sum += l
		n += x.Rows
	}
	loss := sum / float64(max(n, 1))
	m.History = append(m.History, loss)
	return model.Stats{Loss: loss, LossName: "mse (L_simple)"}, nil
}

// step trains on one batch and returns Σ_rows ‖ε − ε̂‖²/D.
func (m *GaussModel) step(x *tensor.Mat) float64 {
	n, T := x.Rows, m.Diff.S.T
	if cap(m.ts) < n {
		m.ts = make([]int, n)
	}
	m.ts = m.ts[:n]
	for i := range m.ts {
		m.ts[i] = 1 + m.Noise.IntN(T)
	}
	m.y = tensor.Reuse(m.y, n, m.dim)
	for i := range n {
		yr := m.y.Row(i)
		for j, v := range x.Row(i) {
			yr[j] = 2*v - 1
		}
	}
	m.eps = tensor.Reuse(m.eps, n, m.dim)
	m.Noise.FillNormal(m.eps.Data, 0, 1)
	m.xt = m.Diff.Noise(m.xt, m.y, m.eps, m.ts)
	m.training(true)
	defer m.training(false)
	pred := m.Net.Eps(m.xt, m.ts)
	m.grad = tensor.Reuse(m.grad, n, m.dim)
	scale := float32(2 / float64(n*m.dim))
	var sum float64
	for i := range n {
		p, e, g := pred.Row(i), m.eps.Row(i), m.grad.Row(i)
		var s float64
		for j, v := range p {
			d := v - e[j]
			s += float64(d) * float64(d)
			g[j] = scale * d
		}
		sum += s / float64(m.dim)
	}
	m.Net.Backward(m.grad)
	m.update(m.Cfg.Clip, m.Cfg.EMA)
	return sum
}

// Generate returns n samples in [0, 1] drawn from s with the averaged weights:
// ancestral sampling when steps is 0, else DDIM with that many steps and η.
// With frames > 0 it also returns frames snapshots of the chain of every
// sample (frame k of sample i in row k·n + i), from x_T to x_0, each mapped
// to [0, 1] and clipped.
//
// A conditional model draws labels[i] for sample i (labels: one per sample),
// guided with weight w; an unconditional one takes nil labels and w = 0.
func (m *GaussModel) Generate(ctx context.Context, n int, steps int, eta float64, labels []int, w float64, s *rng.Stream, frames int) (*tensor.Mat, *tensor.Mat, error) {
	T := m.Diff.S.T
	if steps > T {
		return nil, nil, model.Flagf("steps", "must be at most T = %d, got %d", T, steps)
	}
	x := tensor.New(n, m.dim)
	s.FillNormal(x.Data, 0, 1)
	var chain *tensor.Mat
	total := T
	if steps > 0 {
		total = steps
	}
	at := snapshotSteps(total, frames)
	if frames > 0 {
		chain = tensor.New(frames*n, m.dim)
		if k, ok := at[total]; ok {
			toUnit(chain.Slice(k*n, (k+1)*n), x)
		}
	}
	done := 0
	cb := func(t int, x *tensor.Mat) {
		done++
		if frames > 0 {
			if k, ok := at[total-done]; ok && done < total {
				toUnit(chain.Slice(k*n, (k+1)*n), x)
			}
		}
		if done%max(total/50, 1) == 0 {
			model.Step(ctx, "sample", done, total)
		}
	}
	net := &chunkedNet{net: m.Net, rows: sampleChunk}
	var den Denoiser = net
	if m.Classes > 0 {
		if len(labels) != n {
			panic(fmt.Sprintf("diffusion: Generate: %d labels for %d samples", len(labels), n))
		}
		g := &guided{net: net, labels: labels, w: w, null: make([]int, n)}
		for i := range g.null {
			g.null[i] = m.Classes
		}
		den = g
	}
	if u, ok := m.Net.(interface{ SetInference(bool) }); ok {
		u.SetInference(true) // no backward pass follows these forward passes
		defer u.SetInference(false)
	}
	m.withEMA(func() {
		if steps == 0 {
			m.Diff.Ancestral(den, x, s, cb)
		} else {
			m.Diff.DDIM(den, x, steps, eta, s, cb)
		}
	})
	toUnit(x, x)
	if frames > 0 {
		chain.Slice((frames-1)*n, frames*n).Copy(x)
	}
	return x, chain, ctx.Err()
}

// guided is classifier-free guidance (Ho & Salimans 2022, eq. 6) as a
// Denoiser:
//
//	ε̃(x_t, y) = (1 + w) ε̂(x_t, y) − w ε̂(x_t, ∅)
//
// (one network call when w = 0).
type guided struct {
	net          labelledDenoiser
	labels, null []int
	w            float64
	out          *tensor.Mat
}

func (g *guided) Eps(x *tensor.Mat, t []int) *tensor.Mat {
	g.net.SetLabels(g.labels[:x.Rows])
	c := g.net.Eps(x, t)
	if g.w == 0 {
		return c
	}
	g.out = tensor.Reuse(g.out, c.Rows, c.Cols)
	g.out.Copy(c)
	g.net.SetLabels(g.null[:x.Rows])
	u := g.net.Eps(x, t)
	a, b := float32(1+g.w), float32(g.w)
	for i := 0; i < c.Rows; i++ {
		o, ur := g.out.Row(i), u.Row(i)
		for j, v := range o {
			o[j] = a*v - b*ur[j]
		}
	}
	return g.out
}

// labelledDenoiser is a Denoiser that reads the labels last set.
type labelledDenoiser interface {
	Denoiser
	SetLabels(labels []int)
}

// sampleChunk is the most images whose ε̂ the sampler computes in one network
// call: the network's buffers grow with the largest batch it has seen (about
// 15 MB per 28×28 image for the default U-Net), so sampling 1000 images in one
// call would hold some 15 GB.
const sampleChunk = 64

// chunkedNet evaluates a network on at most rows examples at a time. A row's ε̂
// does not depend on the other rows of its batch (per-example normalisation,
// and GEMM results that do not depend on how the rows are split), so the
// result is the same as one call on all rows.
type chunkedNet struct {
	net    labelledDenoiser
	rows   int
	labels []int
	out    *tensor.Mat
}

func (c *chunkedNet) SetLabels(labels []int) { c.labels = labels }

func (c *chunkedNet) Eps(x *tensor.Mat, t []int) *tensor.Mat {
	if x.Rows <= c.rows {
		if c.labels != nil {
			c.net.SetLabels(c.labels[:x.Rows])
		}
		return c.net.Eps(x, t)
	}
	c.out = tensor.Reuse(c.out, x.Rows, x.Cols)
	for lo := 0; lo < x.Rows; lo += c.rows {
		hi := min(lo+c.rows, x.Rows)
		if c.labels != nil {
			c.net.SetLabels(c.labels[lo:hi])
		}
		c.out.Slice(lo, hi).Copy(c.net.Eps(x.Slice(lo, hi), t[lo:hi]))
	}
	return c.out
}

// toUnit sets dst = clip((x + 1)/2, 0, 1).
func toUnit(dst, x *tensor.Mat) {
	for i := 0; i < x.Rows; i++ {
		d := dst.Row(i)
		for j, v := range x.Row(i) {
			d[j] = min(max((v+1)/2, 0), 1)
		}
	}
}

// Sample implements model.Sampler (see Generate), with the settings of
// SampleConfig; --chain writes the reverse process of the first 8 samples.
func (m *GaussModel) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	cfg, _ := o.Family.(*SampleConfig)
	if cfg == nil {
		cfg = &SampleConfig{}
	}
	var labels []int
	if m.Classes == 0 {
		if o.Label >= 0 {
			return nil, model.Flagf("label", "this %s model is not conditional (train with --conditional)", KindGaussian)
		}
		if cfg.Guidance != 0 {
			return nil, model.Flagf("guidance", "classifier-free guidance needs a conditional model, and this %s was trained without --conditional", KindGaussian)
		}
	} else {
		if o.Label >= m.Classes {
			return nil, model.Flagf("label", "must be in [0, %d), got %d", m.Classes, o.Label)
		}
		labels = make([]int, o.N)
		for i := range labels {
			labels[i] = i % m.Classes
			if o.Label >= 0 {
				labels[i] = o.Label
			}
		}
	}
	frames := 0
	if cfg.Chain != "" {
		frames = 10
	}
	x, chain, err := m.Generate(ctx, o.N, cfg.Steps, cfg.Eta, labels, cfg.Guidance, rng.New(o.Seed), frames)
	if err != nil {
		return nil, err
	}
	if cfg.Chain != "" {
		if err := m.saveChain(cfg.Chain, chain, o.N, frames); err != nil {
			return nil, model.Flagf("chain", "%v", err)
		}
	}
	return &dataset.Dataset{Name: "samples", X: x, Labels: labels, NumClasses: m.Classes, Height: m.H, Width: m.W, Channels: m.C}, nil
}

// onGrid sets dst to the values x in [0, 1] read as 8-bit levels on the grid of
// [−1, 1] the bound scores, −1 + 2k/255 with k = Level(2x − 1), and returns it.
func onGrid(dst, x *tensor.Mat) *tensor.Mat {
	for i := range x.Rows {
		r := dst.Row(i)
		for j, v := range x.Row(i) {
			r[j] = float32(-1 + 2*float64(Level(2*float64(v)-1))/255)
		}
	}
	return dst
}

// Score implements model.Scorer: the variational bound on log P(x) of the
// 8-bit data (Gaussian.BoundSampled with --vlb-t steps per image, or
// Gaussian.BoundAll), in nats per example, with its standard error over the
// examples, and in bits per dimension (Extra "bits_per_dim").
func (m *GaussModel) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	cfg, _ := o.Family.(*EvalConfig)
	if cfg == nil {
		cfg = DefaultEvalConfig()
	}
	if err := dataset.CheckUnit(d); err != nil {
		return model.Estimate{}, fmt.Errorf("%s: %w", KindGaussian, err)
	}
	diff := m.Diff
	var varNote string
	if cfg.Variance == "analytic" {
		v, note, err := m.analyticVar(ctx, cfg, o)
		if err != nil {
			return model.Estimate{}, err
		}
		diff.Var, varNote = v, note
	}
	n := d.Len()
	if m.Classes > 0 && d.Labels == nil {
		return model.Estimate{}, fmt.Errorf("%s: this model is conditional and scores log p(x|y): the data need labels", KindGaussian)
	}
	per := make([]float64, n)
	const chunk = 128
	y := tensor.New(chunk, m.dim)
	var err error
	m.withWeights(cfg.Weights, func() {
		for lo := 0; lo < n; lo += chunk {
			if err = ctx.Err(); err != nil {
				return
			}
			hi := min(n, lo+chunk)
			yc := onGrid(y.Slice(0, hi-lo), d.X.Slice(lo, hi))
			s := rng.NewStream(o.Seed, uint64(lo/chunk))
			if m.Classes > 0 {
				m.Net.SetLabels(d.Labels[lo:hi])
			}
			var b []float64
			if cfg.TPerImage == 0 {
				b = diff.BoundAll(m, yc, s)
			} else {
				b = diff.BoundSampled(m, yc, cfg.TPerImage, s)
			}
			for i, v := range b {
				per[lo+i] = -v
			}
			model.Step(ctx, "vlb", hi, n)
		}
	})
	if err != nil {
		return model.Estimate{}, err
	}
	mean, se := meanSE(per)
	terms := "all T"
	if cfg.TPerImage > 0 {
		terms = fmt.Sprintf("L_T + L_0 + %d sampled t", cfg.TPerImage)
	}
	q := ""
	if m.Classes > 0 {
		q = "log p(x|y)"
	}
	if varNote == "" {
		varNote = "fixed: the posterior's β̃_t"
	}
	return model.Estimate{LogLik: mean, StdErr: se, Method: "vlb", Bound: "lower", N: n, PerExample: per, Quantity: q,
		Extra: []model.Metric{{Name: "bits_per_dim", Value: -mean / (float64(m.dim) * math.Ln2)},
			{Name: "bits_per_dim_stderr", Value: se / (float64(m.dim) * math.Ln2)},
			{Name: "vlb_terms", Value: terms}, {Name: "timesteps", Value: m.Diff.S.T},
			{Name: "reverse_variance", Value: varNote}}}, nil
}

// analyticVar estimates Γ_t on cfg.VarData with the averaged weights and
// returns Analytic-DPM's variances and a line saying how they were made.
func (m *GaussModel) analyticVar(ctx context.Context, cfg *EvalConfig, o model.ScoreOptions) ([]float64, string, error) {
	if cfg.VarData == "" {
		return nil, "", model.Flagf("var-data", "--variance analytic estimates E‖ε̂‖² on data other than the scored: give training images, e.g. --var-data mnist,rows=0:1000")
	}
	vd, err := dataset.Load(cfg.VarData, dataset.Options{DataDir: o.DataDir, Seed: o.Seed})
	if err != nil {
		return nil, "", model.Flagf("var-data", "%v", err)
	}
	if vd.Dim() != m.dim {
		return nil, "", model.Flagf("var-data", "%s has rows of %d values, the model %d", cfg.VarData, vd.Dim(), m.dim)
	}
	if err := dataset.CheckUnit(vd); err != nil {
		return nil, "", model.Flagf("var-data", "%v", err)
	}
	if m.Classes > 0 {
		return nil, "", model.Flagf("variance", "analytic variances are for unconditional models; this one is conditional")
	}
	y := onGrid(tensor.New(vd.Len(), m.dim), vd.X)
	var gamma []float64
	m.withWeights(cfg.Weights, func() {
		gamma = m.Diff.EpsMeanSquare(m, y, cfg.VarN, 128, rng.NewStream(o.Seed, 1<<40), func(done, total int) {
			model.Step(ctx, "E‖ε̂‖²", done, total)
		}, ctx.Err)
	})
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	note := fmt.Sprintf("analytic (Bao et al. 2022), E‖ε̂‖² from %d draws per step of %s (%d images)", cfg.VarN, cfg.VarData, vd.Len())
	return m.Diff.AnalyticVariances(gamma), note, nil
}

// Describe implements model.Describer.
func (m *GaussModel) Describe() []model.Metric {
	np := m.parameters()
	net := fmt.Sprintf("MLP %d+%d → %v → %d (SiLU)", m.dim, m.Cfg.TimeDim, m.Cfg.Hidden, m.dim)
	if m.Arch == "unet" {
		net = unetDesc(m.H, m.W, m.C, m.Cfg.Channels, m.Cfg.Attention)
	}
	out := []model.Metric{{Name: "diffusion", Value: fmt.Sprintf("Gaussian, T = %d, %s schedule", m.Diff.S.T, m.Cfg.Schedule)},
		{Name: "network", Value: net}, {Name: "parameters", Value: np}, {Name: "ema decay", Value: m.Cfg.EMA}, {Name: "steps", Value: m.Steps}}
	if m.Classes > 0 {
		out = append(out, model.Metric{Name: "conditional on", Value: fmt.Sprintf("%d classes (label dropped with probability %g)", m.Classes, m.Cfg.PUncond)})
	}
	if k := len(m.History); k > 0 {
		out = append(out, model.Metric{Name: "last epoch mse", Value: m.History[k-1]})
	}
	return out
}

type gaussMeta struct {
	Config  GaussConfig `json:"config"`
	Arch    string      `json:"arch"`
	Classes int         `json:"classes,omitempty"`
	Dim     int         `json:"dim"`
	H       int         `json:"height,omitempty"`
	W       int         `json:"width,omitempty"`
	C       int         `json:"channels,omitempty"`
	Seed    uint64      `json:"seed"`
	Steps   int         `json:"steps"`
	History []float64   `json:"history"`
}

// Save implements model.Model: network, average, Adam and the noise stream.
func (m *GaussModel) Save(f *checkpoint.File) error {
	f.Kind = KindGaussian
	if err := f.SetMeta(gaussMeta{Config: m.Cfg, Arch: m.Arch, Classes: m.Classes, Dim: m.dim, H: m.H, W: m.W, C: m.C, Seed: m.Seed,
		Steps: m.Steps, History: m.History}); err != nil {
		return err
	}
	nn.SaveParams(f, "net", m.Net.Params())
	return m.save(f)
}

// LoadGaussModel reads a model written by Save.
func LoadGaussModel(f *checkpoint.File) (*GaussModel, error) {
	var mt gaussMeta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	if mt.Dim < 1 || (mt.Arch == "unet" && mt.H*mt.W*mt.C != mt.Dim) {
		return nil, fmt.Errorf("%s: bad sizes in the file (dim %d, image %d×%d×%d)", KindGaussian, mt.Dim, mt.H, mt.W, mt.C)
	}
	if mt.Classes < 0 {
		return nil, fmt.Errorf("%s: bad number of classes %d in the file", KindGaussian, mt.Classes)
	}
	m := &GaussModel{Cfg: mt.Config, Arch: mt.Arch, Classes: mt.Classes, dim: mt.Dim, H: mt.H, W: mt.W, C: mt.C, Seed: mt.Seed}
	m.Steps, m.History = mt.Steps, mt.History
	if err := m.build(rng.New(0)); err != nil {
		return nil, fmt.Errorf("%s: %w", KindGaussian, err)
	}
	if err := nn.LoadParams(f, "net", m.Net.Params()); err != nil {
		return nil, err
	}
	if err := m.load(f, KindGaussian); err != nil {
		return nil, err
	}
	return m, nil
}
