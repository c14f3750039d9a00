//go:build !amd64 || purego

package tensor

const haveAddTo = false

func addVec(dst, a, b *float32, n int) { panic("tensor: addVec without AVX2") }
