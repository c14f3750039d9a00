package mixture

import (
	"fmt"
	"testing"

	"github.com/latent-ml/latent/tensor"
)

// BenchmarkEMIteration times one E-step + M-step of a full-covariance GMM (float64
// GEMM and FastMath) and of a Bernoulli mixture.
func BenchmarkEMIteration(b *testing.B) {
	x, _ := blobs([][]float64{make([]float64, 50), append([]float64{5}, make([]float64, 49)...)}, 5000, 1, 1)
	for _, fast := range []bool{false, true} {
		b.Run(fmt.Sprintf("gmm-full-n10000-d50-k10/fast=%v", fast), func(b *testing.B) {
			g, _, err := FitGaussian(x, GaussianConfig{Components: 10, RegCovar: 1e-6, EM: EMConfig{MaxIter: 1}, Seed: 1, FastMath: fast})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				EM(g, x, EMConfig{MaxIter: 1, Tol: -1})
			}
		})
	}
	xb := tensor.New(10000, 784)
	for i := range xb.Data {
		if (i*7919)%5 == 0 {
			xb.Data[i] = 1
		}
	}
	for _, fast := range []bool{false, true} {
		b.Run(fmt.Sprintf("bmm-n10000-d784-k100/fast=%v", fast), func(b *testing.B) {
			m, _, err := FitBernoulli(xb, BernoulliConfig{Components: 100, EM: EMConfig{MaxIter: 1}, Seed: 1, FastMath: fast})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				EM(m, xb, EMConfig{MaxIter: 1, Tol: -1})
			}
		})
	}
}
