package helmholtz

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

// Config holds the settings of `latent train helmholtz` beside the driver's.
type Config struct {
	Hidden []int `json:"hidden" flag:"hidden" help:"hidden layer sizes, bottom to top" range:"[1,65536]"`
	// K is the number of samples of q per example in the wake phase.
	K int `json:"rws_k" flag:"rws-k" help:"samples of q per example (1: wake-sleep; more: reweighted wake-sleep)" range:"[1,100000]"`
	// QWake is on by default exactly when K > 1, unless the run's settings
	// record --q-wake as given (model.Settings.Given).
	QWake  bool    `json:"q_wake" flag:"q-wake" help:"wake-phase update of q, weighted by the importance weights (default: on when --rws-k > 1)"`
	QSleep bool    `json:"q_sleep" flag:"q-sleep" help:"sleep-phase update of q on the model's own dreams"`
	Batch  int     `json:"batch" flag:"batch" help:"examples per step" range:"[1,1000000]"`
	LR     float64 `json:"lr" flag:"lr" help:"Adam learning rate" range:"(0,inf)"`
}

// DefaultConfig returns the defaults of `latent train helmholtz`.
func DefaultConfig() *Config {
	return &Config{Hidden: []int{200, 200}, K: 1, QSleep: true, Batch: 100, LR: 1e-3}
}

// EvalConfig holds the flags of `latent eval` for a Helmholtz machine.
type EvalConfig struct {
	IWK int `flag:"iw-k" help:"importance samples of q per example (1: a one-sample ELBO)" range:"[1,100000000]"`
}

// SampleConfig holds the flags of `latent sample` for a Helmholtz machine.
type SampleConfig struct {
	Means bool `flag:"means" help:"write the Bernoulli means of x given the sampled h_1 (false: binary samples)"`
}

func init() {
	model.Register(model.Family{
		Name:    Kind,
		Summary: "Helmholtz machine (sigmoid belief net + recognition net) by wake-sleep or reweighted wake-sleep",
		Doc: `A sigmoid belief net p(x, h_1, ..., h_L) with binary hidden layers and a recognition
network q(h | x), trained by wake-sleep (Hinton et al. 1995) or reweighted wake-sleep
(Bornschein & Bengio 2015) with Adam, one step per mini-batch. Needs binary data, or
--binarize (dynamic: a fresh draw of every mini-batch).

Flags: --hidden sizes of the hidden layers, bottom to top; --rws-k K samples of q per
example in the wake phase, weighted by their normalised importance weights (1:
plain wake-sleep); --q-wake the wake-phase update of q (on by default when K > 1);
--q-sleep the sleep-phase update of q on dreams (x, h) ~ p; --batch examples per
step; --lr Adam's learning rate. The loss is minus the mean K-sample bound of the
wake samples (an ELBO for K = 1); a parameter beyond 1e6 in magnitude stops
training as diverged. --test reports an importance-sampling estimate with k = 100 on
its first 1000 examples after every epoch; --pictures draws samples.png (Bernoulli
means of 64 dreams) for image data.

eval estimates log p(x) by importance sampling with q as the proposal and --iw-k
samples per example (default 5000), a stochastic lower bound that tends to log p(x)
as k grows, with its standard error over the examples; sample --means=false writes
binary samples instead of the visible means.`,
		Config:       func() any { return DefaultConfig() },
		New:          newTrainer,
		Load:         load,
		EvalConfig:   func() any { return &EvalConfig{IWK: 5000} },
		SampleConfig: func() any { return &SampleConfig{Means: true} },
		Needs:        model.Needs{Binary: true},
		Epochs:       10,
	})
}

func newTrainer(c any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
	cfg := *c.(*Config)
	if len(cfg.Hidden) == 0 {
		return nil, model.Flagf("hidden", "needs at least one hidden layer (e.g. 200,200)")
	}
	if _, given := s.Given["q-wake"]; !given {
		cfg.QWake = cfg.K > 1
		if s.Flags != nil {
			s.Flags["q-wake"] = strconv.FormatBool(cfg.QWake)
		}
	}
	if !cfg.QWake && !cfg.QSleep {
		return nil, model.Flagf("q-wake", "and --q-sleep are both off, and the recognition network would never learn: turn one on")
	}
	m := New(append([]int{d.Dim()}, cfg.Hidden...), rng.NewStream(s.Seed, 0))
	m.InitVisibleBias(d.X)
	return NewTrainer(m, TrainConfig{K: cfg.K, QWake: cfg.QWake, QSleep: cfg.QSleep, Batch: cfg.Batch, LR: cfg.LR, Seed: s.Seed})
}

func load(f *checkpoint.File) (model.Model, error) { return LoadTrainer(f) }

// Kind implements model.Model.
func (t *Trainer) Kind() string { return Kind }

// Dim implements model.Model: the visible units.
func (t *Trainer) Dim() int { return t.M.Sizes[0] }

// BatchSize implements model.Trainer.
func (t *Trainer) BatchSize() int { return t.Cfg.Batch }

// checkBinary returns an error naming the first value of x that is not 0 or 1.
func checkBinary(x *tensor.Mat) error {
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Row(i) {
			if v != 0 && v != 1 {
				return fmt.Errorf("value %v at row %d is not 0 or 1, and a Helmholtz machine models binary data (--binarize threshold or stochastic)", v, i)
			}
		}
	}
	return nil
}

// scoreBlock is about the number of examples Score estimates between progress
// reports.
const scoreBlock = 100

// Score implements model.Scorer: the importance-sampling estimate of the mean
// log p(x) (see LogProb; EvalConfig.IWK samples per example, example n drawing
// from stream (o.Seed, n)), with its standard error over the examples
// (MeanStdErr). It is a stochastic lower bound in expectation.
func (t *Trainer) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	cfg := EvalConfig{IWK: 5000}
	if c, ok := o.Family.(*EvalConfig); ok && c != nil {
		cfg = *c
	}
	per, err := t.logProb(ctx, d, ISConfig{K: cfg.IWK, Seed: o.Seed}, "importance sampling")
	if err != nil {
		return model.Estimate{}, err
	}
	mean, se := MeanStdErr(per)
	method := fmt.Sprintf("importance sampling, k=%d, proposal q(h|x)", cfg.IWK)
	if cfg.IWK == 1 {
		method = "ELBO (one sample)"
	}
	return model.Estimate{LogLik: mean, StdErr: se, Method: method, Bound: "lower", N: len(per), PerExample: per,
		Extra: []model.Metric{{Name: "iw_k", Value: cfg.IWK}}}, nil
}

// logProb estimates log p(x) of every row of d in blocks, reporting progress
// and stopping when ctx is cancelled.
func (t *Trainer) logProb(ctx context.Context, d *dataset.Dataset, cfg ISConfig, task string) ([]float64, error) {
	x := d.X
	if x.Cols != t.M.Sizes[0] {
		return nil, fmt.Errorf("%s has %d values per example, the model %d visible units", d.Name, x.Cols, t.M.Sizes[0])
	}
	if err := checkBinary(x); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	per := make([]float64, x.Rows)
	// Pieces of whole LogProb blocks, so that the passes are those of one call.
	chunk := max(1, blockRows/max(cfg.K, 1))
	chunk *= max(1, scoreBlock/chunk)
	for lo := 0; lo < x.Rows; lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		model.Step(ctx, task, lo, x.Rows)
		hi := min(lo+chunk, x.Rows)
		c := cfg
		c.Offset = lo
		t.M.LogProb(per[lo:hi], x.Slice(lo, hi), c)
	}
	model.Step(ctx, task, x.Rows, x.Rows)
	return per, nil
}

// Monitor implements model.Monitor: the importance-sampling estimate with k = 100
// on the first 1000 examples of d (seed 1), "log_likelihood_k100".
func (t *Trainer) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	dd := *d
	if dd.Len() > 1000 {
		dd.X = dd.X.Slice(0, 1000)
	}
	per, err := t.logProb(ctx, &dd, ISConfig{K: 100, Seed: 1}, "test")
	if err != nil {
		return nil, err
	}
	mean, _ := MeanStdErr(per)
	return []model.Metric{{Name: "log_likelihood_k100", Value: mean}}, nil
}

// Sample implements model.Sampler: dreams from the generative model, their
// visible Bernoulli means given h_1 (SampleConfig.Means, the default) or binary.
func (t *Trainer) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	if o.Label >= 0 {
		return nil, model.Flagf("label", "a Helmholtz machine is not conditional")
	}
	cfg := SampleConfig{Means: true}
	if c, ok := o.Family.(*SampleConfig); ok && c != nil {
		cfg = *c
	}
	x, mean := t.M.Sample(o.N, rng.New(o.Seed))
	if cfg.Means {
		return &dataset.Dataset{Name: "samples", X: mean}, nil
	}
	return &dataset.Dataset{Name: "samples", X: x, Binary: true}, nil
}

// Transform implements model.Transformer: q(h_1 = 1 | x) for every unit of the
// first hidden layer, the recognition network's code of each example.
func (t *Trainer) Transform(ctx context.Context, d *dataset.Dataset) (*tensor.Mat, []string, error) {
	x := d.X
	if x.Cols != t.M.Sizes[0] {
		return nil, nil, fmt.Errorf("%s has %d values per example, the model %d visible units", d.Name, x.Cols, t.M.Sizes[0])
	}
	a := tensor.New(x.Rows, t.M.Sizes[1])
	p := tensor.New(x.Rows, t.M.Sizes[1])
	layerPass(a, p, x, t.M.RecW[0], t.M.RecB[0])
	cols := make([]string, t.M.Sizes[1])
	for j := range cols {
		cols[j] = fmt.Sprintf("q_h1_%d", j)
	}
	return p, cols, nil
}

// Describe implements model.Describer.
func (t *Trainer) Describe() []model.Metric {
	sizes := make([]string, len(t.M.Sizes))
	n := 0
	for i, s := range t.M.Sizes {
		sizes[i] = strconv.Itoa(s)
	}
	for _, p := range t.M.params() {
		n += len(p)
	}
	algo := "wake-sleep"
	if t.Cfg.K > 1 || t.Cfg.QWake {
		algo = fmt.Sprintf("reweighted wake-sleep, K = %d", t.Cfg.K)
	}
	var q []string
	if t.Cfg.QWake {
		q = append(q, "wake")
	}
	if t.Cfg.QSleep {
		q = append(q, "sleep")
	}
	out := []model.Metric{
		{Name: "layers", Value: strings.Join(sizes, "-") + " (visible first)"},
		{Name: "algorithm", Value: algo},
		{Name: "q updates", Value: strings.Join(q, " and ")},
		{Name: "batch", Value: t.Cfg.Batch},
		{Name: "lr", Value: t.Cfg.LR},
		{Name: "adam steps", Value: t.Opt.T},
		{Name: "parameters", Value: n},
	}
	if k := len(t.Bounds); k > 0 {
		out = append(out, model.Metric{Name: "train_bound", Value: t.Bounds[k-1]})
	}
	return out
}

// Pictures implements model.Picturer: for image data, samples.png, the visible
// Bernoulli means of 64 dreams from a stream of seed fixed for the run.
func (t *Trainer) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	h, w, c := d.Height, d.Width, max(d.Channels, 1)
	if h <= 0 || w <= 0 || h*w*c != t.M.Sizes[0] || (c != 1 && c != 3) {
		return nil, nil
	}
	_, mean := t.M.Sample(64, rng.NewStream(seed, 2))
	p := filepath.Join(dir, "samples.png")
	if err := (viz.Grid{Height: h, Width: w, Channels: c, Cols: 8}).Save(p, mean); err != nil {
		return nil, err
	}
	return []string{p}, nil
}
