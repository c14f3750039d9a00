//go:build !purego

package nn

import (
	"github.com/latent-ml/latent/tensor"
	"golang.org/x/sys/cpu"
)

// colSumAsm reports whether colsum_amd64.s's kernels can run (AVX2).
var colSumAsm = cpu.X86.HasAVX2

// colSumAsm512 reports whether colSum32x16 runs in place of colSum32: on CPUs
// with AVX-512F where the GEMM's kernel is avx512 too (LATENT_KERNEL=avx2 keeps
// the AVX2 kernel). The bits are the same either way.
var colSumAsm512 = cpu.X86.HasAVX512F && tensor.GemmKernel() == "avx512"

//go:noescape
func colSum32(acc *float64, m *float32, rows, stride int)

//go:noescape
func colSum32x16(acc *float64, m *float32, rows, stride int)

//go:noescape
func colSum8(acc *float64, m *float32, rows, stride int)
