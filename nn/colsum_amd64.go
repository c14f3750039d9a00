//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// colSumAsm reports whether colsum_amd64.s's kernels can run (AVX2).
var colSumAsm = cpu.X86.HasAVX2

//go:noescape
func colSum32(acc *float64, m *float32, rows, stride int)

//go:noescape
func colSum8(acc *float64, m *float32, rows, stride int)
