//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// wgAsm reports whether the AVX2 transforms of winograd_amd64.s run (else the
// Go loops alone). Tests switch it to compare the two.
var wgAsm = cpu.X86.HasAVX2

//go:noescape
func wgBTx8(o0, o1, o2, o3, a, b, c, d *float32, n int)

//go:noescape
func wgBx8(o0, o1, o2, o3, a, b, c, d *float32, n int)

//go:noescape
func wgBAddx8(o0, o1, o2, o3, a, b, c, d *float32, n int)

//go:noescape
func wgAx8(o0, o1, o2, o3, a, b *float32, n int)

//go:noescape
func wgATx8(o0, o1, a, b, c, d, bias *float32, n int)
