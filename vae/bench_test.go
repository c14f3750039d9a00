package vae

import (
	"fmt"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// BenchmarkTrainStep times one forward/backward/Adam step on a batch of 128
// random 784-pixel images: the pytorch/examples VAE, the Burda et al. MLP, and the
// Keras conv VAE.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"vae-784-400-20", Config{}},
		{"vae-784-200-200-50-tanh", Config{Latent: 50, Hidden: []int{200, 200}, Activation: "tanh"}},
		{"iwae-k5-784-200-200-50", Config{Latent: 50, Hidden: []int{200, 200}, Activation: "tanh", IWK: 5}},
		{"convvae-28x28", Config{Kind: KindConvVAE, Latent: 2, Height: 28, Width: 28, Channels: 1}},
	} {
		b.Run(fmt.Sprintf("%s/workers=%d", c.name, tensor.Workers()), func(b *testing.B) {
			tr, err := NewTrainer(c.cfg, 784, TrainConfig{})
			if err != nil {
				b.Fatal(err)
			}
			x := tensor.New(128, 784)
			rng.New(1).FillUniform(x.Data)
			s := rng.New(2)
			tr.Model.Grad(x, nil, s)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.Model.Grad(x, nil, s)
				tr.Adam.Step(tr.params)
			}
		})
	}
}
