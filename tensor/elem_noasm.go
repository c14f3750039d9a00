//go:build !amd64 || purego

package tensor

import "os"

// elemPaths lists the kernel sets this CPU can run, best first.
func elemPaths() []*elemKernels { return []*elemKernels{&genericElem} }

func init() { elemImpl = chooseElem(os.Getenv("LATENT_KERNEL")) }

func kernelUnary(_ int, op unaryOp, dst, x []float32) { unaryGeneric(op, dst, x) }

func kernelSigmoidBias(_ int, dst, x, b []float32) { sigmoidBiasGeneric(dst, x, b) }

func kernelReLUGrad(_ int, dst, y, dy []float32) { reluGradGeneric(dst, y, dy) }

func kernelLeakyGrad(_ int, dst, x, dy []float32, slope float32) { leakyGradGeneric(dst, x, dy, slope) }

func kernelSiLUGrad(_ int, dst, x, y, dy []float32) { siluGradGeneric(dst, x, y, dy) }

func kernelSiLUSig(_ int, dst, s, x []float32) { siluSigGeneric(dst, s, x) }

func kernelSiLUGradSig(_ int, dst, s, y, dy []float32) { siluGradSigGeneric(dst, s, y, dy) }

func kernelSigmoidBernoulli(_ int, prob, sample, x, b, u []float32) {
	sigmoidBernoulliGeneric(prob, sample, x, b, u)
}

func kernelBernoulli(_ int, sample, p, u []float32) { bernoulliGeneric(sample, p, u) }

func kernelMax(_ int, x []float32) float32 { return maxGeneric(x) }

func kernelExpSum(_ int, x []float32, shift float32) float64 { return expSumGeneric(x, shift) }

func kernelUniformLanes(_ int, st *[32]uint64, dst []float32) { uniformLanesGeneric(st, dst) }

func kernelSpMMRow(_ int, dst, b []float32, stride int, idx []int32, val []float32, alpha, beta float32, accum int) {
	spmmRowGeneric(dst, b, stride, idx, val, alpha, beta, accum)
}

func kernelCompress(_ int, idx []int32, val, x []float32) int { return compressGeneric(idx, val, x) }

func kernelAdam(_ int, m, v, w, g []float32, b1, c1, b2, c2, step, isq, eps float32) {
	adamGeneric(m, v, w, g, b1, c1, b2, c2, step, isq, eps)
}
