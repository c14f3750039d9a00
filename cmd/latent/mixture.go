package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/mixture"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

func init() {
	register(&modelCmd{
		Names: []string{"gmm", "bmm"},
		Usage: "gmm        Gaussian mixture by EM: --components K [--covariance full|diag|spherical|tied] [--reg 1e-6] [--tol 1e-3] [--epochs MAXITER] [--n-init N] [--pca D] [--fast] [--plot F.png]\n" +
			"bmm        Bernoulli mixture by EM (Beta prior): --components K [--prior-a 2 --prior-b 2] [--tol 1e-3] [--epochs MAXITER] [--n-init N] [--fast] [--plot F.png]\n" +
			"           gmm, bmm: --binarize threshold|stochastic (EM and eval use fixed data, so dynamic is refused); eval binarises as in training unless --binarize is given",
		Train:  trainMixture,
		Sample: sampleMixture,
		Eval:   evalMixture,
	})
	registerDemo(demoStep{Order: 60, Name: "gmm on three 2-D blobs", Run: demoGMM})
}

// mixtureExtra is what the CLI stores besides the parameters.
type mixtureExtra struct {
	Data     string `json:"data"`
	Binarize string `json:"binarize,omitempty"`
	Height   int    `json:"height,omitempty"`
	Width    int    `json:"width,omitempty"`
	Channels int    `json:"channels,omitempty"`
}

func trainMixture(env *Env, model string, args []string) error {
	fs := newFlags("train " + model)
	data := fs.String("data", "", "data spec")
	binarize := fs.String("binarize", "", "threshold|stochastic")
	k := fs.Int("components", 0, "number of components K")
	cov := fs.String("covariance", "full", "full|diag|spherical|tied (gmm)")
	reg := fs.Float64("reg", mixture.DefaultRegCovar, "added to covariance diagonals (gmm)")
	pa := fs.Float64("prior-a", 2, "Beta prior a (bmm)")
	pb := fs.Float64("prior-b", 2, "Beta prior b (bmm)")
	tol := fs.Float64("tol", 1e-3, "stop when |ΔF| per example < tol")
	epochs := fs.Int("epochs", 100, "most EM iterations")
	nInit := fs.Int("n-init", 1, "restarts, keeping the best")
	initIters := fs.Int("init-iters", -1, "Lloyd iterations after k-means++ seeding (-1: 10 for gmm, 0 for bmm)")
	pcaDims := fs.Int("pca", 0, "project the data to D principal components first (gmm)")
	fast := fs.Bool("fast", false, "float32 GEMM for the O(n·d·K) products (sums still float64)")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "model file to write")
	resume := fs.String("resume", "", "start EM from the parameters in this model file")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	plot := fs.String("plot", "", "PNG plot of the free energy per iteration")
	if err := parseOnlyFlags(fs, args, "train "+model); err != nil {
		return err
	}
	if err := checkOutFile("--out", *out); err != nil {
		return err
	}
	if *k < 1 {
		return usagef("--components: must be >= 1, got %d", *k)
	}
	if *epochs < 1 {
		return usagef("--epochs: must be >= 1, got %d", *epochs)
	}
	if *nInit < 1 {
		return usagef("--n-init: must be >= 1, got %d", *nInit)
	}
	if !(*tol >= 0) {
		return usagef("--tol: must be >= 0, got %v", *tol)
	}
	if !(*reg >= 0) {
		return usagef("--reg: must be >= 0, got %v", *reg)
	}
	if *pcaDims < 0 || (*pcaDims > 0 && model != "gmm") {
		return usagef("--pca: must be >= 1 and only for gmm, got %d", *pcaDims)
	}
	ct, err := mixture.ParseCovariance(*cov)
	if err != nil {
		return usagef("--covariance: must be full, diag, spherical or tied, got %q", *cov)
	}
	if model == "bmm" && (!(*pa >= 1) || !(*pb >= 1)) {
		return usagef("--prior-a, --prior-b: must be >= 1, got %v, %v", *pa, *pb)
	}
	if *binarize == "dynamic" {
		return usagef("--binarize: dynamic binarisation needs mini-batches; EM uses all the data: use threshold or stochastic")
	}
	if *plot != "" {
		if !strings.EqualFold(filepath.Ext(*plot), ".png") {
			return usagef("--plot: must end in .png, got %q", *plot)
		}
		if err := checkOutFile("--plot", *plot); err != nil {
			return err
		}
	}
	d, err := openData(env, *data, *binarize, *seed)
	if err != nil {
		return err
	}
	if *k > d.Len() {
		return usagef("--components: %d is more than the %d examples in %s", *k, d.Len(), *data)
	}
	emTol := *tol
	if emTol == 0 {
		emTol = -1 // never stop early
	}
	t0 := time.Now()
	em := mixture.EMConfig{MaxIter: *epochs, Tol: emTol, OnStep: func(s mixture.Step) {
		if s.Phase == "M" {
			progress(env, "%s iteration %d: F = %.6f nats/example (after M), %.1fs", model, s.Iter, s.F, time.Since(t0).Seconds())
		}
	}}
	extra := mixtureExtra{Data: *data, Binarize: *binarize, Height: d.Height, Width: d.Width, Channels: d.Channels}
	x := d.X
	start := time.Now()
	var res mixture.Result
	var f checkpoint.File
	var ll, bic, aic float64
	var extraJSON map[string]any
	switch model {
	case "gmm":
		var pca *mixture.PCA
		var init *mixture.GaussianMixture
		if *resume != "" {
			rf, err := checkpoint.LoadKind(*resume, mixture.KindGaussian)
			if err != nil {
				return err
			}
			if init, pca, err = mixture.LoadGaussian(rf); err != nil {
				return fmt.Errorf("--resume %s: %w", *resume, err)
			}
			ct = init.Covariance
			if *k != init.K {
				return usagef("--components: %d, but --resume model has %d", *k, init.K)
			}
		} else if *pcaDims > 0 {
			if *pcaDims > x.Cols {
				return usagef("--pca: %d is more than the %d data dimensions", *pcaDims, x.Cols)
			}
			t0 := time.Now()
			if pca, err = mixture.FitPCA(x, *pcaDims); err != nil {
				return err
			}
			progress(env, "pca: %d → %d dimensions in %.1fs", x.Cols, *pcaDims, time.Since(t0).Seconds())
		}
		if pca != nil {
			if x.Cols != pca.D {
				return fmt.Errorf("--data: %d columns, model's PCA expects %d", x.Cols, pca.D)
			}
			x = pca.Transform(x)
		}
		its := *initIters
		if its < 0 {
			its = 0 // GaussianConfig: 0 means 10
		} else if its == 0 {
			its = -1
		}
		g, r, err := mixture.FitGaussian(x, mixture.GaussianConfig{Components: *k, Covariance: ct, RegCovar: *reg,
			EM: em, NInit: *nInit, InitIters: its, Seed: *seed, Init: init, FastMath: *fast})
		if err != nil {
			return err
		}
		res = r
		if err := mixture.SaveGaussian(&f, g, pca, extra); err != nil {
			return err
		}
		ll, bic, aic = res.LogLikelihood, g.BIC(x), g.AIC(x)
		extraJSON = map[string]any{"covariance": ct.String(), "reg": *reg, "pca": *pcaDims}
	case "bmm":
		var init *mixture.BernoulliMixture
		if *resume != "" {
			rf, err := checkpoint.LoadKind(*resume, mixture.KindBernoulli)
			if err != nil {
				return err
			}
			if init, err = mixture.LoadBernoulli(rf); err != nil {
				return fmt.Errorf("--resume %s: %w", *resume, err)
			}
		}
		m, r, err := mixture.FitBernoulli(x, mixture.BernoulliConfig{Components: *k, PriorA: *pa, PriorB: *pb,
			EM: em, NInit: *nInit, InitIters: max(*initIters, 0), Seed: *seed, Init: init, FastMath: *fast})
		if err != nil {
			return err
		}
		res = r
		if err := mixture.SaveBernoulli(&f, m, extra); err != nil {
			return err
		}
		ll, bic, aic = res.LogLikelihood, m.BIC(x), m.AIC(x)
		extraJSON = map[string]any{"prior_a": *pa, "prior_b": *pb}
	}
	secs := time.Since(start).Seconds()
	if err := checkpoint.Save(*out, &f); err != nil {
		return err
	}
	progress(env, "%s: K=%d, %d iterations (converged %v), F = %.6f, log-likelihood %.6f nats/example, %.1fs",
		model, *k, res.Iterations, res.Converged, res.FreeEnergy, ll, secs)
	if *plot != "" {
		if err := plotFreeEnergy(*plot, model, res); err != nil {
			return err
		}
	}
	if !*asJSON {
		return nil
	}
	hist := make([]map[string]any, len(res.History))
	for i, h := range res.History {
		hist[i] = map[string]any{"iter": h.Iter, "phase": h.Phase, "f": jsonFloat(h.F)}
	}
	obj := map[string]any{"model": model, "data": *data, "n": x.Rows, "dim": x.Cols, "components": *k,
		"epochs": res.Iterations, "iterations": res.Iterations, "converged": res.Converged,
		"seconds": secs, "seconds_per_epoch": secs / float64(max(res.Iterations, 1)),
		"log_likelihood": jsonFloat(ll), "free_energy": jsonFloat(res.FreeEnergy), "bic": jsonFloat(bic), "aic": jsonFloat(aic),
		"free_energy_trace": hist, "restart_free_energies": res.InitF, "fast": *fast, "out": *out}
	for key, v := range extraJSON {
		obj[key] = v
	}
	return printJSON(env, obj)
}

// plotFreeEnergy draws F after every E- and M-step against the iteration (M-steps
// at iteration + 0.5).
func plotFreeEnergy(path, model string, res mixture.Result) error {
	var e, m viz.Series
	e.Name, m.Name = "after E-step (KL = 0)", "after M-step (old Q, new G)"
	for _, h := range res.History {
		if h.Phase == "E" {
			e.X = append(e.X, float64(h.Iter))
			e.Y = append(e.Y, h.F)
		} else {
			m.X = append(m.X, float64(h.Iter)+0.5)
			m.Y = append(m.Y, h.F)
		}
	}
	return viz.SaveLinePlot(path, model+": free energy per EM iteration", "iteration", "F (nats/example)", e, m)
}

// loadedMixture is a gmm or bmm model file.
type loadedMixture struct {
	model     mixture.Model
	numParams int
	dim       int
	pca       *mixture.PCA // nil when the data are modelled as they are
	extra     mixtureExtra
}

func loadMixture(path, kind string) (*loadedMixture, error) {
	f, err := checkpoint.LoadKind(path, kind)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Extra mixtureExtra `json:"extra"`
	}
	f.GetMeta(&meta)
	lm := &loadedMixture{extra: meta.Extra}
	if kind == mixture.KindGaussian {
		g, p, err := mixture.LoadGaussian(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		lm.model, lm.numParams, lm.dim, lm.pca = g, g.NumParams(), g.D, p
		return lm, nil
	}
	m, err := mixture.LoadBernoulli(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	lm.model, lm.numParams, lm.dim = m, m.NumParams(), m.D
	return lm, nil
}

func evalMixture(env *Env, kind string, args []string) error {
	fs := newFlags("eval")
	a := evalFlags(fs)
	fs.Int("iw-k", 0, "ignored: mixture log-likelihoods are exact")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	lm, err := loadMixture(a.Model, kind)
	if err != nil {
		return err
	}
	if a.Binarize == "" && lm.extra.Binarize != "dynamic" {
		a.Binarize = lm.extra.Binarize
	}
	d, err := openData(env, a.Data, a.Binarize, a.Seed)
	if err != nil {
		return err
	}
	start := time.Now()
	x := d.X
	if a.Limit > 0 && a.Limit < x.Rows {
		x = x.Slice(0, a.Limit)
	}
	if err := finiteRows(x); err != nil {
		return fmt.Errorf("eval: --data %s: %w", a.Data, err)
	}
	if lm.pca != nil {
		if x.Cols != lm.pca.D {
			return fmt.Errorf("eval: --data %s has %d columns, the model's PCA expects %d", a.Data, x.Cols, lm.pca.D)
		}
		x = lm.pca.Transform(x)
	}
	if x.Cols != lm.dim {
		return fmt.Errorf("eval: --data %s has %d columns, the model has %d", a.Data, x.Cols, lm.dim)
	}
	if kind == mixture.KindBernoulli {
		for _, v := range x.Data {
			if v < 0 || v > 1 {
				return fmt.Errorf("eval: --data %s: a Bernoulli mixture needs values in [0, 1], found %v", a.Data, v)
			}
		}
	}
	ll := mixture.Score(lm.model, x)
	bic, aic := mixture.BIC(lm.model, lm.numParams, x), mixture.AIC(lm.model, lm.numParams, x)
	secs := time.Since(start).Seconds()
	progress(env, "%s on %s: log-likelihood %.4f nats/example (exact), BIC %.1f, AIC %.1f", kind, a.Data, ll, bic, aic)
	if !a.JSON {
		fmt.Fprintf(env.Stdout, "log_likelihood %.6f\n", ll)
		return nil
	}
	obj := map[string]any{"model": kind, "data": a.Data, "n": x.Rows, "log_likelihood": jsonFloat(ll),
		"estimator": "exact", "bic": jsonFloat(bic), "aic": jsonFloat(aic), "seconds": secs}
	if lm.pca != nil {
		// The density is over the projected data, not the original columns.
		obj["estimator"] = fmt.Sprintf("exact, of the %d-dimensional PCA projection", lm.pca.Dims)
		obj["pca"] = lm.pca.Dims
	}
	return printJSON(env, obj)
}

func finiteRows(x *tensor.Mat) error {
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("row %d column %d is %v", i, j, v)
			}
		}
	}
	return nil
}

func sampleMixture(env *Env, kind string, args []string) error {
	fs := newFlags("sample")
	a := sampleFlags(fs)
	if err := a.parse(fs, args); err != nil {
		return err
	}
	lm, err := loadMixture(a.Model, kind)
	if err != nil {
		return err
	}
	s := rng.New(a.Seed)
	var x *tensor.Mat
	var labels []int
	switch g := lm.model.(type) {
	case *mixture.GaussianMixture:
		x, labels = g.Sample(a.N, s)
		if lm.pca != nil {
			x = lm.pca.Inverse(x)
		}
	case *mixture.BernoulliMixture:
		x, labels = g.Sample(a.N, s)
	}
	e := lm.extra
	return writeSamples(a.Out, x, labels, e.Height, e.Width, e.Channels)
}

// demoGMM fits a 3-component full-covariance GMM to three generated 2-D Gaussian
// blobs and writes the free-energy trace and the points coloured by component.
func demoGMM(env *Env, outDir string, seed uint64) error {
	s := rng.NewStream(seed, 60)
	centres := [][2]float64{{-3, 0}, {2, 2}, {1.5, -2.5}}
	chol := [][3]float64{{1.2, 0.6, 0.5}, {0.8, -0.4, 1.0}, {1.5, 0, 0.4}} // L = [[a 0] [b c]]
	const per = 400
	x := tensor.New(3*per, 2)
	truth := make([]int, x.Rows)
	for i := 0; i < x.Rows; i++ {
		c := i / per
		z0, z1 := s.NormFloat64(), s.NormFloat64()
		l := chol[c]
		x.Set(i, 0, float32(centres[c][0]+l[0]*z0))
		x.Set(i, 1, float32(centres[c][1]+l[1]*z0+l[2]*z1))
		truth[i] = c
	}
	g, res, err := mixture.FitGaussian(x, mixture.GaussianConfig{Components: 3, RegCovar: mixture.DefaultRegCovar,
		NInit: 1, InitIters: -1, Seed: seed, EM: mixture.EMConfig{MaxIter: 200, Tol: 1e-6}})
	if err != nil {
		return err
	}
	if err := plotFreeEnergy(filepath.Join(outDir, "gmm-blobs-free-energy.png"), "gmm", res); err != nil {
		return err
	}
	pred := g.Predict(x)
	xs := make([]float64, x.Rows)
	ys := make([]float64, x.Rows)
	for i := range xs {
		xs[i], ys[i] = float64(x.At(i, 0)), float64(x.At(i, 1))
	}
	if err := viz.SaveScatter(filepath.Join(outDir, "gmm-blobs-components.png"), "GMM (K=3, full): predicted component", xs, ys, pred); err != nil {
		return err
	}
	var f checkpoint.File
	if err := mixture.SaveGaussian(&f, g, nil, mixtureExtra{Data: "demo: three 2-D blobs"}); err != nil {
		return err
	}
	if err := checkpoint.Save(filepath.Join(outDir, "gmm-blobs.model"), &f); err != nil {
		return err
	}
	progress(env, "gmm: %d EM iterations (converged %v), log-likelihood %.4f nats/point, BIC %.1f",
		res.Iterations, res.Converged, res.LogLikelihood, g.BIC(x))
	return nil
}
