package mcmc

import (
	"fmt"
	"testing"
)

// BenchmarkAISDecoderTransition times AIS with K = 2 (one HMC transition of L = 10
// leapfrog steps, 11 decoder calls) of 100 examples × 16 chains (+2 pilots each) on a
// linear decoder dz → 784: the decoder's two GEMMs per call against the sampler's
// own row work. (On a loaded 2-core machine the GEMMs with inner size dz took about
// 60% of the CPU, GaussianDecoder's float64 residual loop 30%.)
func BenchmarkAISDecoderTransition(b *testing.B) {
	for _, dz := range []int{10, 50} {
		b.Run(fmt.Sprintf("dz=%d", dz), func(b *testing.B) {
			g := newAffineGen(dz, 784, 0.1, false, 1)
			dec, _ := NewGaussianDecoder(g, dz, 0.01)
			x, _ := simulate(g, 100, 0.01, 2)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := AISDecoder(dec, x, DecoderAISConfig{Steps: 2}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
