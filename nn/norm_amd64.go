//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// normAsm reports whether the AVX2 channel loops of norm_amd64.s run (else the
// Go loops alone). Tests switch it to compare the two.
var normAsm = cpu.X86.HasAVX2

//go:noescape
func chanSumx8(acc *float64, r *float32, c, c8, n int)

//go:noescape
func chanSumSqx8(acc, mean *float64, r *float32, c, c8, n int)

//go:noescape
func chanGradSumsx8(sb, sg *float64, dy, xh *float32, c, c8, n int)

//go:noescape
func chanNormalizex8(y, xh, x, mu, s, gam, bet *float32, c, c8, n int)

//go:noescape
func chanInputGradx8(dx, dy, xh, kc, a, b *float32, c, c8, n int)
