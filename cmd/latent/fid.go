package main

import (
	"context"
	"fmt"

	"github.com/latent-ml/latent/classifier"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// dataFID runs `latent data fid SPEC1 SPEC2 --classifier FILE [--n N]`: the
// Fréchet distance between two data sets in a classifier's features, the
// floor a model's FID is read against (the test set's FID to the training set).
func dataFID(env *Env, args []string) error {
	fs := newFlags("data fid")
	clsPath := fs.String("classifier", "", "classifier model file (latent train classifier)")
	n := fs.Int("n", 10000, "examples of each data set (the first N)")
	seed := fs.Uint64("seed", 1, "seed for generated data")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("data fid: want two data SPECs, got %d", len(pos))
	}
	if *n < 2 {
		return usagef("--n: must be >= 2, got %d", *n)
	}
	cls, err := loadClassifier(*clsPath)
	if err != nil {
		return err
	}
	ctx, stop := signalContext(env)
	defer stop()
	var feats [2]*tensor.Mat
	for i, spec := range pos {
		d, err := openData(env, spec, "", *seed)
		if err != nil {
			return err
		}
		if d.Dim() != cls.Dim() {
			return fmt.Errorf("%s: rows have %d values, the classifier takes %d", spec, d.Dim(), cls.Dim())
		}
		if feats[i], err = cls.Features(ctx, d.X.Slice(0, min(*n, d.Len()))); err != nil {
			return err
		}
	}
	fid, err := classifier.FrechetDistance(feats[0], feats[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "FID %s (%d) to %s (%d) in the features of %s: %.4f\n", pos[0], feats[0].Rows, pos[1], feats[1].Rows, *clsPath, fid)
	return nil
}

// loadClassifier reads a classifier model file named by --classifier or --fid.
func loadClassifier(path string) (*classifier.Model, error) {
	if path == "" {
		return nil, usagef("--classifier: missing classifier model file (latent train classifier --data mnist ...)")
	}
	return classifier.LoadFile(path)
}

// sampleQuality scores n samples of m against ref in the features of the
// classifier in clsPath (see classifier.Model.SampleQuality).
func sampleQuality(ctx context.Context, m model.Model, ref *tensor.Mat, clsPath string, n int, seed uint64) ([]model.Metric, error) {
	cls, err := loadClassifier(clsPath)
	if err != nil {
		return nil, fmt.Errorf("--fid: %w", err)
	}
	q, err := cls.SampleQuality(ctx, m, ref, n, seed)
	if err != nil {
		return nil, fmt.Errorf("--fid %s: %w", clsPath, err)
	}
	return q, nil
}
