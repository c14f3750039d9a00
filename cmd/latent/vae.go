package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/vae"
	"github.com/latent-ml/latent/viz"
)

func init() {
	register(&modelCmd{
		Names: []string{vae.KindAE, vae.KindVAE, vae.KindCVAE, vae.KindConvVAE},
		Usage: `ae|vae|cvae|convvae --data SPEC [--test SPEC] [--latent 20] [--hidden 400,400]
      [--activation relu|tanh|...] [--decoder bernoulli|gaussian] [--sigma2 S (0: learned)]
      [--beta 1] [--iw-k 1] [--batch 128] [--lr 1e-3] [--optimizer adam|sgd] [--epochs 10]
      [--schedule constant|burda] [--adam-eps 1e-8]
      [--seed S] [--binarize threshold|stochastic|dynamic] [--pictures DIR] --out FILE
      [--resume FILE (settings come from FILE; --epochs is the total)] [--json]
                                      autoencoder / (conditional, convolutional) VAE;
      sample: [--label L] for cvae;  eval: [--iw-k 5000] [--n N] (IWAE log-likelihood)
      eval --classify (cvae): classify by Bayes' rule, p(y|x) ∝ p(x|y) p(y) with p(y) the
      training class frequencies (uniform for older model files); reports accuracy and
      mean_log_p_label (costs one --iw-k estimate per class: try --iw-k 100)`,
		Train:  vaeTrain,
		Sample: vaeSample,
		Eval:   vaeEval,
	})
	registerDemo(demoStep{Order: 40, Name: "vae: VAE on shapes", Run: demoVAE})
}

func vaeTrain(env *Env, model string, args []string) error {
	fs := newFlags("train " + model)
	data := fs.String("data", "", "training data SPEC")
	test := fs.String("test", "", "test data SPEC scored after every epoch")
	latent := fs.Int("latent", 20, "latent dimension")
	hidden := fs.String("hidden", "", "hidden sizes, comma-separated (default 400; 16 for convvae)")
	act := fs.String("activation", "relu", "hidden nonlinearity")
	decoder := fs.String("decoder", "bernoulli", "bernoulli or gaussian")
	sigma2 := fs.Float64("sigma2", 0, "Gaussian decoder variance (0: learned)")
	beta := fs.Float64("beta", 1, "KL weight")
	iwk := fs.Int("iw-k", 1, "importance samples in the training objective (IWAE for k > 1)")
	initName := fs.String("init", "lecun-uniform", "weight initialisation: lecun-uniform, glorot or he")
	batch := fs.Int("batch", 128, "mini-batch size")
	lr := fs.Float64("lr", 1e-3, "learning rate")
	opt := fs.String("optimizer", "adam", "adam or sgd")
	schedule := fs.String("schedule", "constant", "learning-rate schedule: constant, or burda (3^i epochs at lr·10^(-i/7), i = 0..7: 3280 epochs)")
	adamEps := fs.Float64("adam-eps", 1e-8, "Adam's epsilon (Burda et al. use 1e-4)")
	momentum := fs.Float64("momentum", 0, "SGD momentum")
	epochs := fs.Int("epochs", 10, "total epochs (including those of a resumed run)")
	seed := fs.Uint64("seed", 1, "random seed")
	binarize := fs.String("binarize", "", "threshold, stochastic or dynamic")
	out := fs.String("out", "", "model file to write (after every epoch)")
	resume := fs.String("resume", "", "model file to continue training from")
	pictures := fs.String("pictures", "", "folder for sample and reconstruction PNGs")
	jsonOut := fs.Bool("json", false, "print one JSON object with the results")
	if err := parseOnlyFlags(fs, args, "train "+model); err != nil {
		return err
	}
	if err := checkOutFile("--out", *out); err != nil {
		return err
	}
	if err := checkRate("--lr", *lr); err != nil {
		return err
	}
	switch {
	case *latent < 1 || *latent > maxWidth:
		return usagef("--latent: must be in [1, %d], got %d", maxWidth, *latent)
	case *batch < 1:
		return usagef("--batch: must be >= 1, got %d", *batch)
	case *epochs < 1:
		return usagef("--epochs: must be >= 1, got %d", *epochs)
	case *iwk < 1:
		return usagef("--iw-k: must be >= 1, got %d", *iwk)
	case !(*beta > 0):
		return usagef("--beta: must be > 0, got %g", *beta)
	case *schedule != "constant" && *schedule != "burda":
		return usagef("--schedule: must be constant or burda, got %q", *schedule)
	case !(*adamEps > 0) || math.IsInf(*adamEps, 0):
		return usagef("--adam-eps: must be > 0, got %g", *adamEps)
	case *sigma2 < 0:
		return usagef("--sigma2: must be > 0 (or 0 for learned), got %g", *sigma2)
	}
	var hid []int
	if *hidden != "" {
		var err error
		if hid, err = parseHidden(*hidden); err != nil {
			return err
		}
	}
	d, err := openData(env, *data, *binarize, *seed)
	if err != nil {
		return err
	}
	var td *dataset.Dataset
	if *test != "" {
		bin := *binarize
		if bin == "dynamic" { // score against one fixed draw
			bin = "stochastic"
		}
		if td, err = openData(env, *test, bin, *seed+1); err != nil {
			return err
		}
	}
	if *binarize == "dynamic" {
		if err := dataset.CheckUnit(d); err != nil {
			return fmt.Errorf("--binarize dynamic: %w", err)
		}
	}
	var tr *vae.Trainer
	if *resume != "" {
		f, err := checkpoint.Load(*resume)
		if err != nil {
			return err
		}
		if tr, _, err = vae.LoadTrainer(f); err != nil {
			return fmt.Errorf("--resume %s: %w", *resume, err)
		}
		if tr.Model.Config.Kind != model {
			return usagef("--resume: %s holds a %s model, not %s", *resume, tr.Model.Config.Kind, model)
		}
		mc, tc := tr.Model.Config, tr.Config
		// Only dynamic binarisation is a training setting; threshold and
		// stochastic prepare the data, which the run may be given anew.
		dyn := func(b string) string {
			if b == "dynamic" {
				return "dynamic"
			}
			return "not dynamic"
		}
		if err := checkResumed(fs, *resume,
			saved{flag: "latent", value: strconv.Itoa(mc.Latent)},
			saved{flag: "hidden", value: intsFlag(mc.Hidden), given: intsFlag(hid)},
			saved{flag: "activation", value: mc.Activation},
			saved{flag: "decoder", value: mc.Decoder},
			saved{flag: "sigma2", value: floatFlag(mc.Sigma2)},
			saved{flag: "beta", value: floatFlag(mc.Beta)},
			saved{flag: "iw-k", value: strconv.Itoa(mc.IWK)},
			saved{flag: "init", value: mc.Init},
			saved{flag: "batch", value: strconv.Itoa(tc.BatchSize)},
			saved{flag: "lr", value: floatFlag(tc.LR)},
			saved{flag: "optimizer", value: tc.Optimizer},
			saved{flag: "schedule", value: tc.Schedule},
			saved{flag: "adam-eps", value: floatFlag(tc.AdamEps)},
			saved{flag: "momentum", value: floatFlag(tc.Momentum)},
			saved{flag: "seed", value: strconv.FormatUint(tc.Seed, 10)},
			saved{flag: "binarize", value: dyn(tc.Binarize), given: dyn(*binarize)}); err != nil {
			return err
		}
	} else {
		cfg := vae.Config{Kind: model, Latent: *latent, Hidden: hid, Activation: *act, Decoder: *decoder,
			Sigma2: *sigma2, Beta: *beta, IWK: *iwk, Init: *initName}
		if d.Height > 0 && d.Width > 0 && d.Height*d.Width*max(d.Channels, 1) == d.Dim() {
			cfg.Height, cfg.Width, cfg.Channels = d.Height, d.Width, max(d.Channels, 1)
		} else if model == vae.KindConvVAE {
			return fmt.Errorf("--data %s: convvae needs image data; rows have %d values and no image shape", *data, d.Dim())
		}
		if model == vae.KindCVAE {
			if d.Labels == nil {
				return fmt.Errorf("--data %s: cvae needs labels, and this data set has none", *data)
			}
			cfg.CondDim = d.NumClasses
		}
		bz := ""
		if *binarize == "dynamic" {
			bz = "dynamic"
		}
		tc := vae.TrainConfig{Epochs: *epochs, BatchSize: *batch, LR: *lr, Optimizer: *opt, Momentum: *momentum, Seed: *seed, Binarize: bz,
			Schedule: *schedule, AdamEps: *adamEps}
		if tr, err = vae.NewTrainer(cfg, d.Dim(), tc); err != nil {
			return err
		}
	}
	tr.Config.Epochs = *epochs
	if err := tr.Model.CheckData(d); err != nil {
		return err
	}
	if td != nil {
		if err := tr.Model.CheckData(td); err != nil {
			return fmt.Errorf("--test: %w", err)
		}
	}
	if *pictures != "" {
		if err := os.MkdirAll(*pictures, 0o755); err != nil {
			return fmt.Errorf("--pictures: %w", err)
		}
	}
	start := time.Now()
	var last vae.EpochStats
	var testEval vae.Eval
	evalRng := rng.NewStream(*seed, 2)
	ran := 0
	var epochSecs []float64
	for tr.Epoch < *epochs {
		es, err := tr.TrainEpoch(d)
		if err != nil {
			return err
		}
		last, ran = es, ran+1
		epochSecs = append(epochSecs, es.Seconds)
		line := fmt.Sprintf("epoch %d/%d: loss %.3f (recon %.3f, kl %.3f)", es.Epoch, *epochs, es.Loss, es.Recon, es.KL)
		if tr.Config.Schedule == "burda" {
			line += fmt.Sprintf(" lr %.3g", tr.Config.LearningRate(es.Epoch-1))
		}
		if td != nil {
			if testEval, err = tr.Model.Evaluate(td, 0, evalRng); err != nil {
				return err
			}
			line += fmt.Sprintf("  test elbo %.3f", testEval.ELBO)
		}
		progress(env, "%s  %.2fs", line, es.Seconds)
		f, err := tr.Checkpoint(*data)
		if err != nil {
			return err
		}
		if err := checkpoint.Save(*out, f); err != nil {
			return err
		}
		if *pictures != "" {
			if err := vaePictures(*pictures, tr.Model, d, td, tr.Epoch == *epochs, *seed); err != nil {
				return err
			}
		}
	}
	secs := time.Since(start).Seconds()
	if !*jsonOut {
		return nil
	}
	res := map[string]any{"model": model, "data": *data, "epochs": tr.Epoch, "epochs_run": ran,
		"seconds": secs, "seconds_per_epoch": secs / float64(max(ran, 1)),
		"train_seconds_per_epoch": mean(epochSecs), "best_epoch_seconds": minOf(epochSecs),
		"loss": jsonFloat(last.Loss), "recon": jsonFloat(last.Recon), "kl": jsonFloat(last.KL), "out": *out}
	if tr.Model.Variational() && tr.Model.Config.Beta == 1 && tr.Model.Config.IWK == 1 {
		res["elbo"] = jsonFloat(-last.Loss)
	}
	if td != nil {
		res["test"] = *test
		res["test_elbo"] = jsonFloat(testEval.ELBO)
	}
	return printJSON(env, res)
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(max(len(v), 1))
}

func minOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}

// imageOf returns the image shape stored with the model.
func imageOf(m *vae.Model) (h, w, c int, ok bool) {
	cfg := m.Config
	if cfg.Height > 0 && cfg.Width > 0 && cfg.Height*cfg.Width*max(cfg.Channels, 1) == m.Dim {
		return cfg.Height, cfg.Width, max(cfg.Channels, 1), true
	}
	return 0, 0, 0, false
}

// condRows returns one-hot rows of labels i % classes (or all = label when label >= 0).
func condRows(m *vae.Model, n, label int) *tensor.Mat {
	if m.Config.Kind != vae.KindCVAE {
		return nil
	}
	labels := make([]int, n)
	idx := make([]int, n)
	for i := range labels {
		idx[i] = i
		labels[i] = i % m.Config.CondDim
		if label >= 0 {
			labels[i] = label
		}
	}
	return vae.OneHot(nil, labels, idx, m.Config.CondDim)
}

// vaePictures writes samples and reconstructions (every epoch) and, at the end,
// latent traversals and, for a 2-D latent, the manifold and the test-code scatter.
func vaePictures(dir string, m *vae.Model, d, td *dataset.Dataset, final bool, seed uint64) error {
	h, w, c, ok := imageOf(m)
	if !ok {
		return nil
	}
	g := viz.Grid{Height: h, Width: w, Channels: c, Cols: 10}
	s := rng.NewStream(seed, 3)
	if m.Variational() {
		if err := g.Save(filepath.Join(dir, "samples.png"), m.Sample(nil, 100, condRows(m, 100, -1), s)); err != nil {
			return err
		}
	}
	src := d
	if td != nil {
		src = td
	}
	n := min(50, src.Len())
	x := src.X.Slice(0, n)
	var y *tensor.Mat
	if m.Config.Kind == vae.KindCVAE {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		y = vae.OneHot(nil, src.Labels, idx, m.Config.CondDim)
	}
	rec := m.Reconstruct(nil, x, y)
	both := tensor.New(2*n, m.Dim) // originals above their reconstructions, 10 per row
	for i := 0; i < n; i++ {
		r := (i/10)*20 + i%10
		copy(both.Row(r), x.Row(i))
		copy(both.Row(r+10), rec.Row(i))
	}
	if err := g.Save(filepath.Join(dir, "reconstructions.png"), both); err != nil {
		return err
	}
	if !final {
		return nil
	}
	return latentPictures(dir, "", m, src, seed)
}

// latentPictures writes traversals, and for a 2-D latent the manifold grid and a
// scatter of the codes μ(x) of up to 5000 examples of d coloured by label.
func latentPictures(dir, prefix string, m *vae.Model, d *dataset.Dataset, seed uint64) error {
	h, w, c, ok := imageOf(m)
	if !ok {
		return nil
	}
	y1 := condRows(m, 1, 0)
	const steps = 11
	tv := m.Traversals(nil, steps, 3, y1)
	if err := (viz.Grid{Height: h, Width: w, Channels: c, Cols: steps}).Save(filepath.Join(dir, prefix+"traversals.png"), tv); err != nil {
		return err
	}
	if m.Config.Latent != 2 {
		return nil
	}
	const n = 20
	if err := (viz.Grid{Height: h, Width: w, Channels: c, Cols: n}).Save(filepath.Join(dir, prefix+"manifold.png"), m.Manifold(n, y1)); err != nil {
		return err
	}
	k := min(5000, d.Len())
	x := d.X.Slice(0, k)
	var y *tensor.Mat
	if m.Config.Kind == vae.KindCVAE {
		idx := make([]int, k)
		for i := range idx {
			idx[i] = i
		}
		y = vae.OneHot(nil, d.Labels, idx, m.Config.CondDim)
	}
	mu, _ := m.Encode(nil, nil, x, y)
	xs, ys := make([]float64, k), make([]float64, k)
	for i := 0; i < k; i++ {
		xs[i], ys[i] = float64(mu.At(i, 0)), float64(mu.At(i, 1))
	}
	var labels []int
	if d.Labels != nil {
		labels = d.Labels[:k]
	}
	return viz.SaveScatter(filepath.Join(dir, prefix+"latent-scatter.png"), "codes mu(x) by label", xs, ys, labels)
}

func loadVAE(path string) (*vae.Trainer, string, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, "", err
	}
	tr, data, err := vae.LoadTrainer(f)
	if err != nil {
		return nil, "", fmt.Errorf("--model %s: %w", path, err)
	}
	return tr, data, nil
}

func vaeSample(env *Env, kind string, args []string) error {
	fs := newFlags("sample")
	a := sampleFlags(fs)
	label := fs.Int("label", -1, "class to condition on (cvae; default: cycle through the classes)")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	tr, _, err := loadVAE(a.Model)
	if err != nil {
		return err
	}
	m := tr.Model
	if !m.Variational() {
		return fmt.Errorf("sample: %s is a plain autoencoder, which has no prior to sample from", a.Model)
	}
	if *label >= 0 && m.Config.Kind != vae.KindCVAE {
		return usagef("--label: only a cvae takes a label; %s is a %s", a.Model, m.Config.Kind)
	}
	if m.Config.Kind == vae.KindCVAE && *label >= m.Config.CondDim {
		return usagef("--label: must be in [0, %d), got %d", m.Config.CondDim, *label)
	}
	x := m.Sample(nil, a.N, condRows(m, a.N, *label), rng.New(a.Seed))
	h, w, c, ok := imageOf(m)
	if !ok && strings.EqualFold(filepath.Ext(a.Out), ".png") {
		return fmt.Errorf("sample: --out %s: the model's data had no image shape; write .npy", a.Out)
	}
	return writeSamples(a.Out, x, nil, h, w, c)
}

func vaeEval(env *Env, kind string, args []string) error {
	fs := newFlags("eval")
	a := evalFlags(fs)
	k := fs.Int("iw-k", 5000, "importance samples for the log-likelihood estimate (per class with --classify)")
	classify := fs.Bool("classify", false, "cvae: also classify every example by Bayes' rule and report accuracy")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if *k < 1 {
		return usagef("--iw-k: must be >= 1, got %d", *k)
	}
	if *classify && kind != vae.KindCVAE {
		return usagef("--classify: only a cvae can classify (it models p(x|y)); %s holds a %s", a.Model, kind)
	}
	tr, _, err := loadVAE(a.Model)
	if err != nil {
		return err
	}
	if a.Binarize == "" && tr.Config.Binarize == "dynamic" {
		// Score what the model was trained on: binary data, here one fixed draw.
		a.Binarize = "stochastic"
		progress(env, "the model was trained with --binarize dynamic: scoring one fixed Bernoulli draw of %s (--binarize stochastic)", a.Data)
	}
	d, err := openData(env, a.Data, a.Binarize, a.Seed)
	if err != nil {
		return err
	}
	if *classify && d.Labels == nil {
		return fmt.Errorf("--classify: --data %s has no labels to compare the predicted classes with", a.Data)
	}
	if a.Limit > 0 && a.Limit < d.Len() {
		d.X = d.X.Slice(0, a.Limit)
		if d.Labels != nil {
			d.Labels = d.Labels[:a.Limit]
		}
	}
	start := time.Now()
	ev, err := tr.Model.Evaluate(d, *k, rng.NewStream(a.Seed, 4))
	if err != nil {
		return err
	}
	var cl vae.ClassEval
	if *classify {
		if cl, err = tr.Model.EvaluateClassifier(d, *k, rng.NewStream(a.Seed, 5)); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	res := map[string]any{"model": kind, "data": a.Data, "n": ev.N, "seconds": secs}
	if a.Binarize != "" {
		res["binarize"] = a.Binarize
	}
	if *classify {
		res["accuracy"] = jsonFloat(cl.Accuracy)
		res["mean_log_p_label"] = jsonFloat(cl.MeanLogPLabel)
		res["marginal_log_likelihood"] = jsonFloat(cl.MarginalLogLik)
		res["class_prior"] = cl.Prior
		res["classify_estimator"] = fmt.Sprintf("bayes rule over iwae-k%d estimates of log p(x|y)", *k)
	}
	if tr.Model.Variational() {
		res["elbo"] = jsonFloat(ev.ELBO)
		res["log_likelihood"] = jsonFloat(ev.LogLik)
		res["estimator"] = fmt.Sprintf("iwae-k%d", *k)
	} else {
		res["log_likelihood"] = nil
		res["estimator"] = "none: an autoencoder defines no density"
		res["recon_log_lik"] = jsonFloat(ev.ELBO)
	}
	if a.JSON {
		return printJSON(env, res)
	}
	if tr.Model.Variational() {
		px := "p(x)"
		if kind == vae.KindCVAE {
			px = "p(x|y)"
		}
		fmt.Fprintf(env.Stdout, "%s on %s (n=%d): log %s ≈ %.3f nats (IWAE, k=%d), ELBO %.3f, %.1fs\n",
			kind, a.Data, ev.N, px, ev.LogLik, *k, ev.ELBO, secs)
		if *classify {
			fmt.Fprintf(env.Stdout, "classification by Bayes' rule (prior: %s): accuracy %.4f, mean log p(label|x) %.4f nats, log p(x) = log Σ_y p(x|y)p(y) ≈ %.3f nats\n",
				cl.Prior, cl.Accuracy, cl.MeanLogPLabel, cl.MarginalLogLik)
		}
	} else {
		fmt.Fprintf(env.Stdout, "ae on %s (n=%d): reconstruction log-likelihood %.3f nats, %.1fs\n", a.Data, ev.N, ev.ELBO, secs)
	}
	return nil
}

// demoVAE trains a VAE with a 6-D latent space on the shapes data for a few epochs
// and draws its samples and latent traversals.
func demoVAE(env *Env, out string, seed uint64) error {
	d, err := demoLoad(env, "shapes,n=6000,size=24", seed)
	if err != nil {
		return err
	}
	tr, err := vae.NewTrainer(vae.Config{Latent: 6, Hidden: []int{256}, Height: d.Height, Width: d.Width, Channels: 1},
		d.Dim(), vae.TrainConfig{Epochs: 10, BatchSize: 64, LR: 2e-3, Seed: seed})
	if err != nil {
		return err
	}
	for e := 0; e < tr.Config.Epochs; e++ {
		es, err := tr.TrainEpoch(d)
		if err != nil {
			return err
		}
		progress(env, "demo: vae epoch %d: -ELBO %.2f nats (recon %.2f, kl %.2f)", es.Epoch, es.Loss, es.Recon, es.KL)
	}
	m := tr.Model
	g := viz.Grid{Height: d.Height, Width: d.Width, Channels: 1, Cols: 10}
	if err := g.Save(filepath.Join(out, "vae-shapes-samples.png"), m.Sample(nil, 100, nil, rng.NewStream(seed, 3))); err != nil {
		return err
	}
	if err := latentPictures(out, "vae-shapes-", m, d, seed); err != nil {
		return err
	}
	f, err := tr.Checkpoint("shapes,n=6000,size=24")
	if err != nil {
		return err
	}
	return checkpoint.Save(filepath.Join(out, "vae-shapes.model"), f)
}
