//go:build !purego

package tensor

//go:generate sh -c "cd internal/elemgen && go run . -out ../../elem_amd64.s -stubs ../../elem_stub_amd64.go -pkg tensor"

import (
	"os"

	"golang.org/x/sys/cpu"
)

var (
	avx512Elem = elemKernels{name: "avx512", isa: isaAVX512, width: 16}
	avx2Elem   = elemKernels{name: "avx2", isa: isaAVX2, width: 8}
)

// elemPaths lists the kernel sets this CPU can run, best first.
func elemPaths() []*elemKernels {
	var p []*elemKernels
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL {
		p = append(p, &avx512Elem)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		p = append(p, &avx2Elem)
	}
	return append(p, &genericElem)
}

func init() { elemImpl = chooseElem(os.Getenv("LATENT_KERNEL")) }

func kernelUnary(isa int, op unaryOp, dst, x []float32) {
	switch isa {
	case isaAVX512:
		switch op {
		case opExp:
			expAVX512(dst, x)
		case opSigmoid:
			sigmoidAVX512(dst, x)
		case opSoftplus:
			softplusAVX512(dst, x)
		case opLogSigmoid:
			logSigmoidAVX512(dst, x)
		case opReLU:
			reluAVX512(dst, x)
		case opTanh:
			tanhAVX512(dst, x)
		case opLog:
			logAVX512(dst, x)
		case opSiLU:
			siluAVX512(dst, x)
		}
	case isaAVX2:
		switch op {
		case opExp:
			expAVX2(dst, x)
		case opSigmoid:
			sigmoidAVX2(dst, x)
		case opSoftplus:
			softplusAVX2(dst, x)
		case opLogSigmoid:
			logSigmoidAVX2(dst, x)
		case opReLU:
			reluAVX2(dst, x)
		case opTanh:
			tanhAVX2(dst, x)
		case opLog:
			logAVX2(dst, x)
		case opSiLU:
			siluAVX2(dst, x)
		}
	default:
		unaryGeneric(op, dst, x)
	}
}

func kernelReLUGrad(isa int, dst, y, dy []float32) {
	switch isa {
	case isaAVX512:
		reluGradAVX512(dst, y, dy)
	case isaAVX2:
		reluGradAVX2(dst, y, dy)
	default:
		reluGradGeneric(dst, y, dy)
	}
}

func kernelLeakyGrad(isa int, dst, x, dy []float32, slope float32) {
	switch isa {
	case isaAVX512:
		leakyGradAVX512(dst, x, dy, slope)
	case isaAVX2:
		leakyGradAVX2(dst, x, dy, slope)
	default:
		leakyGradGeneric(dst, x, dy, slope)
	}
}

func kernelSiLUGrad(isa int, dst, x, y, dy []float32) {
	switch isa {
	case isaAVX512:
		siluGradAVX512(dst, x, y, dy)
	case isaAVX2:
		siluGradAVX2(dst, x, y, dy)
	default:
		siluGradGeneric(dst, x, y, dy)
	}
}

func kernelSiLUSig(isa int, dst, s, x []float32) {
	switch isa {
	case isaAVX512:
		siluSigAVX512(dst, s, x)
	case isaAVX2:
		siluSigAVX2(dst, s, x)
	default:
		siluSigGeneric(dst, s, x)
	}
}

func kernelSiLUGradSig(isa int, dst, s, y, dy []float32) {
	switch isa {
	case isaAVX512:
		siluGradSigAVX512(dst, s, y, dy)
	case isaAVX2:
		siluGradSigAVX2(dst, s, y, dy)
	default:
		siluGradSigGeneric(dst, s, y, dy)
	}
}

func kernelSigmoidBias(isa int, dst, x, b []float32) {
	switch isa {
	case isaAVX512:
		sigmoidBiasAVX512(dst, x, b)
	case isaAVX2:
		sigmoidBiasAVX2(dst, x, b)
	default:
		sigmoidBiasGeneric(dst, x, b)
	}
}

func kernelSigmoidBernoulli(isa int, prob, sample, x, b, u []float32) {
	switch isa {
	case isaAVX512:
		sigmoidBernoulliAVX512(prob, sample, x, b, u)
	case isaAVX2:
		sigmoidBernoulliAVX2(prob, sample, x, b, u)
	default:
		sigmoidBernoulliGeneric(prob, sample, x, b, u)
	}
}

func kernelBernoulli(isa int, sample, p, u []float32) {
	switch isa {
	case isaAVX512:
		bernoulliAVX512(sample, p, u)
	case isaAVX2:
		bernoulliAVX2(sample, p, u)
	default:
		bernoulliGeneric(sample, p, u)
	}
}

func kernelMax(isa int, x []float32) float32 {
	switch isa {
	case isaAVX512:
		return maxAVX512(x)
	case isaAVX2:
		return maxAVX2(x)
	}
	return maxGeneric(x)
}

func kernelExpSum(isa int, x []float32, shift float32) float64 {
	switch isa {
	case isaAVX512:
		return expSumAVX512(x, shift)
	case isaAVX2:
		return expSumAVX2(x, shift)
	}
	return expSumGeneric(x, shift)
}

func kernelUniformLanes(isa int, st *[32]uint64, dst []float32) {
	switch isa {
	case isaAVX512:
		uniformLanesAVX512(st, dst)
	case isaAVX2:
		uniformLanesAVX2(st, dst)
	default:
		uniformLanesGeneric(st, dst)
	}
}

func kernelSpMMRow(isa int, dst, b []float32, stride int, idx []int32, val []float32, alpha, beta float32, accum int) {
	switch isa {
	case isaAVX512:
		spmmRowAVX512(dst, b, stride, idx, val, alpha, beta, accum)
	case isaAVX2:
		spmmRowAVX2(dst, b, stride, idx, val, alpha, beta, accum)
	default:
		spmmRowGeneric(dst, b, stride, idx, val, alpha, beta, accum)
	}
}

func kernelCompress(isa int, idx []int32, val, x []float32) int {
	if isa == isaAVX512 {
		return compressAVX512(idx, val, x)
	}
	return compressGeneric(idx, val, x)
}

func kernelAdam(isa int, m, v, w, g []float32, b1, c1, b2, c2, step, isq, eps float32) {
	switch isa {
	case isaAVX512:
		adamAVX512(m, v, w, g, b1, c1, b2, c2, step, isq, eps)
	case isaAVX2:
		adamAVX2(m, v, w, g, b1, c1, b2, c2, step, isq, eps)
	default:
		adamGeneric(m, v, w, g, b1, c1, b2, c2, step, isq, eps)
	}
}
