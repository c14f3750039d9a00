package nn

import (
	"testing"

	"github.com/latent-ml/latent/rng"
)

// BenchmarkNormStep times a forward-backward step of the normalisation layers at
// DCGAN and U-Net sizes on MNIST (batch 128).
func BenchmarkNormStep(b *testing.B) {
	for _, tc := range []struct {
		name string
		l    Layer
		cols int
	}{
		{"BatchNorm2D_14x14x64", NewBatchNorm2D(14, 14, 64), 14 * 14 * 64},
		{"BatchNorm_1024", NewBatchNorm(1024), 1024},
		{"GroupNorm8_14x14x64", NewGroupNorm(8, 14, 14, 64), 14 * 14 * 64},
		{"GroupNorm32_14x14x64", NewGroupNorm(32, 14, 14, 64), 14 * 14 * 64},
		{"ReLU_14x14x64", ReLU(), 14 * 14 * 64}, // a memory-bound baseline of two passes
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := rng.New(1)
			x := randMat(s, 128, tc.cols, 1)
			dy := randMat(s, 128, tc.cols, 1)
			b.ReportAllocs()
			b.SetBytes(int64(4 * 128 * tc.cols))
			for b.Loop() {
				tc.l.Forward(x)
				tc.l.Backward(dy)
			}
		})
	}
}
