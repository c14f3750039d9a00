package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

const transformUsage = `latent transform --model FILE --data SPEC --out FILE.npy|FILE.csv [flags]

Write what a model says about each example of SPEC, one row per example:
  rbm, grbm    hidden-unit probabilities p(h_j = 1 | x)
  vae, cvae    the codes: μ(x) and σ(x) of q(z|x)
  gmm, bmm     the responsibilities p(k | x) and the most likely component
  any family   with --log-likelihood, log p(x) per example (as eval --per-example)
A .csv file has a header row naming the columns; a .npy file holds float32 rows.

Flags:
`

// cmdTransform runs `latent transform`.
func cmdTransform(env *Env, args []string) error {
	fs := newFlags("transform")
	a := evalFlags(fs)
	out := fs.String("out", "", "FILE.npy or FILE.csv to write")
	ll := fs.Bool("log-likelihood", false, "write log p(x) per example (the family's eval estimator) instead")
	if err := parseOnlyFlags(fs, args, "transform"); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.Stdout, transformUsage+flagUsage(fs))
			return nil
		}
		return err
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if ext != ".npy" && ext != ".csv" {
		return usagef("--out: must end in .npy or .csv, got %q", *out)
	}
	if err := checkOutFile("--out", *out); err != nil {
		return err
	}
	if err := checkNotInput("--out", *out, a.Model, a.Data); err != nil {
		return err
	}
	if err := checkOverwriteData("--out", *out, a.Force); err != nil {
		return err
	}
	m, s, err := loadModel(a.Model)
	if err != nil {
		return err
	}
	d, _, err := evalData(env, a, m, s, model.Lookup(m.Kind()))
	if err != nil {
		return err
	}
	ctx, stop := signalContext(env)
	defer stop()
	x, cols, err := transformRows(ctx, m, d, *ll, a)
	if err != nil {
		return err
	}
	if err := writeTable(*out, x, cols); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d rows × %d columns (%s)\n", *out, x.Rows, x.Cols, strings.Join(cols, ", "))
	return nil
}

// writeTable writes x as .npy, or as CSV with a header row of column names.
func writeTable(path string, x *tensor.Mat, cols []string) error {
	if !strings.EqualFold(filepath.Ext(path), ".csv") {
		return dataset.SaveNPY(path, &dataset.Dataset{X: x})
	}
	var b strings.Builder
	b.WriteString(strings.Join(cols, ",") + "\n")
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%g", v)
		}
		b.WriteByte('\n')
	}
	return writeFileAtomic(path, []byte(b.String()))
}

// transformRows returns what transform writes: the model's Transformer output,
// or with ll log p(x) per example from its Scorer.
func transformRows(ctx context.Context, m model.Model, d *dataset.Dataset, ll bool, a *evalArgs) (*tensor.Mat, []string, error) {
	if ll {
		sc, ok := m.(model.Scorer)
		if !ok {
			return nil, nil, fmt.Errorf("transform: a %s model defines no log-likelihood", m.Kind())
		}
		est, err := sc.Score(ctx, d, model.ScoreOptions{Seed: a.Seed, Data: a.Data})
		if err != nil {
			return nil, nil, err
		}
		if est.PerExample == nil {
			return nil, nil, fmt.Errorf("transform: the %s estimator gives no per-example figures", est.Method)
		}
		return floatCol(est.PerExample), []string{"log_likelihood"}, nil
	}
	tr, ok := m.(model.Transformer)
	if !ok {
		return nil, nil, fmt.Errorf("transform: a %s model has no transform; --log-likelihood writes log p(x) per example", m.Kind())
	}
	return tr.Transform(ctx, d)
}
