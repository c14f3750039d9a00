package tensor

import "fmt"

// Gemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ as chosen by
// transA and transB. C must not alias A or B. It panics on mismatched shapes.
// When beta == 0, C's previous contents are ignored (NaNs in C do not propagate).
func Gemm(transA, transB bool, alpha float32, a, b *Mat, beta float32, c *Mat) {
	m, k := a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if transB {
		kb, n = n, kb
	}
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("tensor: Gemm: op(A) %d×%d, op(B) %d×%d, C %d×%d", m, k, kb, n, c.Rows, c.Cols))
	}
	gemmRef(transA, transB, alpha, a, b, beta, c)
}

// gemmRef is the plain triple loop; it is the portable fallback and the test oracle's
// float32 twin. Replaced on the hot path by the packed, blocked driver.
func gemmRef(transA, transB bool, alpha float32, a, b *Mat, beta float32, c *Mat) {
	m, n := c.Rows, c.Cols
	k := a.Cols
	if transA {
		k = a.Rows
	}
	for i := 0; i < m; i++ {
		cr := c.Row(i)
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a.Data[p*a.Stride+i]
				} else {
					av = a.Data[i*a.Stride+p]
				}
				if transB {
					bv = b.Data[j*b.Stride+p]
				} else {
					bv = b.Data[p*b.Stride+j]
				}
				s += av * bv
			}
			if beta == 0 {
				cr[j] = alpha * s
			} else {
				cr[j] = alpha*s + beta*cr[j]
			}
		}
	}
}
