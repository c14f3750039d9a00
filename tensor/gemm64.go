package tensor

import "fmt"

// Gemm64 computes C = alpha·op(A)·op(B) + beta·C in float64, for sums that decide a
// reported figure (AIS weights, EM sufficient statistics). Matrices are row-major
// slices with a leading dimension, BLAS style: op(A) is m×k, op(B) is k×n and C is
// m×n; element (i, j) of the stored A is a[i*lda+j], and A is stored m×k, or k×m
// when transA is set (likewise B). A gonum *mat.Dense d gives these through
// d.RawMatrix(): Data, Stride.
//
// It runs the same packing driver as Gemm, with 14×16 (avx512), 6×8 (avx2) or 4×4
// (generic) float64 tiles: about half Gemm's speed, as a vector holds half as many
// elements. When beta == 0, C's previous contents are ignored. C must not alias A or
// B. It panics on negative sizes, a leading dimension smaller than a row, or a slice
// too short for its matrix.
func Gemm64(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("tensor: Gemm64: negative size m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	gemmCheck64("A", ar, ac, lda, len(a))
	gemmCheck64("B", br, bc, ldb, len(b))
	gemmCheck64("C", m, n, ldc, len(c))
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		gemmScale(c, m, n, ldc, beta)
		return
	}
	r := gemmRuns64.get()
	r.ker, r.pool = gemmKernel64(), &gemmScratch64
	r.packFn, r.computeFn = gemmPackShared64, gemmCompute64
	r.m, r.n, r.k = m, n, k
	r.alpha, r.beta = alpha, beta
	r.a = gemmOp[float64]{data: a, ld: lda, trans: transA}
	r.b = gemmOp[float64]{data: b, ld: ldb, trans: transB}
	r.c, r.ldc = c, ldc
	r.exec()
	gemmRuns64.put(r)
}

func gemmCheck64(name string, rows, cols, ld, n int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("tensor: Gemm64: %s leading dimension %d < %d cols", name, ld, cols))
	}
	if need := (rows-1)*ld + cols; n < need {
		panic(fmt.Sprintf("tensor: Gemm64: %s length %d < %d needed for %d×%d with ld %d",
			name, n, need, rows, cols, ld))
	}
}
