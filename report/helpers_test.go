package report

import (
	"context"
	"flag"
	"io"
	"path/filepath"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"

	_ "github.com/latent-ml/latent/diffusion"
	_ "github.com/latent-ml/latent/gan"
	_ "github.com/latent-ml/latent/helmholtz"
	_ "github.com/latent-ml/latent/mixture"
	_ "github.com/latent-ml/latent/pixels"
	_ "github.com/latent-ml/latent/rbm"
)

// newRun makes a model of family on spec with the given family flags, as
// `latent train family --data spec --epochs epochs --seed 1 flags...` would.
func newRun(t *testing.T, family, spec string, epochs int, flags ...string) (model.Trainer, *dataset.Dataset, *model.Settings) {
	t.Helper()
	fam := model.Lookup(family)
	if fam == nil {
		t.Fatalf("no family %q", family)
	}
	cfg := fam.Config()
	fs := flag.NewFlagSet(family, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	model.Bind(fs, cfg)
	if err := fs.Parse(flags); err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Load(spec, dataset.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := model.NewSettings(family, d, spec, "", 1, epochs)
	s.Flags, s.Given = model.FlagValues(fs), model.GivenFlags(fs)
	tr, err := fam.New(cfg, d, s)
	if err != nil {
		t.Fatal(err)
	}
	return tr, d, s
}

// trainFile trains a model (see newRun) and returns the path of its file in dir.
func trainFile(t *testing.T, dir, family, spec string, epochs int, flags ...string) string {
	t.Helper()
	tr, d, s := newRun(t, family, spec, epochs, flags...)
	out := filepath.Join(dir, family+".model")
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Out: out}); err != nil {
		t.Fatal(err)
	}
	return out
}

// loadScorer reads the model in path.
func loadScorer(t *testing.T, path string) model.Scorer {
	t.Helper()
	f, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := model.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return m.(model.Scorer)
}
