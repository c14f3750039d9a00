package rbm

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/ising"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Common are the training flags rbm and grbm share (see Flags). The zero value
// is not used: the registered families start from DefaultFlags and
// DefaultGaussianFlags.
type Common struct {
	Hidden   int     `flag:"hidden" help:"hidden units" range:"[1,1048576]"`
	CD       int     `flag:"cd" help:"Gibbs steps per update (CD-k; also k for --pcd and --pt)" range:"[1,1000000]"`
	PCD      bool    `flag:"pcd" help:"persistent contrastive divergence: the negative chains persist across updates"`
	Batch    int     `flag:"batch" help:"mini-batch size" range:"[1,1000000]"`
	LR       float64 `flag:"lr" help:"learning rate (the schedule's start); a resumed run may change it" range:"(0,inf)" resume:"free"`
	Schedule string  `flag:"schedule" help:"learning-rate schedule; linear decays to 0 over the run's epochs" choices:"constant|linear"`
	Momentum float64 `flag:"momentum" help:"momentum" range:"[0,1)"`
	L2       float64 `flag:"l2" help:"L2 weight decay on W" range:"[0,inf)"`
	Dense    bool    `flag:"dense" help:"dense products even for sparse binary batches (a grbm always uses them)"`
	// PictureSteps is how far --pictures' samples.png runs its chains.
	PictureSteps int `flag:"picture-steps" help:"Gibbs steps of the independent chains --pictures draws in samples.png after the last epoch" range:"[1,1000000]"`
}

// Flags are the settings of `latent train rbm`, a Bernoulli RBM.
type Flags struct {
	Common
	PT int `flag:"pt" help:"parallel tempering with this many temperatures (0: off; at least 2)" range:"[0,1000]"`
	// Center is Config.Center.
	Center float64 `flag:"center" help:"centring trick (Montavon & Müller 2012): steps in the parameters of the energy with the mean data and hidden activity subtracted, the offsets a sliding average at this rate (0: off; e.g. 0.01)" range:"[0,1]"`
}

// GaussianFlags are the settings of `latent train grbm`, a Gaussian–Bernoulli RBM.
type GaussianFlags struct {
	Common
	LearnSigma bool `flag:"learn-sigma" help:"learn the visible standard deviations (else σ = 1 in standardised units)"`
}

// DefaultFlags returns the defaults of `latent train rbm`.
func DefaultFlags() *Flags {
	return &Flags{Common: Common{Hidden: 100, CD: 1, Batch: 100, LR: 0.1, Schedule: "constant", PictureSteps: 1000}}
}

// DefaultGaussianFlags returns the defaults of `latent train grbm`.
func DefaultGaussianFlags() *GaussianFlags {
	return &GaussianFlags{Common: Common{Hidden: 100, CD: 1, Batch: 100, LR: 0.01, Schedule: "constant", PictureSteps: 1000}}
}

// Validate checks what the flags' tags cannot: one negative-phase sampler.
func (f *Flags) Validate() error {
	switch {
	case f.PT == 1:
		return model.Flagf("pt", "must be 0 (off) or at least 2 temperatures, got %d", f.PT)
	case f.PT > 0 && f.PCD:
		return model.Flagf("pt", "--pcd and --pt %d: choose one negative-phase sampler", f.PT)
	}
	return nil
}

// config returns the training configuration the flags describe, with seed.
func (c Common) config(seed uint64) Config {
	cfg := Config{K: c.CD, BatchSize: c.Batch, LearningRate: c.LR, Momentum: c.Momentum, WeightDecay: c.L2, Dense: c.Dense, Seed: seed}
	if c.PCD {
		cfg.Method = PCD
	}
	if c.Schedule == "linear" {
		cfg.Schedule = LinearDecay
	}
	return cfg
}

// SampleFlags are the settings of `latent sample` for an RBM.
type SampleFlags struct {
	GibbsSteps int  `flag:"gibbs-steps" help:"block-Gibbs steps of each independent chain, from the base rate" range:"[1,100000000]"`
	Means      bool `flag:"means" help:"write the means E[x|h] of the last step instead of samples"`
}

// LogZFlags choose how eval gets log Z, for RBMs, DBNs and DBMs alike.
type LogZFlags struct {
	Exact bool `flag:"exact" help:"enumerate log Z whatever it costs (an error when the model is too large); by default it is enumerated when that takes about a minute or less, else estimated by AIS"`
	// AISChains and AISBetas of 0 mean 100 and mcmc.DefaultAISSteps; giving
	// either chooses AIS.
	AISChains int `flag:"ais-chains" help:"AIS chains (0: 100); giving it chooses AIS even where log Z can be enumerated" range:"[0,10000000]"`
	AISBetas  int `flag:"ais-betas" help:"AIS intermediate distributions, Salakhutdinov & Murray's proportions (0: 14500); giving it chooses AIS" range:"[0,100000000]"`
	// AISCheck runs AIS twice more on the (top) bipartite model, from a
	// uniform base over each side (checkAIS); Bernoulli units only.
	AISCheck bool `flag:"ais-check" help:"check AIS's log Z with two more runs from a uniform base, one annealing over each side of the bipartite model; log Z is then the largest of the three (AIS under-estimates, sometimes by many nats with a small error bar)"`
}

// EvalFlags are the settings of `latent eval` for an RBM (see LogLikOptions).
type EvalFlags struct {
	LogZFlags
	Samples    int `flag:"samples" help:"Ising data: model samples (independent chains) for the observables" range:"[1,100000000]"`
	GibbsSteps int `flag:"gibbs-steps" help:"Ising data: Gibbs steps per chain" range:"[1,100000000]"`
}

// Validate checks what the flags' tags cannot: one estimator, enough AIS steps.
func (f *LogZFlags) Validate() error {
	switch {
	case f.AISBetas == 1 || f.AISBetas == 2:
		return model.Flagf("ais-betas", "must be at least 3 (or 0 for the default), got %d", f.AISBetas)
	case f.Exact && (f.AISChains > 0 || f.AISBetas > 0):
		return model.Flagf("exact", "--exact and --ais-chains/--ais-betas: choose one estimator")
	case f.Exact && f.AISCheck:
		return model.Flagf("ais-check", "checks an AIS estimate of log Z, and --exact runs none: choose one")
	}
	return nil
}

const doc = `A restricted Boltzmann machine: binary hidden units h and visible units v,
p(v, h) ∝ exp(−E(v, h)) with E = −vᵀWh − bᵀv − cᵀh (rbm: binary data; grbm:
Gaussian visible units on standardised data, E = Σ (z_i − b_i)²/(2σ_i²) −
Σ (z_i/σ_i) W_ij h_j − cᵀh). Trained by maximum likelihood with a stochastic
negative phase: CD-k (--cd K, chains from the data), PCD (--pcd, persistent
chains) or parallel tempering (rbm: --pt T replicas at β = 1 − t/(T−1)), with
momentum and L2 decay on W. A grbm leaves out columns that are constant in the
training data (MNIST's border pixels): samples take their constant value, and
log-likelihoods are those of the modelled columns.

After every epoch the progress line shows the reconstruction error on the first
training rows (up to 1000) and, when cheap, the pseudo-log-likelihood over all
bits and the exact log-likelihood; after the last epoch the full set. --test
shows them on held-out rows. --pictures writes filters.png (the weights of up
to 256 hidden units) after every epoch and, after the last, samples.png: 8
independent chains started from training examples, drawn after 1, 10, 100, ...
--picture-steps Gibbs steps.

eval: exact log Z when enumerating it takes about a minute or less (--exact
forces it), else AIS (--ais-chains, --ais-betas; an estimate whose log Z is low,
and log-likelihood high, in expectation). On Ising data (--data ising:...) it
also compares the observables of model samples (--samples chains of
--gibbs-steps steps) with the data's. sample: --gibbs-steps per independent
chain from the base rate, --means for E[x|h] of the last step.`

func init() {
	for _, vis := range []Visible{Bernoulli, Gaussian} {
		f := model.Family{
			Doc:          doc,
			New:          newTrainer(vis),
			Load:         loadModel,
			SampleConfig: func() any { return &SampleFlags{GibbsSteps: 1000} },
			EvalConfig:   func() any { return &EvalFlags{Samples: 1000, GibbsSteps: 1000} },
			Memory:       memory,
		}
		if vis == Bernoulli {
			f.Name, f.Needs = "rbm", model.Needs{Binary: true}
			f.Summary = "restricted Boltzmann machine on binary data (CD-k, PCD, parallel tempering; exact or AIS log-likelihood)"
			f.Config = func() any { return DefaultFlags() }
		} else {
			f.Name = "grbm"
			f.Summary = "Gaussian–Bernoulli RBM on real-valued data (standardised; constant columns left out)"
			f.Config = func() any { return DefaultGaussianFlags() }
		}
		model.Register(f)
	}
	model.RegisterDemo(model.Demo{Order: 20, Name: "rbm: bars-and-stripes 4x4, exact log-likelihood", Run: demoBars})
	model.RegisterDemo(model.Demo{Order: 21, Name: "rbm: Ising L=8 at T=1.8 and 3.0", Run: demoIsing})
}

// newTrainer returns the Family.New of the rbm (Bernoulli) or grbm family.
func newTrainer(vis Visible) func(any, *dataset.Dataset, *model.Settings) (model.Trainer, error) {
	return func(c any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
		var (
			fl  Common
			cfg Config
		)
		switch c := c.(type) {
		case *Flags:
			fl = c.Common
			cfg = fl.config(s.Seed)
			cfg.Center = c.Center
			if c.PT > 0 {
				cfg.Method, cfg.Temperatures = PT, c.PT
			}
		case *GaussianFlags:
			fl = c.Common
			cfg = fl.config(s.Seed)
			cfg.LearnSigma = c.LearnSigma
			if s.Binarize != "" {
				return nil, model.Flagf("binarize", "a grbm models real-valued data; got %q", s.Binarize)
			}
		default:
			panic(fmt.Sprintf("rbm: New: config %T", c))
		}
		m, err := New(vis, d.Dim(), fl.Hidden)
		if err != nil {
			return nil, err
		}
		if h, w, ch, ok := s.Image(); ok {
			m.Height, m.Width, m.Channels = h, w, ch
		}
		if err := m.InitFromData(d.X, rng.NewStream(s.Seed, 3)); err != nil {
			return nil, err
		}
		t, err := NewTrainer(m, cfg)
		if err != nil {
			return nil, err
		}
		t.pictureSteps = fl.PictureSteps
		return t, t.SetData(d.X, s.Binarize == "dynamic")
	}
}

// loadModel is the families' Load: a trainer that resumes, or for a file that
// holds the model alone (RBM.Save, or written by latent before version 2) one
// that samples and scores.
func loadModel(f *checkpoint.File) (model.Model, error) {
	m, meta, err := load(f)
	if err != nil {
		return nil, err
	}
	if meta.Trainer != nil && meta.Version >= 2 {
		return LoadTrainer(f)
	}
	t, err := NewTrainer(m, Config{})
	if err != nil {
		return nil, err
	}
	t.modelOnly = true
	return t, nil
}

// Kind implements model.Model: "rbm" or "grbm".
func (t *Trainer) Kind() string { return t.Model.Kind() }

// Dim implements model.Model: the number of data columns.
func (t *Trainer) Dim() int { return t.Model.DataDim() }

// BatchSize implements model.Trainer.
func (t *Trainer) BatchSize() int { return t.cfg.BatchSize }

// Report implements model.Reporter: the reconstruction error on the first
// training rows is the epoch's loss, with the pseudo- and exact log-likelihoods
// where cheap (all of them after the last epoch; see fitMetrics). A model that
// diverged reports nothing: Check names the parameter.
func (t *Trainer) Report(ctx context.Context, st *model.Stats) error {
	if t.data == nil || t.Check() != nil {
		return nil
	}
	recon, ms := t.Model.fitMetrics(t.Model.monitorRows(t.data), t.final)
	st.Loss, st.LossName = recon, "reconstruction_error"
	st.Metrics = append(append(ms, st.Metrics...), model.Metric{Name: "steps", Value: t.step})
	return nil
}

// Monitor implements model.Monitor: the figures of Report on the first rows of d
// (held-out data).
func (t *Trainer) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	recon, ms := t.Model.fitMetrics(t.Model.monitorRows(d.X), false)
	return append([]model.Metric{{Name: "reconstruction_error", Value: recon}}, ms...), nil
}

// Sample implements model.Sampler: o.N independent block-Gibbs chains from the
// base rate (SampleFlags.GibbsSteps steps each, 1000 by default).
func (t *Trainer) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	m := t.Model
	if o.Label >= 0 {
		return nil, model.Flagf("label", "an %s is not conditional", m.Kind())
	}
	f := SampleFlags{GibbsSteps: 1000}
	if p, ok := o.Family.(*SampleFlags); ok && p != nil {
		f = *p
	}
	s, mu := m.Sample(SampleConfig{N: o.N, Steps: f.GibbsSteps, Seed: o.Seed})
	x := s
	if f.Means {
		x = mu
	}
	return &dataset.Dataset{Name: "samples", X: x, Binary: m.Visible == Bernoulli && !f.Means,
		Height: m.Height, Width: m.Width, Channels: m.Channels}, nil
}

// Score implements model.Scorer: LogLikelihood with the EvalFlags (exact log Z
// when cheap, else AIS), with the pseudo-log-likelihood (rbm) and reconstruction
// error beside it, and on Ising data (o.Data "ising:...") the observables of
// model samples against the data's. Its Extra keys are those of eval --json.
func (t *Trainer) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	m := t.Model
	f := EvalFlags{Samples: 1000, GibbsSteps: 1000}
	if p, ok := o.Family.(*EvalFlags); ok && p != nil {
		f = *p
	}
	x := d.X
	if m.Visible == Bernoulli && !isBinary(x) {
		return model.Estimate{}, fmt.Errorf("an rbm scores binary data; use --binarize threshold or stochastic")
	}
	ll, err := m.LogLikelihood(ctx, x, LogLikOptions{Exact: f.Exact, AISChains: f.AISChains, AISBetas: f.AISBetas, AISCheck: f.AISCheck, Seed: o.Seed})
	if err != nil && f.Exact {
		return model.Estimate{}, fmt.Errorf("--exact: %w", err)
	} else if err != nil {
		return model.Estimate{}, err
	}
	est := model.Estimate{LogLik: ll.Mean, StdErr: ll.StdErr, Method: ll.Method, N: x.Rows, PerExample: ll.PerExample}
	add := func(name string, v any) { est.Extra = append(est.Extra, model.Metric{Name: name, Value: v}) }
	add("visible", m.NumVisible())
	add("hidden", m.NumHidden())
	add("log_z", ll.LogZ)
	if ll.Method == "ais" {
		est.Bound = "upper" // log Ẑ is low in expectation (Jensen), so log p(x) is high
		add("log_z_stderr", ll.LogZStdErr)
	}
	if ll.HaveExact {
		add("exact_log_z", ll.ExactLogZ)
		add("exact_seconds", ll.ExactSeconds)
		if ll.Method == "ais" {
			add("exact_log_likelihood", ll.ExactMean)
		}
	}
	if ll.Method == "ais" {
		add("ais_chains", ll.AISChains)
		add("ais_betas", ll.AISBetas)
		add("ais_seconds", ll.AISSeconds)
		checkExtras(add, ll.LogZFirst, ll.Checks)
	}
	if m.Visible == Bernoulli {
		pl, _ := m.PseudoLogLikelihood(x)
		add("pseudo_log_likelihood", pl)
	}
	add("reconstruction_error", m.ReconstructionError(x))
	if m.Keep != nil {
		add("constant_columns", m.DataDim()-m.NumVisible())
	}
	if T, L, ok := isingSpec(o.Data, d); ok && m.Visible == Bernoulli {
		add("ising", m.CompareIsing(x, L, T, f.Samples, f.GibbsSteps, o.Seed))
	}
	return est, nil
}

// isingSpec reports whether spec names the Ising generator (ising:L=..,T=..) and
// d holds its square configurations, with the temperature and lattice size.
func isingSpec(spec string, d *dataset.Dataset) (T float64, L int, ok bool) {
	sp, err := dataset.ParseSpec(spec)
	if err != nil || sp.Name != "ising" || d.Height != d.Width || d.Height*d.Width != d.Dim() {
		return 0, 0, false
	}
	T = 2.27 // the generator's default
	if s, has := sp.Opts["T"]; has {
		if T, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, 0, false
		}
	}
	return T, d.Height, true
}

// CompareIsing draws n model samples (independent chains from the base rate,
// steps Gibbs steps each) and returns their Ising observables (ising.MeasureRows)
// beside those of the L×L configurations in the rows of x at temperature T, with
// the relative differences of the energy per spin and ⟨|m|⟩, as eval --json
// writes them.
func (m *RBM) CompareIsing(x *tensor.Mat, L int, T float64, n, steps int, seed uint64) map[string]any {
	s, _ := m.Sample(SampleConfig{N: n, Steps: steps, Seed: seed})
	dm, mm := ising.MeasureRows(x, L, T), ising.MeasureRows(s, L, T)
	obs := func(o ising.Observables) map[string]any {
		return map[string]any{"energy": o.Energy, "abs_mag": o.AbsMag, "specific_heat": o.SpecificHeat, "susceptibility": o.Susceptibility}
	}
	return map[string]any{"T": T, "L": L, "data": obs(dm), "model": obs(mm), "model_samples": n, "gibbs_steps": steps,
		"rel_err_energy":  math.Abs(mm.Energy-dm.Energy) / math.Abs(dm.Energy),
		"rel_err_abs_mag": math.Abs(mm.AbsMag-dm.AbsMag) / math.Abs(dm.AbsMag)}
}

// Pictures implements model.Picturer: filters.png after every epoch and, after
// the last, samples.png (SaveChains: 8 independent chains from training rows
// drawn by seed, up to --picture-steps Gibbs steps). For data without an image
// shape it draws nothing and says so once.
func (t *Trainer) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	m := t.Model
	if m.Height == 0 {
		if !t.saidNoPictures {
			t.saidNoPictures = true
			model.Logf(ctx, "%s: the data have no image shape (%d values per row): no pictures", m.Kind(), m.DataDim())
		}
		return nil, nil
	}
	path := filepath.Join(dir, "filters.png")
	if err := m.SaveFilters(path); err != nil {
		return nil, err
	}
	paths := []string{path}
	if !final {
		return paths, nil
	}
	steps := t.pictureSteps
	if steps == 0 {
		steps = 1000
	}
	lo, hi := float32(0), float32(1)
	if m.Visible == Gaussian { // the data's range, drawn as black to white
		lo, hi = valueRange(d.X)
	}
	path = filepath.Join(dir, "samples.png")
	if err := m.SaveChains(path, pickRows(d.X, 8, seed), steps, seed, lo, hi); err != nil {
		return nil, err
	}
	return append(paths, path), nil
}

// valueRange returns the smallest and largest value of x.
func valueRange(x *tensor.Mat) (lo, hi float32) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Row(i) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}

// pickRows returns n distinct rows of x (all of them when it has fewer) drawn
// with rng.NewStream(seed, 4).
func pickRows(x *tensor.Mat, n int, seed uint64) *tensor.Mat {
	n = min(n, x.Rows)
	idx := rng.NewStream(seed, 4).Perm(x.Rows)[:n]
	out := tensor.New(n, x.Cols)
	for i, r := range idx {
		copy(out.Row(i), x.Row(r))
	}
	return out
}

// Transform implements model.Transformer: the hidden units' probabilities
// p(h_j = 1 | x) of every example, columns h0, h1, ...
func (t *Trainer) Transform(ctx context.Context, d *dataset.Dataset) (*tensor.Mat, []string, error) {
	m := t.Model
	if d.Dim() != m.DataDim() {
		return nil, nil, fmt.Errorf("rows have %d values, the %s %d", d.Dim(), m.Kind(), m.DataDim())
	}
	cols := make([]string, m.NumHidden())
	for j := range cols {
		cols[j] = "h" + strconv.Itoa(j)
	}
	return m.HiddenProbs(nil, d.X), cols, nil
}

// Describe implements model.Describer.
func (t *Trainer) Describe() []model.Metric {
	m := t.Model
	nv, nh := m.NumVisible(), m.NumHidden()
	params := nv*nh + nv + nh
	if m.Visible == Gaussian {
		params += nv
	}
	out := []model.Metric{{Name: "visible units", Value: m.Visible.String()},
		{Name: "shape", Value: fmt.Sprintf("%d visible × %d hidden", nv, nh)},
		{Name: "parameters", Value: params}}
	if m.Height > 0 {
		out = append(out, model.Metric{Name: "image", Value: fmt.Sprintf("%d×%d×%d", m.Height, m.Width, max(m.Channels, 1))})
	}
	if m.Keep != nil {
		out = append(out, model.Metric{Name: "constant columns left out", Value: m.DataDim() - nv})
	}
	if t.modelOnly {
		return append(out, model.Metric{Name: "training state", Value: "none (the file holds the model alone)"})
	}
	c := t.cfg
	neg := fmt.Sprintf("%s-%d", c.Method, c.K)
	if c.Method == PT {
		neg = fmt.Sprintf("pt, %d temperatures, %d Gibbs steps between swaps", c.Temperatures, c.K)
	}
	sched := "constant"
	if c.Schedule == LinearDecay {
		sched = "linear decay to 0"
	}
	products := "sparse for sparse binary batches"
	if c.Dense || m.Visible == Gaussian {
		products = "dense"
	}
	out = append(out, model.Metric{Name: "negative phase", Value: neg},
		model.Metric{Name: "batch", Value: c.BatchSize},
		model.Metric{Name: "learning rate", Value: fmt.Sprintf("%g, %s", c.LearningRate, sched)},
		model.Metric{Name: "momentum", Value: c.Momentum},
		model.Metric{Name: "L2 weight decay", Value: c.WeightDecay})
	if m.Visible == Gaussian {
		out = append(out, model.Metric{Name: "learn σ", Value: c.LearnSigma})
	}
	if c.Center > 0 {
		out = append(out, model.Metric{Name: "centred", Value: fmt.Sprintf("offsets' sliding-average rate %g", c.Center)})
	}
	return append(out, model.Metric{Name: "products", Value: products},
		model.Metric{Name: "trained", Value: fmt.Sprintf("%d epochs, %d steps", t.epoch, t.step)})
}

// memory estimates what training needs: W, its gradient and momentum
// (3·nv·nh float32) and the data's dense and sparse copies.
func memory(c any, rows, dim int) (float64, string) {
	var hidden, batch int
	switch c := c.(type) {
	case *Flags:
		hidden, batch = c.Hidden, c.Batch
	case *GaussianFlags:
		hidden, batch = c.Hidden, c.Batch
	}
	return 4 * (3*float64(dim)*float64(hidden) + 8*float64(batch)*float64(dim+hidden) + 2*float64(rows)*float64(dim)), "hidden"
}

// Retune takes --lr from cfg (the *Flags or *GaussianFlags of a resumed run's
// command line) when changed names it: the one setting a resumed RBM run may
// change. Momentum and persistent chains are kept; under --schedule linear the
// rate decays from the new value, lr·(1 − step/total), over the rest of the run.
func (t *Trainer) Retune(cfg any, changed []string) error {
	var c Common
	switch f := cfg.(type) {
	case *Flags:
		c = f.Common
	case *GaussianFlags:
		c = f.Common
	default:
		return fmt.Errorf("rbm: retune: want *rbm.Flags or *rbm.GaussianFlags, got %T", cfg)
	}
	for _, k := range changed {
		if k != "lr" {
			return fmt.Errorf("rbm: --%s cannot change when a run is resumed", k)
		}
		t.cfg.LearningRate = c.LR
	}
	return nil
}
