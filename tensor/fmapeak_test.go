package tensor

import (
	"testing"

	"github.com/latent-ml/latent/tensor/internal/kernel"
)

// fmaPeaks are the FMA-throughput loops of package kernel this CPU runs, with their
// float32 lanes per register.
func fmaPeaks() []struct {
	name  string
	lanes int
	run   func(n int, out *float32)
} {
	var ps []struct {
		name  string
		lanes int
		run   func(n int, out *float32)
	}
	if kernel.Supported(kernel.AVX2) {
		ps = append(ps, struct {
			name  string
			lanes int
			run   func(n int, out *float32)
		}{"avx2", 8, kernel.FMAPeak256})
	}
	if kernel.Supported(kernel.AVX512) {
		ps = append(ps, struct {
			name  string
			lanes int
			run   func(n int, out *float32)
		}{"avx512", 16, kernel.FMAPeak512})
	}
	return ps
}

// TestFMAPeakResult checks the peak loop does the work it claims: each of its 12
// accumulators gathers n products out[0]·out[1], exactly representable here.
func TestFMAPeakResult(t *testing.T) {
	for _, p := range fmaPeaks() {
		out := make([]float32, 12*p.lanes)
		out[0], out[1] = 3, 0.5
		p.run(1000, &out[0])
		for i, v := range out {
			if v != 1500 {
				t.Fatalf("%s: out[%d] = %g, want 1000·3·0.5 = 1500", p.name, i, v)
			}
		}
	}
}

// BenchmarkFMAPeak measures one core's single-precision FMA throughput: a loop of
// 12 independent VFMADD231PS on registers, 2·12·lanes flops per iteration. With
// -cpu 2 both goroutines run the loop at once (b.RunParallel) and GFLOP/s is their
// sum; GFLOP/cpu-s is the rate per busy core, which time-slicing on a loaded
// machine does not lower. bench/gemm-vs-numpy.sh gives each GEMM case as a fraction of this figure.
func BenchmarkFMAPeak(b *testing.B) {
	const iters = 1 << 16
	for _, p := range fmaPeaks() {
		b.Run(p.name, func(b *testing.B) {
			cpu0 := cpuSeconds()
			b.RunParallel(func(pb *testing.PB) {
				out := make([]float32, 12*p.lanes)
				for pb.Next() {
					p.run(iters, &out[0])
				}
			})
			gflop := 2 * 12 * float64(p.lanes) * iters * float64(b.N) / 1e9
			b.ReportMetric(gflop/b.Elapsed().Seconds(), "GFLOP/s")
			if cpu := cpuSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(gflop/cpu, "GFLOP/cpu-s")
			}
		})
	}
}
