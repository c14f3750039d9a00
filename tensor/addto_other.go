//go:build !amd64 || purego

package tensor

const haveAddTo = false

func addToVec(dst, src *float32, n int) { panic("tensor: addToVec without AVX2") }

func addVec(dst, a, b *float32, n int) { panic("tensor: addVec without AVX2") }
