package main

import (
	"context"
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/classifier"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// sampleQuality draws n samples from m and scores them with the classifier in
// clsPath: the Fréchet distance between the classifier's features of the
// samples and of the first n rows of ref (FID in this classifier's features),
// the fraction of samples in each predicted class and its largest deviation
// from uniform.
func sampleQuality(ctx context.Context, m model.Model, ref *tensor.Mat, clsPath string, n int, seed uint64) ([]model.Metric, error) {
	f, err := checkpoint.LoadKind(clsPath, classifier.Kind)
	if err != nil {
		return nil, fmt.Errorf("--fid: %w", err)
	}
	cls, err := classifier.Load(f)
	if err != nil {
		return nil, fmt.Errorf("--fid %s: %w", clsPath, err)
	}
	if cls.Dim() != m.Dim() {
		return nil, fmt.Errorf("--fid %s: the classifier takes rows of %d values, the model makes %d", clsPath, cls.Dim(), m.Dim())
	}
	sm, ok := m.(model.Sampler)
	if !ok {
		return nil, fmt.Errorf("--fid: a %s model cannot draw samples", m.Kind())
	}
	n = min(n, ref.Rows)
	if n < 2 {
		return nil, fmt.Errorf("--fid-n: need at least 2 examples, got %d", n)
	}
	samples, err := sm.Sample(ctx, model.SampleOptions{N: n, Seed: seed + 7, Label: -1})
	if err != nil {
		return nil, err
	}
	fs, err := cls.Features(ctx, samples.X)
	if err != nil {
		return nil, err
	}
	fr, err := cls.Features(ctx, ref.Slice(0, n))
	if err != nil {
		return nil, err
	}
	fid, err := classifier.FrechetDistance(fs, fr)
	if err != nil {
		return nil, err
	}
	pred, err := cls.Predict(ctx, samples.X)
	if err != nil {
		return nil, err
	}
	frac, dev := classifier.Histogram(pred, cls.Classes)
	return []model.Metric{{Name: "fid", Value: fid}, {Name: "fid_n", Value: n},
		{Name: "class_fractions", Value: frac}, {Name: "class_max_deviation", Value: dev}}, nil
}
