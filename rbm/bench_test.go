package rbm

import (
	"fmt"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// BenchmarkUpdate is one training step of a 784×500 RBM on a batch of 100 binary rows
// (MNIST-sized); 600 steps are one epoch of the 60000 MNIST training images.
func BenchmarkUpdate(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"cd1", Config{K: 1}},
		{"cd1-dense", Config{K: 1, Dense: true}},
		{"pcd1", Config{Method: PCD}},
		{"pt4", Config{Method: PT, Temperatures: 4}},
	} {
		b.Run(fmt.Sprintf("784x500/%s", c.name), func(b *testing.B) {
			data := tensor.New(1000, 784)
			s := rng.New(1)
			for i := range data.Data {
				if s.Float32() < 0.13 {
					data.Data[i] = 1
				}
			}
			c.cfg.BatchSize = 100
			_, tr := trainNew(b, Bernoulli, 500, data, c.cfg)
			batch := data.Slice(0, 100).Clone()
			tr.Update(batch)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.Update(batch)
			}
		})
	}
}
