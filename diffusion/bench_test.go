package diffusion

import (
	"fmt"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// BenchmarkUNetStep: one forward and backward pass of the default U-Net (32
// channels) on 28×28 images, the training-speed figure at batch 128.
func BenchmarkUNetStep(b *testing.B) {
	for _, batch := range []int{16, 128} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := rng.New(1)
			u := NewUNet(28, 28, 1, 32, s)
			x := tensor.New(batch, 784)
			s.FillNormal(x.Data, 0, 1)
			ts := make([]int, batch)
			for i := range ts {
				ts[i] = 1 + s.IntN(1000)
			}
			dy := tensor.New(batch, 784)
			s.FillNormal(dy.Data, 0, 1)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				u.Eps(x, ts)
				u.Backward(dy)
			}
		})
	}
}

// BenchmarkDDIM: 50 DDIM steps of the default U-Net for 64 images (the
// issue's sampling figure is 1000 images).
func BenchmarkDDIM(b *testing.B) {
	s := rng.New(2)
	u := NewUNet(28, 28, 1, 32, s)
	sc, _ := NewSchedule("linear", 1000)
	g := Gaussian{S: sc}
	x := tensor.New(64, 784)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.FillNormal(x.Data, 0, 1)
		g.DDIM(u, x, 50, 0, nil, nil)
	}
}
