package main

import (
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/ising"
	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/rbm"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

func init() {
	register(&modelCmd{
		Names: []string{"rbm", "grbm"},
		Usage: "rbm|grbm --data SPEC --hidden N [--cd K | --pcd | --pt CHAINS] [--batch B --lr LR --momentum M --l2 W --schedule constant|linear] [--dense] --epochs E --out FILE [--resume FILE] [--filters PNG] [--json]",
		Train: rbmTrain, Sample: rbmSample, Eval: rbmEval,
	})
	registerDemo(demoStep{Order: 20, Name: "rbm: bars-and-stripes 4x4, exact log-likelihood", Run: demoRBMBars})
	registerDemo(demoStep{Order: 21, Name: "rbm: Ising L=8 at T=1.8 and 3.0", Run: demoRBMIsing})
}

// flagSet reports which flags were given on the command line.
func flagSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// checkResumedRBM is checkResumed with the settings of a saved RBM trainer.
func checkResumedRBM(fs *flag.FlagSet, file string, tr *rbm.Trainer, info map[string]string) error {
	c := tr.Config()
	pt := "none (it used " + c.Method.String() + ")"
	if c.Method == rbm.PT {
		pt = strconv.Itoa(c.Temperatures)
	}
	schedule := "constant"
	if c.Schedule == rbm.LinearDecay {
		schedule = "linear"
	}
	return checkResumed(fs, file,
		saved{flag: "hidden", value: strconv.Itoa(tr.Model.NumHidden())},
		saved{flag: "cd", value: strconv.Itoa(c.K)},
		saved{flag: "pcd", value: strconv.FormatBool(c.Method == rbm.PCD)},
		saved{flag: "pt", value: pt},
		saved{flag: "batch", value: strconv.Itoa(c.BatchSize)},
		saved{flag: "lr", value: floatFlag(c.LearningRate)},
		saved{flag: "schedule", value: schedule},
		saved{flag: "momentum", value: floatFlag(c.Momentum)},
		saved{flag: "l2", value: floatFlag(c.WeightDecay)},
		saved{flag: "learn-sigma", value: strconv.FormatBool(c.LearnSigma)},
		saved{flag: "dense", value: strconv.FormatBool(c.Dense)},
		saved{flag: "seed", value: strconv.FormatUint(c.Seed, 10)},
		saved{flag: "binarize", value: info["binarize"]})
}

// rbmTrainOpts are the settings of `latent train rbm|grbm`.
type rbmTrainOpts struct {
	model, data, binarize, out, resume, filters, samples string
	hidden, cd, pt, batch, epochs                        int
	pcd, learnSigma, dense, jsonOut                      bool
	lr, momentum, l2                                     float64
	schedule                                             string
	seed                                                 uint64
}

func rbmTrain(env *Env, model string, args []string) error {
	o := rbmTrainOpts{model: model}
	fs := newFlags("train " + model)
	fs.StringVar(&o.data, "data", "", "training data SPEC")
	fs.IntVar(&o.hidden, "hidden", 100, "hidden units")
	fs.IntVar(&o.cd, "cd", 1, "Gibbs steps per update (CD-k; also k for --pcd and --pt)")
	fs.BoolVar(&o.pcd, "pcd", false, "persistent contrastive divergence")
	fs.IntVar(&o.pt, "pt", 0, "parallel tempering with this many temperatures (>= 2)")
	fs.IntVar(&o.batch, "batch", 100, "mini-batch size")
	fs.Float64Var(&o.lr, "lr", 0, "learning rate (default 0.1 for rbm, 0.01 for grbm)")
	fs.StringVar(&o.schedule, "schedule", "constant", "learning-rate schedule: constant or linear (decay to 0)")
	fs.Float64Var(&o.momentum, "momentum", 0, "momentum in [0, 1)")
	fs.Float64Var(&o.l2, "l2", 0, "L2 weight decay on W")
	fs.BoolVar(&o.learnSigma, "learn-sigma", false, "grbm: learn the visible standard deviations")
	fs.BoolVar(&o.dense, "dense", false, "use dense products even for sparse binary batches (a grbm always does)")
	fs.IntVar(&o.epochs, "epochs", 10, "total epochs (including those of a resumed run)")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed")
	fs.StringVar(&o.binarize, "binarize", "", "threshold, stochastic or dynamic")
	fs.StringVar(&o.out, "out", "", "model file to write (atomically, after every epoch)")
	fs.StringVar(&o.resume, "resume", "", "model file to continue training from")
	fs.StringVar(&o.filters, "filters", "", "PNG of the learned filters (rows of Wᵀ), written after every epoch")
	fs.StringVar(&o.samples, "samples", "", "PNG of model samples written at the end")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON object with the results")
	if err := parseOnlyFlags(fs, args, "train "+model); err != nil {
		return err
	}
	set := flagSet(fs)
	if err := checkOutFile("--out", o.out); err != nil {
		return err
	}
	switch {
	case o.hidden < 1:
		return usagef("--hidden: must be >= 1, got %d", o.hidden)
	case o.cd < 1:
		return usagef("--cd: must be >= 1, got %d", o.cd)
	case set["pt"] && o.pt < 2:
		return usagef("--pt: must be >= 2 temperatures, got %d", o.pt)
	case set["pt"] && o.pcd:
		return usagef("--pcd and --pt: choose one negative-phase sampler")
	case o.batch < 1:
		return usagef("--batch: must be >= 1, got %d", o.batch)
	case o.epochs < 1:
		return usagef("--epochs: must be >= 1, got %d", o.epochs)
	case set["lr"] && !(o.lr > 0 && !math.IsInf(o.lr, 0)):
		return usagef("--lr: must be > 0 and finite, got %g", o.lr)
	case !(o.momentum >= 0 && o.momentum < 1):
		return usagef("--momentum: must be in [0, 1), got %g", o.momentum)
	case !(o.l2 >= 0) || math.IsInf(o.l2, 0):
		return usagef("--l2: must be >= 0, got %g", o.l2)
	case o.schedule != "constant" && o.schedule != "linear":
		return usagef("--schedule: must be constant or linear, got %q", o.schedule)
	case model == "rbm" && o.learnSigma:
		return usagef("--learn-sigma: only for grbm")
	case model == "grbm" && o.binarize != "":
		return usagef("--binarize: a grbm models real-valued data; got %q", o.binarize)
	case model == "grbm" && set["pt"]:
		return usagef("--pt: parallel tempering is implemented for rbm only")
	}
	d, err := openData(env, o.data, o.binarize, o.seed)
	if err != nil {
		return err
	}
	if o.binarize == "dynamic" {
		if err := dataset.CheckUnit(d); err != nil {
			return fmt.Errorf("--binarize dynamic: %w", err)
		}
	}
	vis := rbm.Bernoulli
	if model == "grbm" {
		vis = rbm.Gaussian
	}
	info := map[string]string{"data": o.data, "binarize": o.binarize}
	var tr *rbm.Trainer
	if o.resume != "" {
		f, err := checkpoint.Load(o.resume)
		if err != nil {
			return err
		}
		if f.Kind != model {
			return usagef("--resume: %s holds a %s model, not %s", o.resume, f.Kind, model)
		}
		if tr, err = rbm.LoadTrainer(f, d.X, o.epochs); err != nil {
			return fmt.Errorf("--resume %s: %w", o.resume, err)
		}
		if old := rbm.Info(f); old != nil {
			info = old
		}
		if err := checkResumedRBM(fs, o.resume, tr, info); err != nil {
			return err
		}
	} else {
		m, err := rbm.New(vis, d.Dim(), o.hidden)
		if err != nil {
			return err
		}
		if d.Height > 0 && d.Width > 0 && d.Height*d.Width*max(d.Channels, 1) == d.Dim() {
			m.Height, m.Width, m.Channels = d.Height, d.Width, max(d.Channels, 1)
		}
		if err := m.InitFromData(d.X, rng.NewStream(o.seed, 3)); err != nil {
			return fmt.Errorf("--data %s: %w", o.data, err)
		}
		cfg := rbm.Config{K: o.cd, BatchSize: o.batch, LearningRate: o.lr, Momentum: o.momentum,
			WeightDecay: o.l2, Epochs: o.epochs, Seed: o.seed, LearnSigma: o.learnSigma,
			DynamicBinarize: o.binarize == "dynamic", Dense: o.dense}
		if o.schedule == "linear" {
			cfg.Schedule = rbm.LinearDecay
		}
		switch {
		case o.pcd:
			cfg.Method = rbm.PCD
		case set["pt"]:
			cfg.Method, cfg.Temperatures = rbm.PT, o.pt
		}
		if tr, err = rbm.NewTrainer(m, d.X, cfg); err != nil {
			return fmt.Errorf("--data %s: %w", o.data, err)
		}
	}
	m := tr.Model
	mon := monitorRows(d.X, m)
	start := time.Now()
	var trainSecs float64
	ran := 0
	var last rbm.EpochStats
	var metrics map[string]any
	for !tr.Done() {
		t0 := time.Now()
		st, err := tr.TrainEpoch()
		if err != nil {
			return err // the last good checkpoint stays in place
		}
		secs := time.Since(t0).Seconds()
		trainSecs += secs
		last, ran = st, ran+1
		metrics = rbmMetrics(m, mon, tr.Done())
		line := fmt.Sprintf("epoch %d/%d:", st.Epoch, tr.Config().Epochs)
		if v, ok := metrics["exact_log_likelihood"]; ok {
			line += fmt.Sprintf(" train LL %.4f nats (exact),", v)
		}
		if v, ok := metrics["pseudo_log_likelihood"]; ok {
			line += fmt.Sprintf(" pseudo-LL %.3f (n=%d),", v, metrics["monitor_n"])
		}
		line += fmt.Sprintf(" recon %.4f", metrics["reconstruction_error"])
		if st.SwapRates != nil {
			line += fmt.Sprintf(", swap rates %s", fmtRates(st.SwapRates))
		}
		progress(env, "%s  %.2fs", line, secs)
		var f checkpoint.File
		if err := tr.Save(&f, info); err != nil {
			return err
		}
		if err := checkpoint.Save(o.out, &f); err != nil {
			return err
		}
		if o.filters != "" {
			if err := saveFilters(o.filters, m); err != nil {
				return fmt.Errorf("--filters: %w", err)
			}
		}
	}
	if o.samples != "" {
		if err := saveSamplesPNG(o.samples, m, 64, 1000, o.seed, true); err != nil {
			return fmt.Errorf("--samples: %w", err)
		}
	}
	if !o.jsonOut {
		return nil
	}
	cfg := tr.Config()
	res := map[string]any{"model": model, "data": o.data, "epochs": tr.Epochs(), "epochs_run": ran,
		"seconds": time.Since(start).Seconds(), "train_seconds": trainSecs,
		"seconds_per_epoch": trainSecs / float64(max(ran, 1)), "out": o.out,
		"hidden": m.NumHidden(), "visible": m.NumVisible(), "method": cfg.Method.String(), "k": cfg.K,
		"batch": cfg.BatchSize, "lr": cfg.LearningRate, "dense": cfg.Dense, "steps": tr.Steps()}
	for k, v := range metrics {
		res[k] = v
	}
	if last.SwapRates != nil {
		res["swap_rates"] = last.SwapRates
	}
	return printJSON(env, res)
}

func fmtRates(r []float64) string {
	s := make([]string, len(r))
	for i, x := range r {
		s[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// monitorRows picks the training rows the metrics are computed on: the first 1000,
// fewer for big models so that the all-bits pseudo-likelihood (nv·nh softplus per row)
// stays near 1e8 evaluations (255 rows for 784×500).
func monitorRows(x *tensor.Mat, m *rbm.RBM) *tensor.Mat {
	n := min(x.Rows, 1000)
	n = max(1, min(n, int(1e8/float64(m.NumVisible()*m.NumHidden()))))
	return x.Slice(0, n)
}

// rbmMetrics computes the metrics on rows x (data units): reconstruction error, and
// when full is set or the cost is small (≤ 2e7 softplus evaluations), the
// pseudo-log-likelihood (rbm, on binary rows), plus the exact log-likelihood when
// enumerating costs at most 2e7 evaluations (1e8 when full). Training computes the
// full set after the last epoch; `latent eval` enumerates whatever can be.
func rbmMetrics(m *rbm.RBM, x *tensor.Mat, full bool) map[string]any {
	res := map[string]any{"reconstruction_error": jsonFloat(m.ReconstructionError(x)), "monitor_n": x.Rows}
	if !full && float64(x.Rows)*float64(m.NumVisible()*m.NumHidden()) > 2e7 {
		return res
	}
	if m.Visible == rbm.Bernoulli && isBinaryMat(x) {
		if pl, err := m.PseudoLogLikelihood(x); err == nil {
			res["pseudo_log_likelihood"] = jsonFloat(pl)
		}
	}
	budget := 2e7 // softplus evaluations of exact log Z (enumCost)
	if full {
		budget = 1e8
	}
	if m.CanEnumerate() && enumCost(m) <= budget && (m.Visible == rbm.Gaussian || isBinaryMat(x)) {
		if lz, err := m.ExactLogZ(); err == nil {
			res["exact_log_likelihood"] = jsonFloat(m.MeanLogProb(x, lz))
			res["exact_log_z"] = jsonFloat(lz)
		}
	}
	return res
}

func isBinaryMat(x *tensor.Mat) bool {
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Row(i) {
			if v != 0 && v != 1 {
				return false
			}
		}
	}
	return true
}

// saveFilters draws the rows of Wᵀ (one hidden unit's weights each, at most 256),
// each min-max scaled to [0, 1].
func saveFilters(path string, m *rbm.RBM) error {
	if m.Height == 0 {
		return fmt.Errorf("the model's data had no image shape")
	}
	nv, nh := m.NumVisible(), min(m.NumHidden(), 256)
	x := tensor.New(nh, nv)
	for j := 0; j < nh; j++ {
		r := x.Row(j)
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for i := range r {
			r[i] = m.W.At(i, j)
			lo, hi = min(lo, r[i]), max(hi, r[i])
		}
		for i := range r {
			if hi > lo {
				r[i] = (r[i] - lo) / (hi - lo)
			} else {
				r[i] = 0.5
			}
		}
	}
	return viz.SaveGrid(path, x, m.Height, m.Width, m.Channels, 0)
}

// saveSamplesPNG draws n model samples after steps Gibbs steps (the means E[x|h] of the
// last step when means is set), scaled to [0, 1] for a grbm.
func saveSamplesPNG(path string, m *rbm.RBM, n, steps int, seed uint64, means bool) error {
	if m.Height == 0 {
		return fmt.Errorf("the model's data had no image shape; write .npy")
	}
	s, mu := m.Sample(rbm.SampleConfig{N: n, Steps: steps, Seed: seed})
	if means {
		s = mu
	}
	if m.Visible == rbm.Gaussian {
		lo, hi := rangeOf(s)
		scaleUnit(s, lo, hi)
	}
	return viz.SaveGrid(path, s, m.Height, m.Width, m.Channels, 0)
}

func loadRBM(path string) (*rbm.RBM, *checkpoint.File, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := rbm.Load(f)
	if err != nil {
		return nil, nil, fmt.Errorf("--model %s: %w", path, err)
	}
	return m, f, nil
}

func rbmSample(env *Env, kind string, args []string) error {
	fs := newFlags("sample")
	modelPath := fs.String("model", "", "model file")
	n := fs.Int("n", 64, "number of samples (independent chains)")
	steps := fs.Int("gibbs-steps", 1000, "block-Gibbs steps per chain")
	out := fs.String("out", "", "samples.png or samples.npy")
	means := fs.Bool("means", false, "write the means E[x|h] of the last step instead of samples")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := parseOnlyFlags(fs, args, "sample"); err != nil {
		return err
	}
	if err := checkSampleArgs(*n, *out); err != nil {
		return err
	}
	if *steps < 1 {
		return usagef("--gibbs-steps: must be >= 1, got %d", *steps)
	}
	m, _, err := loadRBM(*modelPath)
	if err != nil {
		return err
	}
	switch strings.ToLower(filepath.Ext(*out)) {
	case ".png":
		return saveSamplesPNG(*out, m, *n, *steps, *seed, *means)
	case ".npy":
		s, mu := m.Sample(rbm.SampleConfig{N: *n, Steps: *steps, Seed: *seed})
		if *means {
			s = mu
		}
		return dataset.SaveNPY(*out, &dataset.Dataset{X: s})
	}
	return usagef("--out: want a .png or .npy file, got %q", *out)
}

// enumUnits returns the number of units ExactLogZ enumerates (2^n states): the hidden
// layer of a grbm, the smaller layer of an rbm.
func enumUnits(m *rbm.RBM) int {
	if m.Visible == rbm.Gaussian {
		return m.NumHidden()
	}
	return min(m.NumVisible(), m.NumHidden())
}

// enumCost is the number of softplus evaluations of exact log Z: 2^n states of the
// enumerated layer times the size of the other.
func enumCost(m *rbm.RBM) float64 {
	n := enumUnits(m)
	return math.Ldexp(float64(m.NumVisible()+m.NumHidden()-n), n)
}

// enumDescription says what exact log Z of m costs, for progress lines.
func enumDescription(m *rbm.RBM) string {
	n := enumUnits(m)
	return fmt.Sprintf("%.2g softplus evaluations (2^%d states × %d units: about %.1f min here)",
		enumCost(m), n, m.NumVisible()+m.NumHidden()-n, enumCost(m)/enumPerMinute)
}

// enumPerMinute is about how many softplus evaluations exact log Z does per minute
// on the 2-core development machine (2^20 states × 784 units took 7.5 s).
const enumPerMinute = 6.5e9

// cheapExact reports whether eval enumerates log Z without being asked (--exact):
// when it takes about a minute or less here. MaxExactUnits (30) allows up to 2^30
// states, hours for an MNIST-sized visible layer.
func cheapExact(m *rbm.RBM) bool { return m.CanEnumerate() && enumCost(m) <= enumPerMinute }

func rbmEval(env *Env, kind string, args []string) error {
	fs := newFlags("eval")
	modelPath := fs.String("model", "", "model file")
	data := fs.String("data", "", "data SPEC to score")
	binarize := fs.String("binarize", "", "threshold or stochastic")
	exact := fs.Bool("exact", false, "exact log Z only (error when the model is too large to enumerate)")
	aisChains := fs.Int("ais-chains", 100, "AIS chains")
	aisBetas := fs.Int("ais-betas", mcmc.DefaultAISSteps, "AIS intermediate distributions (Salakhutdinov & Murray proportions)")
	n := fs.Int("n", 0, "score only the first N examples (0: all)")
	samples := fs.Int("samples", 1000, "Ising data: model samples (chains) for the observables")
	steps := fs.Int("gibbs-steps", 1000, "Ising data: Gibbs steps per chain")
	seed := fs.Uint64("seed", 1, "random seed")
	jsonOut := fs.Bool("json", false, "print one JSON object")
	if err := parseOnlyFlags(fs, args, "eval"); err != nil {
		return err
	}
	set := flagSet(fs)
	switch {
	case *aisChains < 1:
		return usagef("--ais-chains: must be >= 1, got %d", *aisChains)
	case *aisBetas < 3:
		return usagef("--ais-betas: must be >= 3, got %d", *aisBetas)
	case *n < 0:
		return usagef("--n: must be >= 0, got %d", *n)
	case *samples < 1:
		return usagef("--samples: must be >= 1, got %d", *samples)
	case *steps < 1:
		return usagef("--gibbs-steps: must be >= 1, got %d", *steps)
	case *binarize == "dynamic":
		return usagef("--binarize: eval scores fixed data; use threshold or stochastic, got dynamic")
	case *exact && (set["ais-chains"] || set["ais-betas"]):
		return usagef("--exact and --ais-chains/--ais-betas: choose one estimator")
	}
	m, _, err := loadRBM(*modelPath)
	if err != nil {
		return err
	}
	d, err := openData(env, *data, *binarize, *seed)
	if err != nil {
		return err
	}
	if d.Dim() != m.NumVisible() {
		return fmt.Errorf("--data %s: rows have %d values, the model has %d visible units", *data, d.Dim(), m.NumVisible())
	}
	x := d.X
	if *n > 0 && *n < x.Rows {
		x = x.Slice(0, *n)
	}
	if m.Visible == rbm.Bernoulli && !isBinaryMat(x) {
		return fmt.Errorf("--data %s: an rbm scores binary data; use --binarize threshold or stochastic", *data)
	}
	start := time.Now()
	res := map[string]any{"model": kind, "data": *data, "n": x.Rows,
		"visible": m.NumVisible(), "hidden": m.NumHidden()}
	if *exact && !m.CanEnumerate() {
		need := fmt.Sprintf("a layer of at most %d units is needed", mcmc.MaxExactUnits)
		if m.Visible == rbm.Gaussian {
			need = fmt.Sprintf("at most %d hidden units are needed", mcmc.MaxExactUnits)
		}
		return fmt.Errorf("--exact: a %d×%d %s cannot be enumerated (%s); use AIS", m.NumVisible(), m.NumHidden(), kind, need)
	}
	var exactLZ float64
	haveExact := false
	// Exact when asked for, or unasked when it is cheap (then AIS flags also get
	// the exact value to be checked against); AIS otherwise.
	askedAIS := set["ais-chains"] || set["ais-betas"]
	if !*exact && !askedAIS && m.CanEnumerate() && !cheapExact(m) {
		progress(env, "eval: enumerating log Z would take %s; estimating it by AIS instead (--exact enumerates)", enumDescription(m))
	}
	if *exact && !cheapExact(m) {
		progress(env, "eval: enumerating log Z: %s", enumDescription(m))
	}
	if *exact || cheapExact(m) {
		t0 := time.Now()
		if exactLZ, err = m.ExactLogZ(); err != nil {
			return err
		}
		haveExact = true
		res["exact_log_z"] = jsonFloat(exactLZ)
		res["exact_seconds"] = time.Since(t0).Seconds()
	}
	if askedAIS || !haveExact {
		// A grbm's base model is N(b, σ²) in standardised units (mcmc.AISGaussian);
		// an rbm's is the base-rate model of the scored data.
		cfg := mcmc.AISConfig{Chains: *aisChains, Betas: mcmc.AISBetas(*aisBetas), Seed: *seed}
		if m.Visible == rbm.Bernoulli {
			cfg.BaseBias = mcmc.BaseRateBias(x)
		}
		t0 := time.Now()
		r, err := m.AISLogZ(cfg)
		if err != nil {
			return err
		}
		res["estimator"] = "ais"
		res["log_z"] = jsonFloat(r.LogZ)
		res["log_z_stderr"] = jsonFloat(r.StdErr)
		res["log_likelihood"] = jsonFloat(m.MeanLogProb(x, r.LogZ))
		res["log_likelihood_stderr"] = jsonFloat(r.StdErr)
		res["ais_chains"], res["ais_betas"] = *aisChains, *aisBetas
		res["ais_seconds"] = time.Since(t0).Seconds()
		if haveExact {
			res["exact_log_likelihood"] = jsonFloat(m.MeanLogProb(x, exactLZ))
		}
	} else {
		res["estimator"] = "exact"
		res["log_z"] = jsonFloat(exactLZ)
		res["log_likelihood"] = jsonFloat(m.MeanLogProb(x, exactLZ))
	}
	if m.Visible == rbm.Bernoulli {
		pl, _ := m.PseudoLogLikelihood(x)
		res["pseudo_log_likelihood"] = jsonFloat(pl)
	}
	res["reconstruction_error"] = jsonFloat(m.ReconstructionError(x))
	if T, L, ok := isingSpec(*data, d); ok && m.Visible == rbm.Bernoulli {
		obs, err := isingCompare(m, x, L, T, *samples, *steps, *seed)
		if err != nil {
			return err
		}
		res["ising"] = obs
	}
	res["seconds"] = time.Since(start).Seconds()
	if *jsonOut {
		return printJSON(env, res)
	}
	fmt.Fprintf(env.Stdout, "%s on %s (n=%d): log p(x) = %.4f nats (%s)", kind, *data, x.Rows, res["log_likelihood"], res["estimator"])
	if se, ok := res["log_likelihood_stderr"]; ok {
		fmt.Fprintf(env.Stdout, " ± %.4f", se)
	}
	if v, ok := res["exact_log_z"]; ok {
		fmt.Fprintf(env.Stdout, ", exact log Z %.4f", v)
	}
	if v, ok := res["pseudo_log_likelihood"]; ok {
		fmt.Fprintf(env.Stdout, ", pseudo-LL %.4f", v)
	}
	fmt.Fprintf(env.Stdout, ", recon %.4f, %.1fs\n", res["reconstruction_error"], res["seconds"])
	if obs, ok := res["ising"].(map[string]any); ok {
		dm, mm := obs["data"].(map[string]any), obs["model"].(map[string]any)
		fmt.Fprintf(env.Stdout, "  Ising T=%g: energy/spin data %.4f model %.4f, |m| data %.4f model %.4f, C data %.4f model %.4f, χ data %.4f model %.4f\n",
			obs["T"], dm["energy"], mm["energy"], dm["abs_mag"], mm["abs_mag"], dm["specific_heat"], mm["specific_heat"], dm["susceptibility"], mm["susceptibility"])
	}
	return nil
}

// isingSpec reports whether data came from the Ising generator, with its temperature
// and lattice size.
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

// isingObservables measures the Ising observables of binary L×L configurations (rows
// of x, 1 = spin up) at temperature T with package ising's estimators.
func isingObservables(x *tensor.Mat, L int, T float64) ising.Observables {
	energy, mag := make([]int, x.Rows), make([]int, x.Rows)
	for n := 0; n < x.Rows; n++ {
		r := x.Row(n)
		spin := func(i, j int) int { return 2*int(r[((i+L)%L)*L+(j+L)%L]) - 1 }
		e, mg := 0, 0
		for i := 0; i < L; i++ {
			for j := 0; j < L; j++ {
				s := spin(i, j)
				e -= s * (spin(i, j+1) + spin(i+1, j))
				mg += s
			}
		}
		energy[n], mag[n] = e, mg
	}
	return ising.Measure(L*L, T, energy, mag)
}

// isingCompare draws model samples (chains from the base rate, steps Gibbs steps) and
// returns their observables beside the data's, with the relative differences of the
// energy per spin and ⟨|m|⟩.
func isingCompare(m *rbm.RBM, x *tensor.Mat, L int, T float64, n, steps int, seed uint64) (map[string]any, error) {
	s, _ := m.Sample(rbm.SampleConfig{N: n, Steps: steps, Seed: seed})
	dm, mm := isingObservables(x, L, T), isingObservables(s, L, T)
	obsMap := func(o ising.Observables) map[string]any {
		return map[string]any{"energy": o.Energy, "abs_mag": o.AbsMag, "specific_heat": o.SpecificHeat, "susceptibility": o.Susceptibility}
	}
	return map[string]any{"T": T, "L": L, "data": obsMap(dm), "model": obsMap(mm), "model_samples": n, "gibbs_steps": steps,
		"rel_err_energy":  math.Abs(mm.Energy-dm.Energy) / math.Abs(dm.Energy),
		"rel_err_abs_mag": math.Abs(mm.AbsMag-dm.AbsMag) / math.Abs(dm.AbsMag)}, nil
}

// demoRBMBars trains an RBM on the 30 bars-and-stripes 4×4 patterns and prints the
// exact log-likelihood next to the optimum, −log 30.
func demoRBMBars(env *Env, out string, seed uint64) error {
	d, err := demoLoad(env, "bars:4", seed)
	if err != nil {
		return err
	}
	x := tensor.New(d.Len()*20, d.Dim())
	for i := 0; i < x.Rows; i++ {
		copy(x.Row(i), d.X.Row(i%d.Len()))
	}
	m, err := rbm.New(rbm.Bernoulli, d.Dim(), 16)
	if err != nil {
		return err
	}
	m.Height, m.Width, m.Channels = 4, 4, 1
	if err := m.InitFromData(x, rng.NewStream(seed, 3)); err != nil {
		return err
	}
	tr, err := rbm.NewTrainer(m, x, rbm.Config{Method: rbm.PT, Temperatures: 5, BatchSize: 20, LearningRate: 0.1,
		Momentum: 0.5, Schedule: rbm.LinearDecay, Epochs: 150, Seed: seed})
	if err != nil {
		return err
	}
	lz, _ := m.ExactLogZ()
	ll0 := m.MeanLogProb(d.X, lz)
	for !tr.Done() {
		if _, err := tr.TrainEpoch(); err != nil {
			return err
		}
	}
	lz, _ = m.ExactLogZ()
	ll := m.MeanLogProb(d.X, lz)
	progress(env, "rbm bars:4 (16 hidden, PT-5, 150 epochs): exact log-likelihood %.3f nats/pattern (start %.3f, optimum −log %d = %.3f)",
		ll, ll0, d.Len(), -math.Log(float64(d.Len())))
	var f checkpoint.File
	if err := m.Save(&f, map[string]string{"data": "bars:4"}); err != nil {
		return err
	}
	if err := checkpoint.Save(filepath.Join(out, "rbm-bars.ckpt"), &f); err != nil {
		return err
	}
	if err := saveFilters(filepath.Join(out, "rbm-bars-filters.png"), m); err != nil {
		return err
	}
	return saveSamplesPNG(filepath.Join(out, "rbm-bars-samples.png"), m, 32, 200, seed, false)
}

// demoRBMIsing trains an RBM on 8×8 Ising configurations at two temperatures and
// compares the energy and |m| of its samples with the data's.
func demoRBMIsing(env *Env, out string, seed uint64) error {
	const L = 8
	for _, T := range []float64{1.8, 3.0} {
		spec := fmt.Sprintf("ising:L=%d,T=%g,n=2000", L, T)
		d, err := demoLoad(env, spec, seed)
		if err != nil {
			return err
		}
		m, err := rbm.New(rbm.Bernoulli, d.Dim(), 64)
		if err != nil {
			return err
		}
		m.Height, m.Width, m.Channels = L, L, 1
		if err := m.InitFromData(d.X, rng.NewStream(seed, 3)); err != nil {
			return err
		}
		tr, err := rbm.NewTrainer(m, d.X, rbm.Config{K: 1, BatchSize: 50, LearningRate: 0.1,
			Momentum: 0.9, Schedule: rbm.LinearDecay, Epochs: 100, Seed: seed})
		if err != nil {
			return err
		}
		for !tr.Done() {
			if _, err := tr.TrainEpoch(); err != nil {
				return err
			}
		}
		obs, err := isingCompare(m, d.X, L, T, 2000, 300, seed)
		if err != nil {
			return err
		}
		dm, mm := obs["data"].(map[string]any), obs["model"].(map[string]any)
		progress(env, "rbm Ising L=%d T=%g (64 hidden, CD-1, 100 epochs on 2000 configurations): energy/spin data %.4f model %.4f (%.1f%%), |m| data %.4f model %.4f (%.1f%%)",
			L, T, dm["energy"], mm["energy"], 100*obs["rel_err_energy"].(float64), dm["abs_mag"], mm["abs_mag"], 100*obs["rel_err_abs_mag"].(float64))
		if err := saveSamplesPNG(filepath.Join(out, fmt.Sprintf("rbm-ising-T%g-samples.png", T)), m, 36, 500, seed, false); err != nil {
			return err
		}
	}
	return nil
}
