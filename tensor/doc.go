// Package tensor provides float32 row-major matrices, a blocked GEMM, fused
// element-wise kernels and a deterministic worker pool: the numeric core that every
// model in latent runs on.
//
// A Mat is a view onto a []float32 with a row stride, so row ranges are taken
// without copying. Shape errors are caller bugs and panic with a "tensor:" prefix.
//
// # What is fast, and where
//
// Gemm (float32) and Gemm64 are packing GEMMs with assembly micro-kernels generated
// by avo; the element-wise kernels (Sigmoid, SigmoidBernoulli, Exp, Log, Softplus,
// LogSigmoid, Tanh, ReLU, and the Adam update AdamUpdate) have assembly versions
// too. The path is chosen once at start-up from the CPU and reported by GemmKernel
// and ElemKernel:
//
//   - avx512 (AVX-512F CPUs: Intel Skylake-SP and later Xeons, AMD Zen 4/5): Gemm at
//     about 220-240 GFLOP/s per core on the model shapes;
//   - avx2 (AVX2+FMA CPUs): about half of that;
//   - generic (anything else, non-amd64, or the purego build tag): pure Go, about 25×
//     slower for Gemm and 10-40× for the element-wise kernels; fine for tests and
//     small models, not for MNIST-scale training.
//
// The environment variable LATENT_KERNEL=generic|avx2|avx512 forces a path (one the
// CPU lacks falls back to the best it has), so the tests can run every path.
// See the doc comments of Gemm and of elem.go for measured figures and error bounds.
//
// # Determinism
//
// Results never depend on the number of workers: work is split into pieces whose
// boundaries depend only on the shapes, each output element is computed by exactly
// one piece in a fixed order, and random draws come from streams derived from the
// piece index. Same seed, same bits, whatever GOMAXPROCS or SetWorkers says.
package tensor
