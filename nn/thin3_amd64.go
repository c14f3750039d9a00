//go:build !purego

package nn

import (
	"github.com/latent-ml/latent/tensor"
	"golang.org/x/sys/cpu"
)

// thinAsm reports whether the row kernels of thin3_amd64.s can run (AVX2 and
// FMA); without them the thin layers keep conv_thin.go's GEMM path.
var thinAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func thinDotRowx8(y, x0, x1, x2, w0, w1, w2 *float32, bias float32, l, c, n int)

//go:noescape
func thinScatterRowx8(dx, d0, d1, d2, v *float32, c, n int)

//go:noescape
func thinGradRowx8(acc, x, dy *float32, l, c, n int)

// thinAsm512 reports whether the AVX-512F row kernels (x16) run where the
// channels allow: on CPUs with AVX-512F where the GEMM's kernel is avx512 too,
// so LATENT_KERNEL=avx2 keeps the AVX2 ones.
var thinAsm512 = cpu.X86.HasAVX512F && tensor.GemmKernel() == "avx512"

//go:noescape
func thinDot8x8(y, x, w *float32, bias float32, l, c, n, xrs, wrs, nr int)

//go:noescape
func thinDot8x16(y, x, w *float32, bias float32, l, c, n, xrs, wrs, nr int)

//go:noescape
func thinGrad3x16(acc, x0, x1, x2, dy *float32, c, n int)

//go:noescape
func thinScatter4x32(dx, d0, d1, d2, v *float32, c, n int)
