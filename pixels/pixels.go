// Package pixels is the independent-pixels baseline: every value of an example
// is modelled on its own, as a Bernoulli (binary data) or a Gaussian (real
// data), so log p(x) is a sum over the pixels, exact and in closed form. It is
// the floor every latent-variable model must beat, and the smallest family
// written against package model's contract.
package pixels

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Kind is the family name.
const Kind = "pixels"

// Config holds the settings. The zero value is not used: Family.Config returns
// the defaults.
type Config struct {
	// Dist is "bernoulli", "gaussian" or "auto" (Bernoulli when the training
	// data are binary, or binarised dynamically).
	Dist string `flag:"dist" help:"per-pixel distribution" choices:"auto|bernoulli|gaussian"`
	// Alpha is the pseudo-count added to both outcomes of a Bernoulli pixel,
	// p = (Σx + α) / (n + 2α): a Beta(α+1, α+1) prior's posterior mode, which
	// keeps a pixel never seen on from giving log 0 on test data.
	Alpha float64 `flag:"alpha" help:"Bernoulli pseudo-count" range:"[0,inf)"`
	// MinVar is the smallest variance of a Gaussian pixel (constant pixels).
	MinVar float64 `flag:"min-var" help:"smallest Gaussian variance" range:"(0,inf)"`
	Batch  int     `flag:"batch" help:"examples per pass of the sums" range:"[1,1000000]"`
}

// Model is a product of independent per-pixel distributions.
type Model struct {
	Cfg       Config
	Bernoulli bool
	// P holds the Bernoulli means, or Mean and Var the Gaussians'.
	P, Mean, Var []float64
	dim          int
	done         bool
	// sums of the epoch in progress
	s1, s2 []float64
	n      int
}

// Description of the model file's meta.
type meta struct {
	Config    Config `json:"config"`
	Bernoulli bool   `json:"bernoulli"`
	Dim       int    `json:"dim"`
	Done      bool   `json:"done"`
}

func init() {
	model.Register(model.Family{
		Name:    Kind,
		Summary: "independent pixels: a product of Bernoullis (binary data) or Gaussians, the floor every model must beat",
		Config:  func() any { return &Config{Dist: "auto", Alpha: 1, MinVar: 1e-4, Batch: 1000} },
		New:     newModel,
		Load:    load,
		Epochs:  1,
	})
}

func newModel(c any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
	cfg := *c.(*Config)
	m := &Model{Cfg: cfg, dim: d.Dim()}
	switch cfg.Dist {
	case "bernoulli":
		m.Bernoulli = true
	case "gaussian":
	default:
		m.Bernoulli = s.Binarize == "dynamic" || d.Binary || isBinary(d.X)
	}
	if m.Bernoulli && s.Binarize != "dynamic" && !(d.Binary || isBinary(d.X)) {
		return nil, model.Flagf("dist", "bernoulli needs binary data; %s is not (use --binarize, or --dist gaussian)", s.Data)
	}
	return m, nil
}

// New returns an untrained model of dim pixels.
func New(cfg Config, dim int, bernoulli bool) *Model {
	return &Model{Cfg: cfg, dim: dim, Bernoulli: bernoulli}
}

func isBinary(x *tensor.Mat) bool {
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Row(i) {
			if v != 0 && v != 1 {
				return false
			}
		}
	}
	return true
}

// Kind implements model.Model.
func (m *Model) Kind() string { return Kind }

// Dim implements model.Model.
func (m *Model) Dim() int { return m.dim }

// BatchSize implements model.Trainer.
func (m *Model) BatchSize() int { return m.Cfg.Batch }

// Converged implements model.Converger: the fit is closed-form, one epoch.
func (m *Model) Converged() bool { return m.done }

// Epoch fits the maximum-likelihood (Bernoulli: posterior-mode) parameters
// from one pass over the data:
//
//	Bernoulli: p_j = (Σ_n x_nj + α) / (N + 2α)
//	Gaussian:  μ_j = Σ_n x_nj / N,  σ²_j = max(Σ_n (x_nj − μ_j)² / N, MinVar)
//
// The variance is accumulated as Σx² − Nμ² in float64.
func (m *Model) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	m.s1, m.s2, m.n = make([]float64, m.dim), make([]float64, m.dim), 0
	var buf *tensor.Mat
	for x, _ := e.Next(buf); x != nil; x, _ = e.Next(buf) {
		buf = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		for i := 0; i < x.Rows; i++ {
			for j, v := range x.Row(i) {
				f := float64(v)
				m.s1[j] += f
				m.s2[j] += f * f
			}
		}
		m.n += x.Rows
	}
	n := float64(m.n)
	if m.Bernoulli {
		m.P = make([]float64, m.dim)
		for j := range m.P {
			m.P[j] = (m.s1[j] + m.Cfg.Alpha) / (n + 2*m.Cfg.Alpha)
			if m.s1[j] < 0 || m.s1[j] > n {
				return model.Stats{}, fmt.Errorf("pixels: column %d has values outside [0, 1]; a Bernoulli model needs binary data (--binarize, or --dist gaussian)", j)
			}
		}
	} else {
		m.Mean, m.Var = make([]float64, m.dim), make([]float64, m.dim)
		for j := range m.Mean {
			mu := m.s1[j] / n
			m.Mean[j] = mu
			m.Var[j] = max(m.s2[j]/n-mu*mu, m.Cfg.MinVar)
		}
	}
	m.done = true
	m.s1, m.s2 = nil, nil
	ll := m.meanLogProb(e.Data.X)
	return model.Stats{Loss: -ll, LossName: "-log p(x) (train)"}, nil
}

// LogProb returns log p(x) of one example:
//
//	Bernoulli: Σ_j x_j log p_j + (1 − x_j) log(1 − p_j)
//	Gaussian:  −½ Σ_j [log(2π σ²_j) + (x_j − μ_j)² / σ²_j]
//
// It panics if len(x) != Dim().
func (m *Model) LogProb(x []float32) float64 {
	if len(x) != m.dim {
		panic(fmt.Sprintf("pixels: LogProb: %d values, want %d", len(x), m.dim))
	}
	var s float64
	if m.Bernoulli {
		for j, v := range x {
			p, f := m.P[j], float64(v)
			if f != 0 {
				s += f * math.Log(p)
			}
			if f != 1 {
				s += (1 - f) * math.Log1p(-p)
			}
		}
		return s
	}
	for j, v := range x {
		d := float64(v) - m.Mean[j]
		s += math.Log(2*math.Pi*m.Var[j]) + d*d/m.Var[j]
	}
	return -0.5 * s
}

func (m *Model) meanLogProb(x *tensor.Mat) float64 {
	var s float64
	for i := 0; i < x.Rows; i++ {
		s += m.LogProb(x.Row(i))
	}
	return s / float64(max(x.Rows, 1))
}

// Score implements model.Scorer: the exact log-likelihood.
func (m *Model) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	if !m.done {
		return model.Estimate{}, fmt.Errorf("pixels: the model has not been fitted")
	}
	if m.Bernoulli && !(d.Binary || isBinary(d.X)) {
		return model.Estimate{}, fmt.Errorf("pixels: a Bernoulli model scores binary data; use --binarize threshold or stochastic")
	}
	per := make([]float64, d.Len())
	var sum, sum2 float64
	for i := range per {
		per[i] = m.LogProb(d.X.Row(i))
		sum += per[i]
		if i%1000 == 0 {
			model.Step(ctx, "score", i, len(per))
		}
	}
	model.Step(ctx, "score", len(per), len(per))
	n := float64(len(per))
	mean := sum / n
	for _, v := range per {
		sum2 += (v - mean) * (v - mean)
	}
	est := model.Estimate{LogLik: mean, Method: "exact", N: len(per), PerExample: per}
	// The spread over examples, as a standard error of the data mean (the
	// model's figure itself is exact).
	est.Extra = []model.Metric{{Name: "log_likelihood_sd_over_examples", Value: math.Sqrt(sum2 / max(n-1, 1))}}
	return est, nil
}

// Monitor implements model.Monitor: the exact held-out log-likelihood.
func (m *Model) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	e, err := m.Score(ctx, d, model.ScoreOptions{})
	if err != nil {
		return nil, err
	}
	return []model.Metric{{Name: "log_likelihood", Value: e.LogLik}}, nil
}

// Sample implements model.Sampler: every pixel drawn independently.
func (m *Model) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	if o.Label >= 0 {
		return nil, model.Flagf("label", "an independent-pixels model is not conditional")
	}
	s := rng.New(o.Seed)
	x := tensor.New(o.N, m.dim)
	for i := 0; i < o.N; i++ {
		r := x.Row(i)
		for j := range r {
			if m.Bernoulli {
				if s.Float64() < m.P[j] {
					r[j] = 1
				}
			} else {
				r[j] = float32(m.Mean[j] + math.Sqrt(m.Var[j])*s.NormFloat64())
			}
		}
	}
	return &dataset.Dataset{Name: "samples", X: x, Binary: m.Bernoulli}, nil
}

// Describe implements model.Describer.
func (m *Model) Describe() []model.Metric {
	dist := "gaussian"
	if m.Bernoulli {
		dist = "bernoulli"
	}
	return []model.Metric{{Name: "distribution", Value: dist}, {Name: "pixels", Value: m.dim},
		{Name: "parameters", Value: m.dim * map[bool]int{true: 1, false: 2}[m.Bernoulli]}}
}

// Save implements model.Model.
func (m *Model) Save(f *checkpoint.File) error {
	f.Kind = Kind
	if err := f.SetMeta(meta{Config: m.Cfg, Bernoulli: m.Bernoulli, Dim: m.dim, Done: m.done}); err != nil {
		return err
	}
	if !m.done {
		return nil
	}
	if m.Bernoulli {
		f.AddF64("p", []int{m.dim}, m.P)
	} else {
		f.AddF64("mean", []int{m.dim}, m.Mean)
		f.AddF64("var", []int{m.dim}, m.Var)
	}
	return nil
}

func load(f *checkpoint.File) (model.Model, error) {
	var mt meta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	if mt.Dim < 1 {
		return nil, fmt.Errorf("pixels: bad dimension %d in the file", mt.Dim)
	}
	m := &Model{Cfg: mt.Config, Bernoulli: mt.Bernoulli, dim: mt.Dim, done: mt.Done}
	if !m.done {
		return m, nil
	}
	var err error
	if m.Bernoulli {
		if m.P, err = f.F64("p", mt.Dim); err != nil {
			return nil, err
		}
		for j, p := range m.P {
			if !(p >= 0 && p <= 1) {
				return nil, fmt.Errorf("pixels: p[%d] = %v is not a probability", j, p)
			}
		}
		return m, nil
	}
	if m.Mean, err = f.F64("mean", mt.Dim); err != nil {
		return nil, err
	}
	if m.Var, err = f.F64("var", mt.Dim); err != nil {
		return nil, err
	}
	for j, v := range m.Var {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("pixels: var[%d] = %v is not a variance", j, v)
		}
	}
	return m, nil
}
