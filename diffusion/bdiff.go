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

// KindBinary is the family name of binary diffusion.
const KindBinary = "bdiff"

// BinaryConfig holds the settings of binary diffusion.
type BinaryConfig struct {
	Noise
	// Arch is the x_0 network; "" (files before session 11) is the MLP.
	Arch     string  `flag:"arch" help:"x_0 network: an MLP of the rows, or the U-Net of ddpm for images" choices:"mlp|unet"`
	Channels int     `flag:"channels" help:"U-Net channels at full resolution (twice that at 1/2 and 1/4; even; --arch unet)" range:"[2,1024]"`
	Hidden   []int   `flag:"hidden" help:"hidden layer sizes of the x_0-predicting MLP (--arch mlp)" range:"[1,65536]"`
	TimeDim  int     `flag:"time-dim" help:"size of the sinusoidal time embedding (even)" range:"[2,4096]"`
	Batch    int     `flag:"batch" help:"examples per step" range:"[1,100000]"`
	LR       float64 `flag:"lr" help:"Adam learning rate" range:"(0,1]"`
	EMA      float64 `flag:"ema" help:"decay of the weight average used for samples and the bound (0: none)" range:"[0,1)"`
	Aux      float64 `flag:"aux" help:"weight λ of the auxiliary x_0 cross-entropy (Austin et al. 2021)" range:"[0,inf)"`
	Clip     float64 `flag:"clip" help:"largest global gradient norm (0: no clipping)" range:"[0,inf)"`
	// Dropout is the U-Net's dropout probability in its residual blocks.
	Dropout float64 `flag:"dropout" help:"dropout probability in the U-Net's residual blocks, during training only (Ho et al. 2020 use 0.1; --arch unet)" range:"[0,1)"`
	// Attention adds the U-Net's self-attention block at 1/4 resolution.
	Attention bool `flag:"attention" help:"a self-attention block after the U-Net's middle block, at a quarter of the resolution (7×7 for MNIST; --arch unet)"`
	// NoSkip drops the skip term of the logits (see BinaryModel.Logits).
	NoSkip bool `flag:"no-skip" help:"let the network predict x_0 alone, without the skip term λ_t(2x_t − 1)"`
}

// Validate implements the check model.Validate calls.
func (c *BinaryConfig) Validate() error {
	if c.TimeDim%2 != 0 {
		return model.Flagf("time-dim", "must be even, got %d", c.TimeDim)
	}
	if c.Dropout > 0 && c.arch() != "unet" {
		return model.Flagf("dropout", "is for --arch unet (the MLP has no dropout), got %g with --arch %s", c.Dropout, c.arch())
	}
	if c.Attention && c.arch() != "unet" {
		return model.Flagf("attention", "is for --arch unet; the MLP has no positions to attend over (--arch %s)", c.arch())
	}
	return nil
}

// DefaultBinaryConfig returns the defaults: T = 500 with the cosine schedule
// (Hoogeboom et al. 2021), an MLP of two 1024-unit SiLU layers (a U-Net of 32
// channels with --arch unet), Adam 1e-3,
// batch 128, EMA 0.999, λ = 0.001.
func DefaultBinaryConfig() *BinaryConfig {
	return &BinaryConfig{Noise: Noise{T: 500, Schedule: "cosine", BetaStart: LinearBetaStart, BetaEnd: LinearBetaEnd},
		Arch: "mlp", Channels: 32, Hidden: []int{1024, 1024}, TimeDim: 64, Batch: 128, LR: 1e-3, EMA: 0.999, Aux: 0.001, Clip: 1}
}

func init() {
	model.Register(model.Family{
		Name:    KindBinary,
		Summary: "binary diffusion (multinomial diffusion with 2 categories, Hoogeboom et al. 2021 / D3PM uniform): bits flipped towards uniform, an MLP predicts x_0; the bound in nats",
		Doc:     binaryDoc,
		Config:  func() any { return DefaultBinaryConfig() },
		New: func(cfg any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
			return NewBinaryModel(*cfg.(*BinaryConfig), d, s)
		},
		Load:         func(f *checkpoint.File) (model.Model, error) { return LoadBinaryModel(f) },
		SampleConfig: func() any { return &BinarySampleConfig{} },
		EvalConfig:   func() any { return &BinaryEvalConfig{Weights: "ema"} },
		Needs:        model.Needs{Binary: true},
		Epochs:       20,
	})
}

// BinarySampleConfig holds the settings of `latent sample` for bdiff.
type BinarySampleConfig struct {
	Chain string `flag:"chain" help:"also write a picture of the reverse process x_T → x_0 of the first 8 samples (the network's guess of x_0 at 10 steps) to this PNG"`
}

const binaryDoc = `Every bit is resampled uniformly with probability β_t at each of T steps, so
x_T is uniform noise; an MLP of (x_t, t) predicts p̃(x_0 | x_t), and the reverse
step is the posterior q(x_{t−1} | x_t, x_0) mixed over that prediction. Training
takes one step t per example, uniformly, and minimises its KL term (plus λ times
the cross-entropy of x_0); the loss shown is the unbiased estimate
L_T + T·L_{t−1} of the whole bound, in nats per example. eval reports the bound
with all T terms (one draw of x_t per term), a lower bound on log p(x), and for
data of at most 8 bits also log p(x) itself, enumerated exactly.`

// BinaryModel is a binary diffusion model in training.
type BinaryModel struct {
	Cfg     BinaryConfig
	dim     int
	H, W, C int
	Seed    uint64
	Net     x0Net
	trainer

	Diff *Binary

	ts       []int
	xt, grad *tensor.Mat
}

// NewBinaryModel returns an untrained model for the binary data d.
func NewBinaryModel(cfg BinaryConfig, d *dataset.Dataset, s *model.Settings) (*BinaryModel, error) {
	if s.Binarize != "dynamic" && !d.Binary && !dataset.IsBinary(d.X) {
		return nil, model.Flagf("binarize", "%s models binary data and --data %s is not binary (use --binarize threshold, stochastic or dynamic)", KindBinary, s.Data)
	}
	m := &BinaryModel{Cfg: cfg, dim: d.Dim(), Seed: s.Seed}
	if h, w, c, ok := s.Image(); ok {
		m.H, m.W, m.C = h, w, c
	}
	if err := m.build(rng.NewStream(s.Seed, 0)); err != nil {
		return nil, err
	}
	m.Noise = *rng.NewStream(s.Seed, 1)
	return m, nil
}

// x0Net is the network of the logits of x_0 given the bits x_t (entering as
// 2x_t − 1) and the step t.
type x0Net interface {
	Forward(x *tensor.Mat, t []int) *tensor.Mat
	Backward(dy *tensor.Mat)
	Params() []*nn.Param
}

// mlpX0 is the MLP of the rows.
type mlpX0 struct{ *timeMLP }

func (m mlpX0) Forward(x *tensor.Mat, t []int) *tensor.Mat { return m.timeMLP.Forward(x, t, 2, -1) }

// unetX0 is ddpm's U-Net on the images 2x_t − 1, its one output per pixel the
// logit.
type unetX0 struct {
	*UNet
	in *tensor.Mat
}

func (u *unetX0) Forward(x *tensor.Mat, t []int) *tensor.Mat {
	u.in = tensor.Reuse(u.in, x.Rows, x.Cols)
	for i, v := range x.Data[:x.Rows*x.Cols] {
		u.in.Data[i] = 2*v - 1
	}
	return u.Eps(u.in, t)
}

// arch returns the network's kind, "mlp" for files that predate the choice.
func (c *BinaryConfig) arch() string {
	if c.Arch == "" {
		return "mlp"
	}
	return c.Arch
}

func (m *BinaryModel) build(s *rng.Stream) error {
	sc, err := m.Cfg.Noise.schedule()
	if err != nil {
		return err
	}
	m.Diff = NewBinary(sc)
	switch m.Cfg.arch() {
	case "unet":
		if m.H == 0 {
			return model.Flagf("arch", "unet needs images; the data are rows of %d values without an image shape (use --arch mlp)", m.dim)
		}
		if err := CheckUNetShape(m.H, m.W); err != nil {
			return model.Flagf("arch", "%v (or use --arch mlp)", err)
		}
		if m.Cfg.Channels < 2 || m.Cfg.Channels%2 != 0 {
			return model.Flagf("channels", "must be even and at least 2, got %d", m.Cfg.Channels)
		}
		u := NewUNet(m.H, m.W, m.C, m.Cfg.Channels, s)
		if m.Cfg.Attention {
			u.AddAttention(s)
		}
		m.Net = &unetX0{UNet: u}
		if !(m.Cfg.Dropout >= 0 && m.Cfg.Dropout < 1) {
			return model.Flagf("dropout", "must be in [0, 1), got %g", m.Cfg.Dropout)
		}
		m.useDropout(u, m.Cfg.Dropout, m.Seed)
	case "mlp":
		if m.Cfg.Dropout != 0 {
			return model.Flagf("dropout", "is for --arch unet (the MLP has no dropout), got %g", m.Cfg.Dropout)
		}
		if m.Cfg.TimeDim < 2 || m.Cfg.TimeDim%2 != 0 {
			return model.Flagf("time-dim", "must be even and at least 2, got %d", m.Cfg.TimeDim)
		}
		m.Net = mlpX0{newTimeMLP(m.dim, m.Cfg.TimeDim, 0, m.Cfg.Hidden, s)}
	default:
		return model.Flagf("arch", "unknown network %q (mlp or unet)", m.Cfg.Arch)
	}
	m.init(m.Net.Params(), m.Cfg.LR)
	return nil
}

// Kind implements model.Model.
func (m *BinaryModel) Kind() string { return KindBinary }

// Dim implements model.Model.
func (m *BinaryModel) Dim() int { return m.dim }

// BatchSize implements model.Trainer.
func (m *BinaryModel) BatchSize() int { return m.Cfg.Batch }

// Logits implements Predictor with the network's current weights: the input
// bit x enters as 2x − 1, and the network's output f is added to the skip
// term, the logit of x_0 given x_t alone under a uniform prior on x_0,
//
//	logit p̃(x_0 = 1 | x_t) = f(x_t, t) + λ_t (2x_t − 1),
//	λ_t = log[(ᾱ_t + (1 − ᾱ_t)/2) / ((1 − ᾱ_t)/2)],
//
// so that the network learns only what the other bits say (near t = 1, x_0
// is almost surely x_t, which the skip term alone predicts). It is part of
// the model: the gradient with respect to f is that with respect to the
// logits. Config.NoSkip turns it off.
func (m *BinaryModel) Logits(xt *tensor.Mat, t []int) *tensor.Mat {
	l := m.Net.Forward(xt, t)
	if m.Cfg.NoSkip {
		return l
	}
	for i := 0; i < l.Rows; i++ {
		ab := m.Diff.S.AlphaBar[t[i]]
		lam := float32(math.Log((ab + (1-ab)/2) / ((1 - ab) / 2)))
		r, x := l.Row(i), xt.Row(i)
		for j, v := range x {
			r[j] += lam * (2*v - 1)
		}
	}
	return l
}

// Epoch implements model.Trainer: per mini-batch, one step t ~ U{1…T} and one
// draw x_t ~ q(x_t | x_0) per example, and an Adam step on the mean of
// L_{t−1} + λ·CE(x_0, p̃(x_0 | x_t)).
func (m *BinaryModel) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	var buf *tensor.Mat
	var sumBound, sumCE float64
	n := 0
	for x, _ := e.Next(buf); x != nil; x, _ = e.Next(buf) {
		buf = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		b, ce := m.step(x)
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return model.Stats{}, e.Err("the bound estimate is %v", b)
		}
		sumBound += b
		sumCE += ce
		n += x.Rows
	}
	k := float64(max(n, 1))
	loss := sumBound / k
	m.History = append(m.History, loss)
	return model.Stats{Loss: loss, LossName: "-vlb (train estimate)",
		Metrics: []model.Metric{{Name: "x0_xent", Value: sumCE / k}}}, nil
}

// step trains on one batch and returns the sums over its rows of the bound
// estimate L_T + T·L_{t−1} and of the x_0 cross-entropy.
func (m *BinaryModel) step(x *tensor.Mat) (bound, ce float64) {
	n, T := x.Rows, m.Diff.S.T
	if cap(m.ts) < n {
		m.ts = make([]int, n)
	}
	m.ts = m.ts[:n]
	for i := range m.ts {
		m.ts[i] = 1 + m.Noise.IntN(T)
	}
	m.xt = m.Diff.Noise(m.xt, x, m.ts, &m.Noise)
	m.training(true)
	defer m.training(false)
	l := m.Logits(m.xt, m.ts)
	m.grad = tensor.Reuse(m.grad, n, m.dim)
	inv := 1 / float64(n)
	lam := m.Cfg.Aux
	for i := range n {
		x0, lr, g := x.Row(i), l.Row(i), m.grad.Row(i)
		term := m.Diff.Term(m.ts[i], x0, m.xt.Row(i), lr, g)
		bound += m.Diff.PriorKL(x0) + float64(T)*term
		for j, lj := range lr {
			lv := float64(lj)
			ce += softplus(lv) - float64(x0[j])*lv
			pt := 1 / (1 + math.Exp(-lv))
			g[j] = float32((float64(g[j]) + lam*(pt-float64(x0[j]))) * inv)
		}
	}
	m.Net.Backward(m.grad)
	m.update(m.Cfg.Clip, m.Cfg.EMA)
	return bound, ce
}

// Sample implements model.Sampler: ancestral sampling from uniform bits x_T,
// x_{t−1} ~ p_θ(x_{t−1} | x_t) down to x_0 ~ p̃_θ(x_0 | x_1), with the averaged
// weights.
func (m *BinaryModel) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	if o.Label >= 0 {
		return nil, model.Flagf("label", "a %s model is not conditional", KindBinary)
	}
	cfg, _ := o.Family.(*BinarySampleConfig)
	frames := 0
	if cfg != nil && cfg.Chain != "" {
		if m.H == 0 {
			return nil, model.Flagf("chain", "the reverse process is pictured for images; the data are rows of %d values", m.dim)
		}
		frames = 10
	}
	x, chain := m.sampleChain(ctx, o.N, rng.New(o.Seed), frames)
	if frames > 0 {
		if err := chainGrid(cfg.Chain, chain, o.N, frames, m.H, m.W, m.C); err != nil {
			return nil, model.Flagf("chain", "%v", err)
		}
	}
	return &dataset.Dataset{Name: "samples", X: x, Binary: true, Height: m.H, Width: m.W, Channels: m.C}, nil
}

// sampleChain draws n samples from s; with frames > 0 it also returns, for
// every sample, frames snapshots of the chain from x_T to x_0 (the last is the
// sample), as rows frame-major: frame k of sample i is row k·n + i. Snapshots
// show p̃_θ(x_0 = 1 | x_t), the network's guess, so the picture sharpens.
func (m *BinaryModel) sampleChain(ctx context.Context, n int, s *rng.Stream, frames int) (*tensor.Mat, *tensor.Mat) {
	T := m.Diff.S.T
	x := tensor.New(n, m.dim)
	s.FillUniform(x.Data)
	for i := range x.Data {
		x.Data[i] = float32(math.Floor(float64(x.Data[i]) * 2))
	}
	var chain *tensor.Mat
	at := snapshotSteps(T, frames)
	if frames > 0 {
		chain = tensor.New(frames*n, m.dim)
	}
	ts := make([]int, n)
	u := make([]float32, m.dim)
	m.withEMA(func() {
		for t := T; t >= 1; t-- {
			for i := range ts {
				ts[i] = t
			}
			l := m.Logits(x, ts)
			if k, ok := at[t]; ok {
				for i := range n {
					dst, lr := chain.Row(k*n+i), l.Row(i)
					for j, v := range lr {
						dst[j] = float32(1 / (1 + math.Exp(-float64(v))))
					}
				}
			}
			for i := range n {
				xr, lr := x.Row(i), l.Row(i)
				s.FillUniform(u)
				for j, v := range lr {
					pt := 1 / (1 + math.Exp(-float64(v)))
					p := pt
					if t > 1 {
						p = m.Diff.stepProb(t, xr[j], pt)
					}
					if float64(u[j]) < p {
						xr[j] = 1
					} else {
						xr[j] = 0
					}
				}
			}
			if t%max(T/50, 1) == 0 {
				model.Step(ctx, "sample", T-t, T)
			}
		}
	})
	model.Step(ctx, "sample", T, T)
	return x, chain
}

// snapshotSteps returns the steps t at which a chain of T steps is pictured
// in frames snapshots, evenly from t = T (frame 0) to t = 1 (the last), with
// each step's frame number.
func snapshotSteps(T, frames int) map[int]int {
	at := map[int]int{}
	if frames == 1 {
		at[1] = 0
	}
	for k := 0; k < frames && frames > 1; k++ {
		at[T-int(math.Round(float64(k)*float64(T-1)/float64(frames-1)))] = k
	}
	return at
}

// BinaryEvalConfig holds the settings of `latent eval` for bdiff.
type BinaryEvalConfig struct {
	Weights string `flag:"weights" help:"score the weight average (ema) or the trained weights as they are (raw); early in training the average lags" choices:"ema|raw"`
}

// Score implements model.Scorer: the negative bound L with all T terms (each
// KL exact for one draw of x_t; draws from o.Seed), reported as the lower
// bound −L on log p(x) per example, with its standard error over the
// examples. For data of at most 8 bits it also enumerates log p(x) exactly
// (Extra "exact_log_likelihood").
func (m *BinaryModel) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	cfg, _ := o.Family.(*BinaryEvalConfig)
	if cfg == nil {
		cfg = &BinaryEvalConfig{Weights: "ema"}
	}
	if !d.Binary && !dataset.IsBinary(d.X) {
		return model.Estimate{}, fmt.Errorf("%s: scores binary data; use --binarize threshold or stochastic", KindBinary)
	}
	n := d.Len()
	per := make([]float64, n)
	terms := make([]float64, m.Diff.S.T+1)
	const chunk = 500
	var err error
	m.withWeights(cfg.Weights, func() {
		for lo := 0; lo < n; lo += chunk {
			if err = ctx.Err(); err != nil {
				return
			}
			hi := min(n, lo+chunk)
			b := m.Diff.BoundTerms(nil, terms, m, d.X.Slice(lo, hi), rng.NewStream(o.Seed, uint64(lo/chunk)))
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
	est := model.Estimate{LogLik: mean, StdErr: se, Method: "vlb", Bound: "lower", N: n, PerExample: per,
		Extra: []model.Metric{{Name: "vlb_terms", Value: m.Diff.S.T}, {Name: "vlb_term_nats", Value: TermRanges(terms, n)}}}
	if m.dim <= 8 {
		var lp []float64
		m.withWeights(cfg.Weights, func() { lp = m.Diff.ExactLogProb(m, m.dim) })
		var s float64
		for i := range n {
			s += lp[code(d.X.Row(i))]
		}
		est.Extra = append(est.Extra, model.Metric{Name: "exact_log_likelihood", Value: s / float64(n)})
	}
	return est, nil
}

// meanSE returns the mean of v and its standard error.
func meanSE(v []float64) (float64, float64) {
	var s float64
	for _, x := range v {
		s += x
	}
	n := float64(len(v))
	mean := s / n
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	if len(v) < 2 {
		return mean, 0
	}
	return mean, math.Sqrt(ss / (n - 1) / n)
}

// Describe implements model.Describer.
func (m *BinaryModel) Describe() []model.Metric {
	np := m.parameters()
	net := fmt.Sprintf("MLP %d+%d → %v → %d (SiLU)", m.dim, m.Cfg.TimeDim, m.Cfg.Hidden, m.dim)
	if m.Cfg.arch() == "unet" {
		net = unetDesc(m.H, m.W, m.C, m.Cfg.Channels, m.Cfg.Attention)
	}
	out := []model.Metric{{Name: "diffusion", Value: fmt.Sprintf("binary, T = %d, %s schedule", m.Diff.S.T, m.Cfg.Schedule)},
		{Name: "network", Value: net},
		{Name: "parameters", Value: np}, {Name: "ema decay", Value: m.Cfg.EMA}, {Name: "steps", Value: m.Steps}}
	if k := len(m.History); k > 0 {
		out = append(out, model.Metric{Name: "last epoch -vlb (train estimate)", Value: m.History[k-1]})
	}
	return out
}

type binaryMeta struct {
	Config  BinaryConfig `json:"config"`
	Dim     int          `json:"dim"`
	H       int          `json:"height,omitempty"`
	W       int          `json:"width,omitempty"`
	C       int          `json:"channels,omitempty"`
	Seed    uint64       `json:"seed"`
	Steps   int          `json:"steps"`
	History []float64    `json:"history"`
}

// Save implements model.Model: network, average, Adam and the noise stream.
func (m *BinaryModel) Save(f *checkpoint.File) error {
	f.Kind = KindBinary
	if err := f.SetMeta(binaryMeta{Config: m.Cfg, Dim: m.dim, H: m.H, W: m.W, C: m.C, Seed: m.Seed,
		Steps: m.Steps, History: m.History}); err != nil {
		return err
	}
	if mlp, ok := m.Net.(mlpX0); ok {
		nn.SaveLayer(f, "net", mlp.Net)
	} else {
		nn.SaveParams(f, "net", m.Net.Params())
	}
	return m.save(f)
}

// LoadBinaryModel reads a model written by Save.
func LoadBinaryModel(f *checkpoint.File) (*BinaryModel, error) {
	var mt binaryMeta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	if mt.Dim < 1 {
		return nil, fmt.Errorf("%s: bad dimension %d in the file", KindBinary, mt.Dim)
	}
	m := &BinaryModel{Cfg: mt.Config, dim: mt.Dim, H: mt.H, W: mt.W, C: mt.C, Seed: mt.Seed}
	m.Steps, m.History = mt.Steps, mt.History
	if err := m.build(rng.New(0)); err != nil {
		return nil, fmt.Errorf("%s: %w", KindBinary, err)
	}
	var err error
	if mlp, ok := m.Net.(mlpX0); ok {
		err = nn.LoadLayer(f, "net", mlp.Net)
	} else {
		err = nn.LoadParams(f, "net", m.Net.Params())
	}
	if err != nil {
		return nil, err
	}
	if err := m.load(f, KindBinary); err != nil {
		return nil, err
	}
	return m, nil
}
