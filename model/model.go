package model

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/tensor"
)

// Model is a model of one family, trained or in training.
type Model interface {
	// Kind is the family name the model was registered under ("rbm", "vae", ...).
	Kind() string
	// Dim is the number of values in one example (a row of the data).
	Dim() int
	// Save writes everything a bit-identical resume needs: parameters,
	// optimiser state, random-stream state and the family's settings. It sets
	// f.Kind and f.Meta and adds tensors; the driver adds the Settings.
	Save(f *checkpoint.File) error
}

// Trainer is a Model that trains one epoch at a time (an EM iteration is an epoch).
type Trainer interface {
	Model
	// BatchSize is the number of examples in one step; 0 means the whole data
	// set at once (EM), for which the driver shuffles nothing and refuses
	// dynamic binarisation.
	BatchSize() int
	// Epoch trains on the mini-batches of e (e.Next) and returns the epoch's
	// statistics. An error leaves the model unsaved; the driver keeps the last
	// good file.
	Epoch(ctx context.Context, e *Epoch) (Stats, error)
}

// Sampler draws samples from the model.
type Sampler interface {
	// Sample draws o.N examples. The returned data set has the image shape of
	// the training data when it had one, and labels when the model drew them.
	Sample(ctx context.Context, o SampleOptions) (*dataset.Dataset, error)
}

// Scorer reports how well the model fits data, in nats per example.
type Scorer interface {
	Score(ctx context.Context, d *dataset.Dataset, o ScoreOptions) (Estimate, error)
}

// Monitor is a cheap measure of fit computed after every epoch on held-out
// data (train --test): a test ELBO, an exact log-likelihood when it is cheap.
type Monitor interface {
	Monitor(ctx context.Context, d *dataset.Dataset) ([]Metric, error)
}

// Picturer writes the family's pictures into dir after an epoch (samples,
// reconstructions, filters); final is set after the last epoch. It returns the
// paths it wrote.
type Picturer interface {
	Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error)
}

// Converger is a Trainer that can finish before its last epoch (EM at its
// tolerance).
type Converger interface {
	Converged() bool
}

// Checker is a Model that can tell when its parameters have diverged (a
// non-finite or exploding value). The driver calls Check after every epoch
// and stops with an error naming the epoch, keeping the last good file.
type Checker interface {
	Check() error
}

// Transformer gives answers about examples: codes, hidden-unit
// probabilities, cluster responsibilities. Columns names the columns.
type Transformer interface {
	Transform(ctx context.Context, d *dataset.Dataset) (out *tensor.Mat, columns []string, err error)
}

// Reporter is a Trainer whose epoch figures take a pass of their own over
// training rows (an RBM's reconstruction error and pseudo-likelihood). The
// driver calls Report after it has timed the epoch, so that seconds_per_epoch
// counts training alone, and before it checks the Stats: Report sets the loss
// and adds metrics to st.
type Reporter interface {
	Report(ctx context.Context, st *Stats) error
}

// Describer summarises a model for `latent inspect`: architecture, sizes,
// the settings that matter, in order.
type Describer interface {
	Describe() []Metric
}

// Estimate is a log-likelihood in nats per example.
type Estimate struct {
	LogLik float64 // mean log p(x) over the examples (nats)
	StdErr float64 // standard error of LogLik (0 when exact or not estimated)
	Method string  // "exact", "ais", "iwae-k5000", "is-k5000", "vlb", "ais-hmc", ...
	Bound  string  // "" (an estimate), "lower" or "upper" (on log p(x))
	N      int     // examples scored
	// Quantity names what LogLik is the mean of, when it is not log p(x):
	// "log p(x|y)" for a conditional model, "log p(y|x)" for a classifier.
	Quantity string
	// PerExample holds log p(x) (or its bound) for each example, when the
	// estimator gives one.
	PerExample []float64
	// Extra holds further figures under their JSON keys ("log_z", "elbo",
	// "exact_log_z", ...), in the order they should be shown.
	Extra []Metric
}

// Metric is a named figure. Value is a float64, an int, a string, or any
// value encoding/json can write.
type Metric struct {
	Name  string
	Value any
}

// Float returns m.Value as a float64 and whether it is a number.
func (m Metric) Float() (float64, bool) {
	switch v := m.Value.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	}
	return 0, false
}

// Stats are the statistics of one epoch.
type Stats struct {
	// Loss is the training objective per example that the family minimises
	// (−ELBO, reconstruction error, the EM free energy). The driver stops on a
	// non-finite loss.
	Loss float64
	// LossName names it in progress lines and train --json ("loss" if empty).
	LossName string
	// Metrics are further figures, shown in order and reported by train --json.
	Metrics []Metric
}

// SampleOptions are what every family's Sample takes.
type SampleOptions struct {
	N     int
	Seed  uint64
	Label int // class to condition on; -1: none (a conditional model cycles through the classes)
	// Family holds the family's sample settings (a pointer made by
	// Family.SampleConfig), or nil for their defaults.
	Family any
}

// ScoreOptions are what every family's Score takes.
type ScoreOptions struct {
	Seed uint64
	// Family holds the family's eval settings (a pointer made by
	// Family.EvalConfig), or nil for their defaults.
	Family any
	// Data is the spec the data came from, for families whose figures depend on
	// it (Ising observables at the data's temperature).
	Data string
	// DataDir is the folder of downloaded data sets (dataset.Options.DataDir) for
	// families that load more data while scoring (a held-out set to tune on).
	DataDir string
}

// Needs says what data a family can train on.
type Needs struct {
	Binary bool // every value 0 or 1 (--binarize makes [0, 1] data binary)
	Labels bool // a label per example
	Image  bool // rows with an image shape
}

// Family describes a model family to the registry.
type Family struct {
	Name    string // MODEL name, and the checkpoint kind of its files
	Summary string // one line for `latent help`
	// Doc is a longer description for `latent train NAME -h` (optional).
	Doc string
	// Config returns a pointer to a new training configuration holding its
	// defaults; its tagged fields are the family's flags (see Bind).
	Config func() any
	// New makes a new model to train with cfg (as Config returned it, flags
	// applied) on the training data d; s holds the run's seed, binarisation
	// and data shape.
	New func(cfg any, d *dataset.Dataset, s *Settings) (Trainer, error)
	// Load restores a model, and its training state, from a file its Save wrote.
	Load func(f *checkpoint.File) (Model, error)
	// SampleConfig and EvalConfig return the family's own settings of
	// `latent sample` and `latent eval` (nil: none).
	SampleConfig, EvalConfig func() any
	Needs                    Needs
	// Quantized says that Score reads values in [0, 1] as 8-bit levels k/255
	// itself (the DDPM's discretised decoder), so `latent compare` never
	// dequantises the data it scores. A family with a "dequantize" eval flag
	// (dataset.Dequantize) needs no such mark: compare sets the flag.
	Quantized bool
	// Memory estimates the bytes New needs for cfg and data of the given
	// shape (optional); the CLI refuses, naming the flag, what this machine
	// cannot hold. It returns the estimate and the flag that sizes it most.
	Memory func(cfg any, rows, dim int) (bytes float64, flag string)
	// Epochs is the default number of epochs (10 when 0); for EM, the most
	// iterations.
	Epochs int
	// Aliases are other checkpoint kinds Load reads (older names).
	Aliases []string
}

var (
	mu       sync.RWMutex
	families = map[string]*Family{}
)

// Register adds a family. It panics if the name is taken or a required field
// is missing: registration happens in init functions, where that is a bug.
func Register(f Family) {
	if f.Name == "" || f.Config == nil || f.New == nil || f.Load == nil {
		panic(fmt.Sprintf("model: Register(%q): Name, Config, New and Load are required", f.Name))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, n := range append([]string{f.Name}, f.Aliases...) {
		if _, dup := families[n]; dup {
			panic(fmt.Sprintf("model: Register: %q registered twice", n))
		}
		ff := f
		families[n] = &ff
	}
}

// Lookup returns the family registered under name (or an alias), or nil.
func Lookup(name string) *Family {
	mu.RLock()
	defer mu.RUnlock()
	return families[name]
}

// Families returns the registered families sorted by name, aliases left out.
func Families() []*Family {
	mu.RLock()
	defer mu.RUnlock()
	var out []*Family
	for n, f := range families {
		if n == f.Name {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the registered family names, sorted, as one comma-separated string.
func Names() string {
	var s []string
	for _, f := range Families() {
		s = append(s, f.Name)
	}
	return strings.Join(s, ", ")
}

// Load reads a model of any registered family from f.
func Load(f *checkpoint.File) (Model, *Settings, error) {
	fam := Lookup(f.Kind)
	if fam == nil {
		return nil, nil, fmt.Errorf("model: the file holds a %q model, which this latent cannot read (known: %s)", f.Kind, Names())
	}
	m, err := fam.Load(f)
	if err != nil {
		return nil, nil, err
	}
	s, err := readSettings(f)
	if err != nil {
		return nil, nil, err
	}
	return m, s, nil
}

// CheckFinite returns an error naming what and the first index holding a NaN or
// infinite value, or a value larger in magnitude than limit (> 0), in xs.
func CheckFinite(what string, limit float64, xs []float32) error {
	for i, v := range xs {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) || (limit > 0 && math.Abs(f) > limit) {
			return fmt.Errorf("%s[%d] = %g: the parameters diverged (lower the learning rate)", what, i, v)
		}
	}
	return nil
}
