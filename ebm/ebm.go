package ebm

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

// Kind is the family name.
const Kind = "ebm"

// Config holds the training settings; DefaultConfig gives the tutorial's.
type Config struct {
	Channels  int     `flag:"channels" help:"c: the convolutions have c/2, c, 2c and 2c channels (image data)" range:"[2,1024]"`
	Hidden    int     `flag:"hidden" help:"units of the two hidden dense layers (data that are not images)" range:"[1,65536]"`
	Batch     int     `flag:"batch" help:"data examples (and as many negatives) per step" range:"[1,100000]"`
	LR        float64 `flag:"lr" help:"Adam learning rate" range:"(0,inf)"`
	Beta1     float64 `flag:"beta1" help:"Adam β₁ (the tutorial's 0: no momentum)" range:"[0,1)"`
	Alpha     float64 `flag:"alpha" help:"weight α of the regulariser α(E(x⁺)² + E(x⁻)²)" range:"[0,inf)"`
	Clip      float64 `flag:"clip" help:"clip the gradient's global norm to this (0: no clipping)" range:"[0,inf)"`
	Buffer    int     `flag:"buffer" help:"replay buffer of negatives (at least --batch)" range:"[1,100000000]"`
	Restart   float64 `flag:"restart" help:"fraction of negatives restarted from uniform noise each step" range:"[0,1]"`
	StepSize  float64 `flag:"step-size" help:"Langevin step size ε: s ← s − ε·clamp(∇F(s)) (in [−1, 1] units)" range:"(0,inf)"`
	Steps     int     `flag:"langevin-steps" help:"Langevin steps per training step" range:"[1,100000]"`
	Noise     float64 `flag:"noise" help:"standard deviation of the Langevin noise (in [−1, 1] units)" range:"[0,inf)"`
	GradClamp float64 `flag:"grad-clamp" help:"clamp each component of ∇F to ±this in a Langevin step (0: no clamp)" range:"[0,inf)"`
	DataNoise float64 `flag:"data-noise" help:"standard deviation of Gaussian noise added to the data (in [−1, 1] units)" range:"[0,inf)"`
	MaxEnergy float64 `flag:"max-energy" help:"stop when a mean energy of an epoch's last step exceeds this in magnitude" range:"(0,inf)"`
}

// DefaultConfig returns the settings of Lippe's tutorial 8 (after Du & Mordatch
// 2019): c = 32, batch 128, Adam with learning rate 1e-4 and β = (0, 0.999),
// α = 0.1, gradient norm clipped at 0.1, a buffer of 8192 with 5% restarts, 60
// Langevin steps of size 10 with the gradient clamped to ±0.03 and noise 0.005,
// data noise 0.005.
func DefaultConfig() *Config {
	return &Config{Channels: 32, Hidden: 128, Batch: 128, LR: 1e-4, Beta1: 0, Alpha: 0.1, Clip: 0.1,
		Buffer: 8192, Restart: 0.05, StepSize: 10, Steps: 60, Noise: 0.005, GradClamp: 0.03, DataNoise: 0.005,
		MaxEnergy: 1e4}
}

// Validate returns an error naming the flag of the first setting out of range.
func (c *Config) Validate() error {
	switch {
	case !(c.StepSize > 0) || math.IsInf(c.StepSize, 0):
		return model.Flagf("step-size", "the Langevin step size must be positive and finite, got %g", c.StepSize)
	case c.Steps < 1:
		return model.Flagf("langevin-steps", "need at least 1 Langevin step per training step, got %d", c.Steps)
	case c.Batch < 1:
		return model.Flagf("batch", "must be at least 1, got %d", c.Batch)
	case c.Buffer < c.Batch:
		return model.Flagf("buffer", "the replay buffer (%d) must hold at least one batch (--batch %d)", c.Buffer, c.Batch)
	case !(c.Restart >= 0 && c.Restart <= 1):
		return model.Flagf("restart", "must be in [0, 1], got %g", c.Restart)
	case !(c.LR > 0):
		return model.Flagf("lr", "must be positive, got %g", c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return model.Flagf("beta1", "must be in [0, 1), got %g", c.Beta1)
	case !(c.Alpha >= 0), !(c.Clip >= 0), !(c.Noise >= 0), !(c.GradClamp >= 0), !(c.DataNoise >= 0):
		return fmt.Errorf("ebm: --alpha, --clip, --noise, --grad-clamp and --data-noise must be >= 0")
	case !(c.MaxEnergy > 0):
		return model.Flagf("max-energy", "must be positive, got %g", c.MaxEnergy)
	case c.Channels < 2 || c.Hidden < 1:
		return fmt.Errorf("ebm: --channels must be >= 2 and --hidden >= 1, got %d and %d", c.Channels, c.Hidden)
	}
	return nil
}

// EpochLog is the record of one epoch.
type EpochLog struct {
	Loss    float64 `json:"loss"`      // mean of CD + regulariser over the steps
	CD      float64 `json:"cd"`        // mean E(x⁺) − mean E(x⁻)
	EPos    float64 `json:"e_pos"`     // mean energy of the data
	ENeg    float64 `json:"e_neg"`     // mean energy of the negatives
	GradNrm float64 `json:"grad_norm"` // mean gradient norm before clipping
}

// Model is a deep energy-based model in training.
type Model struct {
	Cfg     Config
	Net     *Net
	opt     *nn.Adam
	H, W, C int // image shape (0 when the rows are not images)
	dim     int
	// Buf holds the replay buffer (Buffer, d) in [−1, 1]; the next negatives are
	// written from row Head on (first in, first out).
	Buf  *tensor.Mat
	Head int
	// RS is the training stream: buffer draws, restarts, Langevin and data noise.
	RS      *rng.Stream
	Seed    uint64
	Steps   int // training steps taken
	History []EpochLog

	// Last step's mean energies, for Check.
	lastPos, lastNeg float64
	// Scratch reused every step.
	neg, both, noise *tensor.Mat
	w                []float32
	ones             []float32
}

func init() {
	model.Register(model.Family{
		Name:    Kind,
		Summary: "deep energy-based model: a convolutional energy trained with Langevin negatives from a replay buffer, scored by AIS",
		Doc: "A network E(x) defines p(x) ∝ exp(−E(x)) on [0, 1]^d. Training is contrastive divergence with\n" +
			"Langevin negatives drawn from a replay buffer (Du & Mordatch 2019; Lippe's UvA tutorial 8). eval\n" +
			"estimates log Z by AIS with HMC (ais-hmc) and reports log p(x̃) of uniformly dequantised data.",
		Config:       func() any { return DefaultConfig() },
		New:          newModel,
		Load:         func(f *checkpoint.File) (model.Model, error) { return Load(f) },
		SampleConfig: func() any { return DefaultSampleConfig() },
		EvalConfig:   func() any { return DefaultEvalConfig() },
		Epochs:       10,
	})
}

func newModel(c any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
	cfg := *c.(*Config)
	h, w, ch, _ := s.Image()
	for i := range d.Len() {
		for _, v := range d.X.Row(i) {
			if !(v >= 0 && v <= 1) {
				return nil, fmt.Errorf("ebm: the data must lie in [0, 1]; %s has %g in row %d", s.Data, v, i)
			}
		}
	}
	return New(cfg, d.Dim(), h, w, ch, s.Seed)
}

// New returns an untrained model for rows of dim values in [0, 1] (images of
// h×w×c when h > 0), its network initialised and its buffer filled with uniform
// noise from seed. Invalid settings return an error naming the flag.
func New(cfg Config, dim, h, w, c int, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h > 0 && (h < 2 || w < 2) {
		h, w, c = 0, 0, 0 // too small for the convolutions: dense layers
	}
	m := &Model{Cfg: cfg, H: h, W: w, C: c, dim: dim, Seed: seed, RS: rng.NewStream(seed, 1)}
	m.Net = NewNet(dim, h, w, c, cfg.Channels, cfg.Hidden, rng.NewStream(seed, 0))
	m.opt = m.newAdam()
	m.Buf = tensor.New(cfg.Buffer, dim)
	uniform(m.Buf.Data, m.RS)
	return m, nil
}

func (m *Model) newAdam() *nn.Adam {
	a := nn.NewAdam(m.Cfg.LR)
	a.Beta1 = m.Cfg.Beta1
	if a.Beta1 == 0 {
		a.Beta1 = math.SmallestNonzeroFloat64 // nn.Adam reads 0 as its default 0.9; this is 0 in float32
	}
	return a
}

// uniform fills x with U(−1, 1) values from s.
func uniform(x []float32, s *rng.Stream) {
	s.FillUniform(x)
	for i, v := range x {
		x[i] = 2*v - 1
	}
}

// Kind implements model.Model.
func (m *Model) Kind() string { return Kind }

// Dim implements model.Model.
func (m *Model) Dim() int { return m.dim }

// BatchSize implements model.Trainer.
func (m *Model) BatchSize() int { return m.Cfg.Batch }

// Langevin runs steps of the tutorial's Langevin dynamics on the rows of s (in
// [−1, 1]), in place:
//
//	s ← clamp(s + σ η, −1, 1),   η ~ N(0, I)
//	s ← clamp(s − ε · clamp(∇F(s), −c, c), −1, 1)
//
// with ε = StepSize, σ = Noise and c = GradClamp (no clamp when 0), noise from r.
// With c = 0 and σ = √(2ε) this is, but for the order of the noise and the
// drift, the unadjusted Langevin algorithm s ← s − (h/2)∇F(s) + √h η on exp(−F)
// with h = 2ε (mcmc.Langevin), clamped to the box; the tutorial's settings
// (ε = 10, c = 0.03, σ = 0.005) are a noisy clamped gradient descent instead. After step k (1-based) it
// calls snap(k) when snap is not nil. It leaves the network's parameter
// gradients alone.
func (m *Model) Langevin(s *tensor.Mat, steps int, r *rng.Stream, snap func(k int)) {
	n := s.Rows * s.Cols
	m.noise = tensor.Reuse(m.noise, s.Rows, s.Cols)
	if cap(m.ones) < s.Rows {
		m.ones = make([]float32, s.Rows)
	}
	ones := m.ones[:s.Rows]
	for i := range ones {
		ones[i] = 1
	}
	eps, sd, c := float32(m.Cfg.StepSize), float32(m.Cfg.Noise), float32(m.Cfg.GradClamp)
	x := s.Data[:n]
	for k := 1; k <= steps; k++ {
		if sd > 0 {
			r.FillNormal(m.noise.Data[:n], 0, sd)
			for i, z := range m.noise.Data[:n] {
				x[i] = clamp1(x[i] + z)
			}
		}
		m.Net.Forward(s)
		g := m.Net.InputGrad(ones).Data[:n]
		for i, gi := range g {
			if c > 0 {
				gi = min(max(gi, -c), c)
			}
			x[i] = clamp1(x[i] - eps*gi)
		}
		if snap != nil {
			snap(k)
		}
	}
}

func clamp1(v float32) float32 { return min(max(v, -1), 1) }

// Epoch implements model.Trainer: for every mini-batch x⁺ (scaled to [−1, 1],
// plus Gaussian data noise), negatives x⁻ are drawn from the buffer (each row
// restarted from U(−1, 1) with probability Restart), moved by Langevin, written
// back to the buffer (first in, first out), and θ takes one Adam step on
//
//	L = mean_i F(x⁺_i) − mean_i F(x⁻_i) + α mean_i (F(x⁺_i)² + F(x⁻_i)²),
//
// its gradient norm clipped to Clip. The loss reported is L's mean over the steps.
func (m *Model) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	var lg EpochLog
	var buf *tensor.Mat
	steps := 0
	params := m.Net.Params()
	for x, _ := e.Next(buf); x != nil; x, _ = e.Next(buf) {
		buf = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		b := x.Rows
		// Negatives from the buffer, some restarted.
		m.neg = tensor.Reuse(m.neg, b, m.dim)
		for i := range b {
			r := m.neg.Row(i)
			if m.RS.Float64() < m.Cfg.Restart {
				uniform(r, m.RS)
			} else {
				copy(r, m.Buf.Row(m.RS.IntN(m.Cfg.Buffer)))
			}
		}
		m.Langevin(m.neg, m.Cfg.Steps, m.RS, nil)
		for i := range b {
			copy(m.Buf.Row(m.Head), m.neg.Row(i))
			m.Head = (m.Head + 1) % m.Cfg.Buffer
		}
		// Positives and negatives in one batch (2b, d).
		m.both = tensor.Reuse(m.both, 2*b, m.dim)
		pos := m.both.Slice(0, b)
		m.RS.FillNormal(pos.Data[:b*m.dim], 0, float32(m.Cfg.DataNoise))
		for i := range b {
			pr, xr := pos.Row(i), x.Row(i)
			for j, v := range xr {
				pr[j] = clamp1(2*v - 1 + pr[j])
			}
		}
		m.both.Slice(b, 2*b).Copy(m.neg)
		en := m.Net.Forward(m.both)
		if cap(m.w) < 2*b {
			m.w = make([]float32, 2*b)
		}
		w := m.w[:2*b]
		var ep, eneg, reg float64
		a, ib := float32(m.Cfg.Alpha), 1/float32(b)
		for i, v := range en {
			f := float64(v)
			reg += f * f
			sign := float32(1)
			if i >= b {
				sign = -1
				eneg += f
			} else {
				ep += f
			}
			w[i] = ib * (sign + 2*a*v)
		}
		ep, eneg = ep/float64(b), eneg/float64(b)
		loss := ep - eneg + m.Cfg.Alpha*reg/float64(b)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return model.Stats{}, e.Err("the loss is %g: the energies diverged (lower --lr or --step-size, raise --alpha)", loss)
		}
		m.Net.Backward(w)
		gn := nn.GradNorm(params)
		if m.Cfg.Clip > 0 {
			nn.ClipGradNorm(params, m.Cfg.Clip)
		}
		m.opt.Step(params)
		m.Steps++
		steps++
		lg.Loss += loss
		lg.CD += ep - eneg
		lg.EPos += ep
		lg.ENeg += eneg
		lg.GradNrm += gn
		m.lastPos, m.lastNeg = ep, eneg
	}
	n := float64(max(steps, 1))
	lg.Loss, lg.CD, lg.EPos, lg.ENeg, lg.GradNrm = lg.Loss/n, lg.CD/n, lg.EPos/n, lg.ENeg/n, lg.GradNrm/n
	m.History = append(m.History, lg)
	return model.Stats{Loss: lg.Loss, LossName: "cd+reg", Metrics: []model.Metric{
		{Name: "cd", Value: lg.CD}, {Name: "e_data", Value: lg.EPos}, {Name: "e_neg", Value: lg.ENeg},
		{Name: "grad_norm", Value: lg.GradNrm}}}, nil
}

// Check implements model.Checker: it returns an error when a parameter is not
// finite or the mean energy of the data or of the negatives at the epoch's last
// step exceeds MaxEnergy in magnitude (the energies blew up).
func (m *Model) Check() error {
	for _, p := range m.Net.Params() {
		if err := model.CheckFinite("ebm: parameter "+p.Name, 0, p.W); err != nil {
			return err
		}
	}
	for _, v := range []struct {
		name string
		e    float64
	}{{"the data", m.lastPos}, {"the negatives", m.lastNeg}} {
		if !(math.Abs(v.e) <= m.Cfg.MaxEnergy) {
			return fmt.Errorf("ebm: the mean energy of %s is %.4g, beyond --max-energy %g: the energies blew up (lower --lr or --step-size, raise --alpha)", v.name, v.e, m.Cfg.MaxEnergy)
		}
	}
	return nil
}

// Energy returns E(x_i) = F(2x_i − 1) for every row of x (values in [0, 1]), in
// float64, batch by batch.
func (m *Model) Energy(x *tensor.Mat) []float64 {
	out := make([]float64, x.Rows)
	const chunk = 256
	s := tensor.New(min(chunk, x.Rows), m.dim)
	for i := 0; i < x.Rows; i += chunk {
		j := min(x.Rows, i+chunk)
		sb := s.Slice(0, j-i)
		for r := i; r < j; r++ {
			sr := sb.Row(r - i)
			for c, v := range x.Row(r) {
				sr[c] = 2*v - 1
			}
		}
		for r, e := range m.Net.Forward(sb) {
			out[i+r] = float64(e)
		}
	}
	return out
}
