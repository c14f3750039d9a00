package vae

import (
	"strings"
	"testing"

	"github.com/latent-ml/latent/rng"
)

func TestBadSettings(t *testing.T) {
	cases := []struct {
		cfg  Config
		dim  int
		want string
	}{
		{Config{Latent: -1}, 10, "latent dimension must be >= 1, got -1"},
		{Config{Hidden: []int{10, 0}}, 10, "hidden layer 2 size must be >= 1, got 0"},
		{Config{Kind: KindConvVAE, Height: 28, Width: 28, Channels: 1}, 100, "convvae image shape 28×28×1 needs 784 values per example, data has 100"},
		{Config{Kind: KindConvVAE}, 784, "convvae needs image data"},
		{Config{Kind: KindCVAE}, 10, "cvae needs a conditioning vector"},
		{Config{Decoder: "poisson"}, 10, `unknown decoder "poisson"`},
		{Config{IWK: 5, Beta: 2}, 10, "beta must be 1"},
		{Config{Kind: "gan"}, 10, `unknown model kind "gan"`},
		{Config{Activation: "gelu"}, 10, `unknown activation "gelu"`},
	}
	for _, c := range cases {
		_, err := New(c.cfg, c.dim, rng.New(1))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "vae: ") {
			t.Errorf("%+v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
	// cvae on data without labels
	tr, err := NewTrainer(Config{Kind: KindCVAE, CondDim: 2, Hidden: []int{4}}, 36, TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	d := toyData(10, 6, 1)
	d.Labels = nil
	if _, err := fit(tr, d, 1, ""); err == nil || !strings.Contains(err.Error(), "cvae needs labels") {
		t.Errorf("cvae without labels: %v", err)
	}
	if _, err := NewTrainer(Config{}, 36, TrainConfig{LR: -1}); err == nil || !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("negative lr: %v", err)
	}
}
