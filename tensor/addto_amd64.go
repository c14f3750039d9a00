//go:build !purego

package tensor

import "golang.org/x/sys/cpu"

var haveAddTo = cpu.X86.HasAVX2

// addToVec adds n float32 (a multiple of 8) of src onto dst with AVX2.
//
//go:noescape
func addToVec(dst, src *float32, n int)
