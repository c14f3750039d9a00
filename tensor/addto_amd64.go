//go:build !purego

package tensor

import "golang.org/x/sys/cpu"

var haveAddTo = cpu.X86.HasAVX2

// addVec sets dst = a + b for n float32 (a multiple of 8) with AVX2; dst may be
// a or b.
//
//go:noescape
func addVec(dst, a, b *float32, n int)
