package diffusion

import (
	"context"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
)

// monitorN is how many held-out examples Monitor scores.
const monitorN = 200

// head returns the first n examples of d (all when it has fewer).
func head(d *dataset.Dataset, n int) *dataset.Dataset {
	if d.Len() <= n {
		return d
	}
	h := *d
	h.X = d.X.Slice(0, n)
	if d.Labels != nil {
		h.Labels = d.Labels[:n]
	}
	return &h
}

// Monitor implements model.Monitor: the bound (all T terms, seed 1) on the
// first 200 held-out examples, "test_vlb" in nats (a lower bound on the mean
// log p(x)).
func (m *BinaryModel) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	est, err := m.Score(ctx, head(d, monitorN), model.ScoreOptions{Seed: 1})
	if err != nil {
		return nil, err
	}
	return []model.Metric{{Name: "test_vlb", Value: est.LogLik}}, nil
}

// Monitor implements model.Monitor: the bound on the first 200 held-out
// examples (L_T + L_0 + 4 sampled steps per image, seed 1), "test_vlb" in
// nats and "test_bits_per_dim".
func (m *GaussModel) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	est, err := m.Score(ctx, head(d, monitorN), model.ScoreOptions{Seed: 1, Family: &EvalConfig{TPerImage: 4}})
	if err != nil {
		return nil, err
	}
	return []model.Metric{{Name: "test_vlb", Value: est.LogLik}, est.Extra[0]}, nil
}
