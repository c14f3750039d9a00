package report

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/classifier"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// CompareOptions are Compare's settings. Its zero value scores all of Data
// with seed 0; `latent compare` passes eval's defaults (seed 1).
type CompareOptions struct {
	Data    string // data SPEC every model is scored on
	DataDir string // folder of already downloaded data files (dataset.Options)
	Seed    uint64 // seed of the estimators, of generated data and of a stochastic binarisation, as `latent eval --seed`
	N       int    // score only the first N examples (0: all), as `latent eval --n`
	// Classifier is a digit classifier's model file: when set and its input
	// width is the data's, each model that can sample gets the FID of FIDN of
	// its samples against the data in the classifier's features (`latent
	// eval --fid`).
	Classifier string
	FIDN       int // samples for the FID (10000 when 0)
	// EvalFlags holds, by family name, `latent eval` flags of that family's
	// own (["--ais-betas", "14500"]) that replace its defaults.
	EvalFlags map[string][]string
	// Dequantize says whether continuous data are scored by the one
	// protocol, dataset.Dequantize: "yes", "no", or "auto" (also ""): when
	// every value is an 8-bit level k/255 (dataset.Is8Bit). Dequantised, a
	// family with a "dequantize" eval flag gets it set (an EvalFlags value
	// wins), and any other family that does not model binary data and is
	// not Quantized is given y = (k + u)/256 with u from Seed; otherwise the
	// flag is set false and the values are scored as they are. Binary data
	// and binarised rows are never dequantised.
	Dequantize string
}

// Row is one model's line of the table. A model that cannot be scored on
// the data has Err set and NaN figures.
type Row struct {
	File      string
	Model     string // family name
	Data      string
	Binarize  string // how the data were binarised for this model ("" none)
	N         int    // examples scored
	LogLik    float64
	StdErr    float64 // 0 when exact or not estimated
	Estimator string
	Bound     string // "", "lower" or "upper"
	Quantity  string // what LogLik is the mean of, when not log p(x)
	// Dequantized names the protocol when the model was scored on
	// dequantised 8-bit data (dataset.Dequantization), else "".
	Dequantized string
	Dim         int     // values per example
	FID         float64 // NaN when not measured
	FIDN        int
	Params      int // -1 when the family does not say
	Epochs      int // epochs trained, from the file's settings (-1: unknown)
	Seconds     float64
	Err         string
	Extra       []model.Metric
	// Published is the figure from the literature to read the row against
	// (JoinPublished), or nil.
	Published *Published
}

// BitsPerDim returns the family's own bits per dimension when its estimate
// has one (a DDPM's, on 8-bit pixel values); for a row scored on dequantised
// data, the bits per dimension of the 8-bit data, (d·ln 256 − LogLik)/(d·ln 2)
// (dataset.BitsPerDim8); else −LogLik/(Dim·ln 2), bits per value of the data
// as they were scored (binary pixels).
func (r Row) BitsPerDim() float64 {
	if r.Dim == 0 || r.Err != "" || r.Quantity != "" {
		return math.NaN()
	}
	for _, m := range r.Extra {
		if v, ok := m.Float(); ok && m.Name == "bits_per_dim" {
			return v
		}
	}
	if r.Dequantized != "" {
		return dataset.BitsPerDim8(r.LogLik, r.Dim)
	}
	return -r.LogLik / (float64(r.Dim) * math.Ln2)
}

// JSON returns the row as the CLI contract's eval object: model, data, n,
// log_likelihood, estimator, and where they apply log_likelihood_stderr,
// bound, dequantized, bits_per_dim, fid, parameters, epochs, file, error.
func (r Row) JSON() map[string]any {
	o := map[string]any{"file": r.File, "model": r.Model, "data": r.Data, "n": r.N,
		"log_likelihood": jsonFloat(r.LogLik), "estimator": r.Estimator, "seconds": r.Seconds}
	if r.StdErr > 0 {
		o["log_likelihood_stderr"] = r.StdErr
	}
	if r.Bound != "" {
		o["bound"] = r.Bound
	}
	if r.Binarize != "" {
		o["binarize"] = r.Binarize
	}
	if r.Quantity != "" {
		o["quantity"] = r.Quantity
	}
	if r.Dequantized != "" {
		o["dequantized"] = r.Dequantized
	}
	if b := r.BitsPerDim(); !math.IsNaN(b) {
		o["bits_per_dim"] = b
	}
	if !math.IsNaN(r.FID) {
		o["fid"], o["fid_n"] = r.FID, r.FIDN
	}
	if r.Params >= 0 {
		o["parameters"] = r.Params
	}
	if r.Epochs >= 0 {
		o["epochs"] = r.Epochs
	}
	if r.Err != "" {
		o["error"] = r.Err
	}
	if r.Published != nil {
		o["published_log_likelihood"], o["published_source"] = r.Published.LogLik, r.Published.Source
	}
	for _, m := range r.Extra {
		if _, taken := o[m.Name]; !taken {
			o[m.Name] = jsonValue(m.Value)
		}
	}
	return o
}

func jsonFloat(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

func jsonValue(v any) any {
	if f, ok := v.(float64); ok {
		return jsonFloat(f)
	}
	return v
}

// Compare scores every model file on o.Data with its family's Scorer and its
// eval defaults, as `latent eval --model FILE --data SPEC` does with the same
// seed: the data binarised as in training (one fixed stochastic draw for a
// model trained with dynamic binarisation). A file that cannot be read or
// scored gets its reason in its row's Err; Compare returns an error only when
// the data cannot be read or ctx is cancelled.
func Compare(ctx context.Context, files []string, o CompareOptions) ([]Row, error) {
	if o.Data == "" {
		return nil, fmt.Errorf("report: compare: no data spec")
	}
	if o.FIDN == 0 {
		o.FIDN = 10000
	}
	switch o.Dequantize {
	case "", "auto", "yes", "no":
	default:
		return nil, fmt.Errorf("report: compare: dequantize %q: want auto, yes or no", o.Dequantize)
	}
	var cls *classifier.Model
	if o.Classifier != "" {
		f, err := checkpoint.LoadKind(o.Classifier, classifier.Kind)
		if err != nil {
			return nil, err
		}
		if cls, err = classifier.Load(f); err != nil {
			return nil, fmt.Errorf("%s: %w", o.Classifier, err)
		}
	}
	data := map[string]*dataset.Dataset{} // by binarisation
	open := func(bin string) (*dataset.Dataset, error) {
		if d, ok := data[bin]; ok {
			return d, nil
		}
		d, err := dataset.Load(o.Data, dataset.Options{DataDir: o.DataDir, Seed: o.Seed})
		if err != nil {
			return nil, err
		}
		if bin == "threshold" || bin == "stochastic" {
			if err := dataset.Binarize(d, bin, o.Seed); err != nil {
				return nil, err
			}
		}
		data[bin] = d
		return d, nil
	}
	// The data as given must open: otherwise no row could be scored.
	if _, err := open(""); err != nil {
		return nil, fmt.Errorf("--data %s: %w", o.Data, err)
	}
	rows := make([]Row, 0, len(files))
	for i, path := range files {
		model.Logf(ctx, "compare: %d/%d %s", i+1, len(files), path)
		r := Row{File: path, Data: o.Data, LogLik: math.NaN(), FID: math.NaN(), Params: -1, Epochs: -1}
		if err := scoreFile(ctx, &r, path, o, open, cls); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.Err = err.Error()
			r.LogLik = math.NaN()
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// scoreFile fills r with the scores of the model in path.
func scoreFile(ctx context.Context, r *Row, path string, o CompareOptions, open func(string) (*dataset.Dataset, error), cls *classifier.Model) error {
	f, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	r.Model = f.Kind
	m, s, err := model.Load(f)
	if err != nil {
		return err
	}
	fam := model.Lookup(f.Kind)
	r.Model = fam.Name
	r.Dim = m.Dim()
	if s != nil {
		r.Epochs = s.EpochsDone
		r.Binarize = s.EvalBinarize()
	}
	if ds, ok := m.(model.Describer); ok {
		for _, d := range ds.Describe() {
			if d.Name == "parameters" {
				if v, ok := d.Value.(int); ok {
					r.Params = v
				}
			}
		}
	}
	d, err := open(r.Binarize)
	if err != nil {
		return err
	}
	if d.Dim() != m.Dim() {
		return fmt.Errorf("the data's rows have %d values, the model's %d", d.Dim(), m.Dim())
	}
	ref := d.X
	if o.N > 0 && o.N < d.Len() {
		dd := *d
		dd.X = d.X.Slice(0, o.N)
		if d.Labels != nil {
			dd.Labels = d.Labels[:o.N]
		}
		d = &dd
	}
	r.N = d.Len()
	if fam.Needs.Binary && !d.Binary && !dataset.IsBinary(d.X) {
		return fmt.Errorf("a %s scores binary data and %s is not binary", fam.Name, o.Data)
	}
	sc, ok := m.(model.Scorer)
	if !ok {
		return fmt.Errorf("a %s model defines no log-likelihood", fam.Name)
	}
	continuous := !fam.Needs.Binary && r.Binarize == "" && !d.Binary && !dataset.IsBinary(d.X)
	deq := continuous && (o.Dequantize == "yes" || (o.Dequantize != "no" && dataset.Is8Bit(d.X)))
	args := o.EvalFlags[fam.Name]
	own := hasFlag(fam, "dequantize")
	if own && continuous {
		args = append([]string{fmt.Sprintf("--dequantize=%t", deq)}, args...)
	}
	fcfg, err := evalConfig(fam, args)
	if err != nil {
		return err
	}
	start := time.Now()
	if deq && !own && !fam.Quantized {
		y, err := dataset.Dequantize(d.X, o.Data, o.Seed)
		if err != nil {
			return fmt.Errorf("%w (--dequantize no scores the values as they are)", err)
		}
		dd := *d
		dd.X = y
		d = &dd
		r.Dequantized = dataset.Dequantization
	}
	est, err := sc.Score(ctx, d, model.ScoreOptions{Seed: o.Seed, Family: fcfg, Data: o.Data, DataDir: o.DataDir})
	if err != nil {
		return err
	}
	r.LogLik, r.StdErr, r.Estimator, r.Bound, r.Quantity, r.N = est.LogLik, est.StdErr, est.Method, est.Bound, est.Quantity, est.N
	r.Extra = est.Extra
	for _, m := range est.Extra {
		if m.Name == "dequantized" && m.Value == dataset.Dequantization {
			r.Dequantized = dataset.Dequantization
		}
	}
	if cls != nil && cls.Dim() == m.Dim() {
		if sm, ok := m.(model.Sampler); ok {
			fid, err := FID(ctx, sm, cls, ref, o.FIDN, o.Seed)
			if err != nil {
				return fmt.Errorf("FID: %w", err)
			}
			r.FID, r.FIDN = fid, min(o.FIDN, ref.Rows)
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return nil
}

// hasFlag says whether fam has an eval flag of that name.
func hasFlag(fam *model.Family, name string) bool {
	if fam.EvalConfig == nil {
		return false
	}
	fs := flag.NewFlagSet(fam.Name, flag.ContinueOnError)
	model.Bind(fs, fam.EvalConfig())
	return fs.Lookup(name) != nil
}

// evalConfig returns fam's eval settings, its defaults with args applied.
func evalConfig(fam *model.Family, args []string) (any, error) {
	if fam.EvalConfig == nil {
		if len(args) > 0 {
			return nil, fmt.Errorf("--eval %s: a %s has no eval flags of its own", fam.Name, fam.Name)
		}
		return nil, nil
	}
	cfg := fam.EvalConfig()
	if len(args) == 0 {
		return cfg, nil
	}
	fs := flag.NewFlagSet(fam.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	model.Bind(fs, cfg)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("--eval %s: %w", fam.Name, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("--eval %s: unexpected argument %q", fam.Name, fs.Arg(0))
	}
	if err := model.Validate(cfg); err != nil {
		return nil, fmt.Errorf("--eval %s: %w", fam.Name, err)
	}
	return cfg, nil
}

// FID draws n samples from m (seed+7, as `latent eval --fid`) and returns the
// Fréchet distance between the classifier's features of the samples and of
// the first n rows of ref.
func FID(ctx context.Context, m model.Sampler, cls *classifier.Model, ref *tensor.Mat, n int, seed uint64) (float64, error) {
	n = min(n, ref.Rows)
	if n < 2 {
		return 0, errors.New("need at least 2 examples")
	}
	samples, err := m.Sample(ctx, model.SampleOptions{N: n, Seed: seed + 7, Label: -1})
	if err != nil {
		return 0, err
	}
	fs, err := cls.Features(ctx, samples.X)
	if err != nil {
		return 0, err
	}
	fr, err := cls.Features(ctx, ref.Slice(0, n))
	if err != nil {
		return 0, err
	}
	return classifier.FrechetDistance(fs, fr)
}

// DefaultClassifier is the digit classifier `latent compare` uses when it
// exists in the working folder: the one shipped in the repository's models/.
const DefaultClassifier = "models/digits.model"
