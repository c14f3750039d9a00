package tensor

import (
	"slices"
	"testing"
	"time"

	"github.com/latent-ml/latent/rng"
)

// Element-wise benchmarks on the 128×500 shape of bench/elem-vs-torch.sh, one
// sub-benchmark per kernel path. Run with -cpu 1 to compare with torch on one
// thread. Besides ns/op (a mean, inflated by other processes on a shared
// machine) each reports med-µs, the median time of one call, which is what
// bench/elem_torch.py measures for torch.

const benchRows, benchCols = 128, 500

// benchElem runs op(x, y) b.N times per kernel path on a 128×500 x of N(0, 2²)
// values; setup, if not nil, prepares x first.
func benchElem(b *testing.B, setup func(x *Mat), op func(x, y *Mat)) {
	saved := elemImpl
	defer func() { elemImpl = saved }()
	for _, p := range elemPaths() {
		b.Run(p.name, func(b *testing.B) {
			elemImpl = p
			x, y := New(benchRows, benchCols), New(benchRows, benchCols)
			rng.New(1).FillNormal(x.Data, 0, 2)
			if setup != nil {
				setup(x)
			}
			op(x, y) // warm up
			ts := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.SetBytes(4 * benchRows * benchCols)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				op(x, y)
				ts = append(ts, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(ts)
			b.ReportMetric(float64(ts[len(ts)/2])/1e3, "med-µs")
		})
	}
}

func unary(f func(dst, x []float32)) func(x, y *Mat) {
	return func(x, y *Mat) { f(y.Data, x.Data) }
}

func BenchmarkSigmoid_128x500(b *testing.B)    { benchElem(b, nil, unary(Sigmoid)) }
func BenchmarkExp_128x500(b *testing.B)        { benchElem(b, nil, unary(Exp)) }
func BenchmarkSoftplus_128x500(b *testing.B)   { benchElem(b, nil, unary(Softplus)) }
func BenchmarkLogSigmoid_128x500(b *testing.B) { benchElem(b, nil, unary(LogSigmoid)) }
func BenchmarkReLU_128x500(b *testing.B)       { benchElem(b, nil, unary(ReLU)) }
func BenchmarkTanh_128x500(b *testing.B)       { benchElem(b, nil, unary(Tanh)) }

func BenchmarkLog_128x500(b *testing.B) {
	benchElem(b, func(x *Mat) {
		for i := range x.Data {
			x.Data[i] = abs32(x.Data[i]) + 1e-3
		}
	}, unary(Log))
}

func BenchmarkSigmoidBias_128x500(b *testing.B) {
	bias := make([]float32, benchCols)
	benchElem(b, nil, func(x, y *Mat) { SigmoidBias(y, x, bias) })
}

// BenchmarkSigmoidBernoulli_128x500 is torch.bernoulli(torch.sigmoid(x)).
func BenchmarkSigmoidBernoulli_128x500(b *testing.B) {
	s := rng.New(2)
	p := New(benchRows, benchCols)
	benchElem(b, nil, func(x, y *Mat) { SigmoidBernoulli(p.Data, y.Data, x.Data, s) })
}

func BenchmarkSigmoidBiasBernoulli_128x500(b *testing.B) {
	s := rng.New(2)
	bias := make([]float32, benchCols)
	benchElem(b, nil, func(x, y *Mat) { SigmoidBiasBernoulli(nil, y, x, bias, s) })
}

func BenchmarkSampleBernoulli_128x500(b *testing.B) {
	s := rng.New(2)
	benchElem(b, func(x *Mat) { Sigmoid(x.Data, x.Data) }, func(x, y *Mat) { SampleBernoulli(y, x, s) })
}

func BenchmarkLogSumExpRows_128x500(b *testing.B) {
	dst := make([]float64, benchRows)
	benchElem(b, nil, func(x, y *Mat) { LogSumExpRows(dst, x) })
}

func BenchmarkSiLU_128x500(b *testing.B) { benchElem(b, nil, unary(SiLU)) }

func BenchmarkSiLUGrad_128x500(b *testing.B) {
	benchElem(b, nil, func(x, y *Mat) { SiLUGrad(y.Data, x.Data, x.Data, x.Data) })
}
