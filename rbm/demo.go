package rbm

import (
	"context"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// trainDemo trains an rbm with flags f on d for epochs epochs through model.Train,
// without per-epoch lines or figures (the demos report their own), and returns the
// trainer and its settings.
func trainDemo(ctx context.Context, f *Flags, d *dataset.Dataset, spec string, seed uint64, epochs int) (*Trainer, *model.Settings, error) {
	s := model.NewSettings("rbm", d, spec, "", seed, epochs)
	fs := flag.NewFlagSet("rbm", flag.ContinueOnError)
	model.Bind(fs, f)
	s.Flags = model.FlagValues(fs) // as `latent train rbm` records them
	s.Flags["seed"], s.Flags["binarize"] = strconv.FormatUint(seed, 10), ""
	mt, err := newTrainer(Bernoulli)(f, d, s)
	if err != nil {
		return nil, nil, err
	}
	// The embedded interface hides Report (and Check): the driver sees a plain Trainer.
	plain := struct{ model.Trainer }{mt}
	if _, err := model.Train(model.WithProgress(ctx, model.Progress{}), plain, d, s, model.TrainOptions{}); err != nil {
		return nil, nil, err
	}
	return mt.(*Trainer), s, nil
}

// demoBars trains an RBM on the 30 bars-and-stripes 4×4 patterns (each 20 times)
// and reports the exact log-likelihood next to the optimum, −log 30; it writes the
// model, its filters and 8 chains from the patterns.
func demoBars(ctx context.Context, dir string, seed uint64) error {
	bars, err := dataset.Load("bars:4", dataset.Options{Seed: seed})
	if err != nil {
		return err
	}
	x := tensor.New(bars.Len()*20, bars.Dim())
	for i := 0; i < x.Rows; i++ {
		copy(x.Row(i), bars.X.Row(i%bars.Len()))
	}
	d := &dataset.Dataset{Name: "bars:4", X: x, Binary: true, Height: 4, Width: 4, Channels: 1}
	f := DefaultFlags()
	f.Hidden, f.PT, f.Batch, f.LR, f.Momentum, f.Schedule = 16, 5, 20, 0.1, 0.5, "linear"
	t, s, err := trainDemo(ctx, f, d, "bars:4 (each pattern 20 times)", seed, 150)
	if err != nil {
		return err
	}
	m := t.Model
	lz, _ := m.ExactLogZ()
	model.Logf(ctx, "rbm bars:4 (16 hidden, PT-5, 150 epochs): exact log-likelihood %.3f nats/pattern (optimum −log %d = %.3f)",
		m.MeanLogProb(bars.X, lz), bars.Len(), -math.Log(float64(bars.Len())))
	f2, err := model.File(t, s)
	if err != nil {
		return err
	}
	if err := checkpoint.Save(filepath.Join(dir, "rbm-bars.ckpt"), f2); err != nil {
		return err
	}
	if err := m.SaveFilters(filepath.Join(dir, "rbm-bars-filters.png")); err != nil {
		return err
	}
	return m.SaveChains(filepath.Join(dir, "rbm-bars-samples.png"), pickRows(bars.X, 8, seed), 200, seed, 0, 1)
}

// demoIsing trains an RBM on 8×8 Ising configurations at two temperatures and
// compares the energy and |m| of its samples with the data's.
func demoIsing(ctx context.Context, dir string, seed uint64) error {
	const L = 8
	for _, T := range []float64{1.8, 3.0} {
		spec := fmt.Sprintf("ising:L=%d,T=%g,n=2000", L, T)
		d, err := dataset.Load(spec, dataset.Options{Seed: seed})
		if err != nil {
			return err
		}
		f := DefaultFlags()
		f.Hidden, f.Batch, f.LR, f.Momentum, f.Schedule = 64, 50, 0.1, 0.9, "linear"
		t, _, err := trainDemo(ctx, f, d, spec, seed, 100)
		if err != nil {
			return err
		}
		m := t.Model
		obs := m.CompareIsing(d.X, L, T, 2000, 300, seed)
		dm, mm := obs["data"].(map[string]any), obs["model"].(map[string]any)
		model.Logf(ctx, "rbm Ising L=%d T=%g (64 hidden, CD-1, 100 epochs on 2000 configurations): energy/spin data %.4f model %.4f (%.1f%%), |m| data %.4f model %.4f (%.1f%%)",
			L, T, dm["energy"], mm["energy"], 100*obs["rel_err_energy"].(float64), dm["abs_mag"], mm["abs_mag"], 100*obs["rel_err_abs_mag"].(float64))
		path := filepath.Join(dir, fmt.Sprintf("rbm-ising-T%g-samples.png", T))
		if err := m.SaveChains(path, pickRows(d.X, 8, seed), 500, seed, 0, 1); err != nil {
			return err
		}
	}
	return nil
}
