package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/helmholtz"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func init() {
	register(&modelCmd{
		Names: []string{"helmholtz"},
		Usage: "helmholtz  Helmholtz machine by (reweighted) wake-sleep: --hidden 200,200 [--rws-k K (1: plain wake-sleep)] [--q-wake] [--q-sleep] [--batch 100] [--lr 1e-3] [--binarize threshold|stochastic|dynamic] [--resume F]\n" +
			"           needs binary data or --binarize; eval binarises as in training (dynamic: one fixed stochastic draw from --seed)",
		Train:  trainHelmholtz,
		Sample: sampleHelmholtz,
		Eval:   evalHelmholtz,
	})
}

type helmholtzExtra struct {
	Data     string `json:"data"`
	Binarize string `json:"binarize,omitempty"`
	Height   int    `json:"height,omitempty"`
	Width    int    `json:"width,omitempty"`
	Channels int    `json:"channels,omitempty"`
}

func trainHelmholtz(env *Env, model string, args []string) error {
	fs := newFlags("train helmholtz")
	data := fs.String("data", "", "data spec")
	binarize := fs.String("binarize", "", "threshold|stochastic|dynamic")
	hidden := fs.String("hidden", "200,200", "hidden layer sizes, bottom to top")
	k := fs.Int("rws-k", 1, "samples per example (1: wake-sleep; >1: reweighted wake-sleep)")
	qWake := fs.Bool("q-wake", false, "wake-phase q update (default on when --rws-k > 1)")
	qSleep := fs.Bool("q-sleep", true, "sleep-phase q update")
	batch := fs.Int("batch", 100, "examples per step")
	lr := fs.Float64("lr", 1e-3, "Adam learning rate")
	epochs := fs.Int("epochs", 10, "epochs (total, counting those of --resume)")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "model file to write (after every epoch, atomically)")
	resume := fs.String("resume", "", "continue training from this model file")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	if err := parseOnlyFlags(fs, args, "train helmholtz"); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := checkOutFile("--out", *out); err != nil {
		return err
	}
	if *k < 1 {
		return usagef("--rws-k: must be >= 1, got %d", *k)
	}
	if *batch < 1 {
		return usagef("--batch: must be >= 1, got %d", *batch)
	}
	if err := checkRate("--lr", *lr); err != nil {
		return err
	}
	if *epochs < 1 {
		return usagef("--epochs: must be >= 1, got %d", *epochs)
	}
	sizes, err := parseHidden(*hidden)
	if err != nil {
		return err
	}
	if !set["q-wake"] {
		*qWake = *k > 1
	}
	if !*qWake && !*qSleep {
		return usagef("--q-wake, --q-sleep: at least one must be on, or the recognition network never learns")
	}
	d, err := openData(env, *data, *binarize, *seed)
	if err != nil {
		return err
	}
	x := d.X
	var tr *helmholtz.Trainer
	if *resume != "" {
		f, err := checkpoint.LoadKind(*resume, helmholtz.Kind)
		if err != nil {
			return err
		}
		if tr, err = helmholtz.LoadTrainer(f); err != nil {
			return fmt.Errorf("--resume %s: %w", *resume, err)
		}
		if tr.M.Sizes[0] != x.Cols {
			return fmt.Errorf("--resume %s: model has %d visible units, --data %s has %d columns", *resume, tr.M.Sizes[0], *data, x.Cols)
		}
		c := tr.Cfg
		if err := checkResumed(fs, *resume,
			saved{flag: "hidden", value: intsFlag(tr.M.Sizes[1:]), given: intsFlag(sizes)},
			saved{flag: "rws-k", value: strconv.Itoa(c.K)},
			saved{flag: "q-wake", value: strconv.FormatBool(c.QWake)},
			saved{flag: "q-sleep", value: strconv.FormatBool(c.QSleep)},
			saved{flag: "batch", value: strconv.Itoa(c.Batch)},
			saved{flag: "lr", value: floatFlag(c.LR)},
			saved{flag: "seed", value: strconv.FormatUint(c.Seed, 10)}); err != nil {
			return err
		}
	} else {
		m := helmholtz.New(append([]int{x.Cols}, sizes...), rng.NewStream(*seed, 0))
		m.InitVisibleBias(x)
		cfg := helmholtz.TrainConfig{K: *k, QWake: *qWake, QSleep: *qSleep, Batch: *batch, LR: *lr, Seed: *seed,
			Dynamic: *binarize == "dynamic"}
		if tr, err = helmholtz.NewTrainer(m, cfg); err != nil {
			return err
		}
	}
	// mode is how the data are binarised: by the flag, or, for --resume, dynamically
	// when the file says so (a resumed run keeps the file's settings).
	mode := *binarize
	if tr.Cfg.Dynamic && mode == "" {
		mode = "dynamic"
	}
	if mode == "dynamic" && !tr.Cfg.Dynamic {
		return usagef("--binarize: dynamic, but %s was trained without it and --resume keeps the file's settings", *resume)
	}
	if err := checkHelmholtzData(d, *data, mode); err != nil {
		return err
	}
	extra := helmholtzExtra{Data: *data, Binarize: mode, Height: d.Height, Width: d.Width, Channels: d.Channels}
	start := time.Now()
	ran := 0
	var last helmholtz.Stats
	var bounds []float64
	for tr.Epoch < *epochs {
		t0 := time.Now()
		st, err := tr.TrainEpoch(x)
		if err != nil {
			return err
		}
		last = st
		ran++
		bounds = append(bounds, st.Bound)
		if err := saveHelmholtz(*out, tr, extra); err != nil {
			return err
		}
		progress(env, "helmholtz epoch %d/%d: training bound (K=%d) %.4f nats/example, %.1fs", tr.Epoch, *epochs, tr.Cfg.K, st.Bound, time.Since(t0).Seconds())
	}
	secs := time.Since(start).Seconds()
	if ran == 0 {
		if err := saveHelmholtz(*out, tr, extra); err != nil {
			return err
		}
	}
	if !*asJSON {
		return nil
	}
	algo := "wake-sleep"
	if tr.Cfg.K > 1 || tr.Cfg.QWake {
		algo = "reweighted wake-sleep"
	}
	return printJSON(env, map[string]any{"model": model, "data": *data, "n": x.Rows, "sizes": tr.M.Sizes,
		"algorithm": algo, "rws_k": tr.Cfg.K, "q_wake": tr.Cfg.QWake, "q_sleep": tr.Cfg.QSleep,
		"epochs": tr.Epoch, "epochs_run": ran, "seconds": secs, "seconds_per_epoch": secs / float64(max(ran, 1)),
		"train_bound": jsonFloat(last.Bound), "train_bound_per_epoch": bounds, "out": *out})
}

// checkHelmholtzData returns the error, the same in train and eval, for data a
// Helmholtz machine cannot model after binarisation mode: with "dynamic" (training
// only) values outside [0, 1], else values other than 0 and 1.
func checkHelmholtzData(d *dataset.Dataset, spec, mode string) error {
	if mode == "dynamic" {
		if err := dataset.CheckUnit(d); err != nil {
			return fmt.Errorf("--binarize dynamic: %w", err)
		}
		return nil
	}
	x := d.X
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Row(i) {
			if v != 0 && v != 1 {
				return fmt.Errorf("--data %s: value %v at row %d is not 0 or 1, and a Helmholtz machine models binary data: "+
					"use --binarize threshold or stochastic (or dynamic, in training)", spec, v, i)
			}
		}
	}
	return nil
}

func saveHelmholtz(path string, tr *helmholtz.Trainer, extra helmholtzExtra) error {
	var f checkpoint.File
	if err := tr.Save(&f); err != nil {
		return err
	}
	// Keep the trainer's metadata and add where the data came from.
	var meta map[string]any
	if err := f.GetMeta(&meta); err != nil {
		return err
	}
	meta["extra"] = extra
	if err := f.SetMeta(meta); err != nil {
		return err
	}
	return checkpoint.Save(path, &f)
}

func loadHelmholtz(path string) (*helmholtz.Machine, helmholtzExtra, error) {
	var extra helmholtzExtra
	f, err := checkpoint.LoadKind(path, helmholtz.Kind)
	if err != nil {
		return nil, extra, err
	}
	m, err := helmholtz.Load(f)
	if err != nil {
		return nil, extra, fmt.Errorf("%s: %w", path, err)
	}
	var meta struct {
		Extra helmholtzExtra `json:"extra"`
	}
	f.GetMeta(&meta)
	return m, meta.Extra, nil
}

func evalHelmholtz(env *Env, kind string, args []string) error {
	fs := newFlags("eval")
	a := evalFlags(fs)
	k := fs.Int("iw-k", 5000, "importance samples per example (1: ELBO)")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if *k < 1 {
		return usagef("--iw-k: must be >= 1, got %d", *k)
	}
	m, extra, err := loadHelmholtz(a.Model)
	if err != nil {
		return err
	}
	if a.Binarize == "" { // binarise as in training: one fixed draw for dynamic
		a.Binarize = extra.Binarize
		if a.Binarize == "dynamic" {
			a.Binarize = "stochastic"
		}
	}
	d, err := openData(env, a.Data, a.Binarize, a.Seed)
	if err != nil {
		return err
	}
	x := d.X
	if x.Cols != m.Sizes[0] {
		return fmt.Errorf("eval: --data %s has %d columns, the model has %d visible units", a.Data, x.Cols, m.Sizes[0])
	}
	if a.Limit > 0 && a.Limit < x.Rows {
		x = x.Slice(0, a.Limit)
	}
	if err := checkHelmholtzData(&dataset.Dataset{Name: d.Name, X: x}, a.Data, a.Binarize); err != nil {
		return err
	}
	start := time.Now()
	lp := m.LogProb(nil, x, helmholtz.ISConfig{K: *k, Seed: a.Seed})
	var mean, sq float64
	for _, v := range lp {
		mean += v
	}
	mean /= float64(len(lp))
	for _, v := range lp {
		sq += (v - mean) * (v - mean)
	}
	se := math.Sqrt(sq / float64(len(lp)) / float64(len(lp)))
	secs := time.Since(start).Seconds()
	est := fmt.Sprintf("importance sampling, k=%d, proposal q(h|x)", *k)
	if *k == 1 {
		est = "ELBO (one sample)"
	}
	progress(env, "helmholtz on %s (%d examples): log p(x) ≈ %.4f ± %.4f nats/example (%s), %.1fs", a.Data, x.Rows, mean, se, est, secs)
	if !a.JSON {
		fmt.Fprintf(env.Stdout, "log_likelihood %.6f\n", mean)
		return nil
	}
	return printJSON(env, map[string]any{"model": kind, "data": a.Data, "n": x.Rows, "log_likelihood": jsonFloat(mean),
		"log_likelihood_stderr": jsonFloat(se), "estimator": est, "iw_k": *k, "seconds": secs})
}

func sampleHelmholtz(env *Env, kind string, args []string) error {
	fs := newFlags("sample")
	a := sampleFlags(fs)
	means := fs.Bool("means", true, "write the Bernoulli means of x given h_1 (false: binary samples)")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	m, extra, err := loadHelmholtz(a.Model)
	if err != nil {
		return err
	}
	xs, mu := m.Sample(a.N, rng.New(a.Seed))
	var x *tensor.Mat = xs
	if *means {
		x = mu
	}
	return writeSamples(a.Out, x, nil, extra.Height, extra.Width, extra.Channels)
}
