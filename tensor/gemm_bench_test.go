package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// gemmBenchCases are the shapes of the issue, M×K×N: C (M×N) = op(A)·op(B).
var gemmBenchCases = []struct {
	transA, transB bool
	m, k, n        int
}{
	{false, false, 100, 784, 500},
	{false, false, 128, 784, 400},
	{false, false, 128, 400, 784},
	{false, false, 1000, 784, 500},
	{true, false, 784, 100, 500}, // weight gradient: C(784×500) = Aᵀ·B, A 100×784, B 100×500
	{false, true, 100, 500, 784}, // RBM p(v|h): C(100×784) = h·Wᵀ, W 784×500
}

func gemmTransName(transA, transB bool) string {
	s := [2]byte{'N', 'N'}
	if transA {
		s[0] = 'T'
	}
	if transB {
		s[1] = 'T'
	}
	return string(s[:])
}

// gemmOperands returns random A and B, stored so that op(A)·op(B) is m×k by k×n.
func gemmOperands(rnd *rand.Rand, transA, transB bool, m, k, n int) (a, b *Mat) {
	ar, ac := m, k
	if transA {
		ar, ac = ac, ar
	}
	br, bc := k, n
	if transB {
		br, bc = bc, br
	}
	return gemmRandMat(rnd, ar, ac), gemmRandMat(rnd, br, bc)
}

func gemmRandMat(rnd *rand.Rand, r, c int) *Mat {
	m := New(r, c)
	for i := range m.Data {
		m.Data[i] = float32(rnd.NormFloat64())
	}
	return m
}

// BenchmarkGemm reports GFLOP/s (2·M·N·K per call) for the float32 cases of the issue.
// Set GOMAXPROCS (or -cpu) to choose the number of workers. GFLOP/cpu-s divides by
// the process's CPU time instead of the wall time (with two workers it is the rate
// per busy core).
func BenchmarkGemm(b *testing.B) {
	for _, tc := range gemmBenchCases {
		name := fmt.Sprintf("f32_%s_%dx%dx%d", gemmTransName(tc.transA, tc.transB), tc.m, tc.k, tc.n)
		b.Run(name, func(b *testing.B) {
			a, bm := gemmOperands(rand.New(rand.NewPCG(1, 2)), tc.transA, tc.transB, tc.m, tc.k, tc.n)
			c := New(tc.m, tc.n)
			Gemm(tc.transA, tc.transB, 1, a, bm, 0, c)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				Gemm(tc.transA, tc.transB, 1, a, bm, 0, c)
			}
			gflop := 2 * float64(tc.m) * float64(tc.n) * float64(tc.k) * float64(b.N) / 1e9
			b.ReportMetric(gflop/b.Elapsed().Seconds(), "GFLOP/s")
			if cpu := cpuSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(gflop/cpu, "GFLOP/cpu-s")
			}
		})
	}
}

// vaeStepGemms are the eleven products of one training step of the pytorch/examples
// VAE (784-400-20-400-784, batch 128, weights stored in×out as nn.Linear keeps
// them): four forward, four weight gradients, three input gradients (none for
// the data). 419.8 MFLOP in all.
var vaeStepGemms = []struct {
	transA, transB bool
	m, k, n        int
}{
	{false, false, 128, 784, 400}, // encoder hidden
	{false, false, 128, 400, 40},  // μ and log σ²
	{false, false, 128, 20, 400},  // decoder hidden
	{false, false, 128, 400, 784}, // logits
	{true, false, 400, 128, 784},  // ∂W of the logits layer
	{false, true, 128, 784, 400},  // ∂h of the decoder hidden layer
	{true, false, 20, 128, 400},   // ∂W of the decoder hidden layer
	{false, true, 128, 400, 20},   // ∂z
	{true, false, 400, 128, 40},   // ∂W of the μ, log σ² layer
	{false, true, 128, 40, 400},   // ∂h of the encoder hidden layer
	{true, false, 784, 128, 400},  // ∂W of the encoder hidden layer
}

// BenchmarkGemmVAEStep runs vaeStepGemms in order and reports their rate: the
// "measured GEMM rate" that a VAE training step's time is set against (its FLOPs
// at this rate are the step's floor; bench/vae/README.md). Workers: GOMAXPROCS.
func BenchmarkGemmVAEStep(b *testing.B) {
	rnd := rand.New(rand.NewPCG(1, 2))
	type op struct{ a, b, c *Mat }
	ops := make([]op, len(vaeStepGemms))
	flop := 0.0
	for i, tc := range vaeStepGemms {
		a, bm := gemmOperands(rnd, tc.transA, tc.transB, tc.m, tc.k, tc.n)
		ops[i] = op{a, bm, New(tc.m, tc.n)}
		flop += 2 * float64(tc.m) * float64(tc.n) * float64(tc.k)
	}
	step := func() {
		for i, tc := range vaeStepGemms {
			Gemm(tc.transA, tc.transB, 1, ops[i].a, ops[i].b, 0, ops[i].c)
		}
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		step()
	}
	gflop := flop * float64(b.N) / 1e9
	b.ReportMetric(gflop/b.Elapsed().Seconds(), "GFLOP/s")
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(gflop/cpu, "GFLOP/cpu-s")
	}
}
