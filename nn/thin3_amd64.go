//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// thinAsm reports whether the row kernels of thin3_amd64.s can run (AVX2 and
// FMA); without them the thin layers keep conv_thin.go's GEMM path.
var thinAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func thinDotRowx8(y, x0, x1, x2, w0, w1, w2 *float32, bias float32, l, c, n int)

//go:noescape
func thinScatterRowx8(dx, d0, d1, d2, v *float32, c, n int)

//go:noescape
func thinGradRowx8(acc, x, dy *float32, l, c, n int)
