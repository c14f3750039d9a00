package vae

import (
	"context"
	"flag"
	"io"
	"path/filepath"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/viz"
)

func init() {
	model.RegisterDemo(model.Demo{Order: 40, Name: "vae: VAE on shapes", Run: demo})
}

// demo trains a VAE with a 6-D latent space on the shapes data for 10 epochs
// and writes vae-shapes.model, 100 samples (vae-shapes-samples.png) and the
// latent traversals (vae-shapes-traversals.png).
func demo(ctx context.Context, dir string, seed uint64) error {
	const spec = "shapes,n=6000,size=24"
	d, err := dataset.Load(spec, dataset.Options{Seed: seed})
	if err != nil {
		return err
	}
	f := DefaultFlags(KindVAE)
	f.Latent, f.Hidden, f.BatchSize, f.LR = 6, []int{256}, 64, 2e-3
	s := model.NewSettings(KindVAE, d, spec, "", seed, 10)
	s.Flags, s.Given = flagValues(f)
	t, err := newFamilyTrainer(f, d, s)
	if err != nil {
		return err
	}
	if _, err := model.Train(ctx, t, d, s, model.TrainOptions{Out: filepath.Join(dir, "vae-shapes.model")}); err != nil {
		return err
	}
	m := t.(*Trainer).Model
	g := viz.Grid{Height: d.Height, Width: d.Width, Channels: 1, Cols: 10}
	if err := g.Save(filepath.Join(dir, "vae-shapes-samples.png"), m.Sample(nil, 100, nil, rng.NewStream(seed, 3))); err != nil {
		return err
	}
	_, err = latentPictures(dir, "vae-shapes-", m, d)
	return err
}

// flagValues returns the flags of f as `latent train` records them: every
// flag's value, and those that differ from the defaults of f's kind.
func flagValues(f *Flags) (all, given map[string]string) {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	model.Bind(fs, DefaultFlags(f.Kind))
	def := model.FlagValues(fs)
	fs = flag.NewFlagSet("", flag.ContinueOnError)
	model.Bind(fs, f)
	all, given = model.FlagValues(fs), map[string]string{}
	for k, v := range all {
		if def[k] != v {
			given[k] = v
		}
	}
	return all, given
}
