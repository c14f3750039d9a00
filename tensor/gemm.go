package tensor

import (
	"fmt"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ as chosen by
// transA and transB. C must not alias A or B. It panics on mismatched shapes.
// When beta == 0, C's previous contents are ignored (NaNs in C do not propagate).
//
// # Performance
//
// Gemm is a packing GEMM in the style of BLIS (Goto & van de Geijn, "Anatomy of
// high-performance matrix multiplication", ACM TOMS 34(3), 2008): op(A) and op(B)
// are copied into cache-sized panels (which is where the transposes are absorbed)
// and an assembly micro-kernel keeps a tile of C in vector registers over a block
// of K. The micro-kernels are generated with avo (tensor/internal/asmgen) and
// chosen once, at start-up, from the CPU (see GemmKernel):
//
//   - avx512: CPUs with AVX-512F (Intel Skylake-SP and later Xeons, Ice Lake and
//     later, AMD Zen 4 and Zen 5): a 14×32 tile in 28 zmm accumulators, with
//     AVX-512 packing (16×16 transposes in registers). On one AMD Zen 5 core it
//     runs at 220-240 GFLOP/s on the model shapes (100-1000 × 784 × 400-500,
//     any transposes), about 90% of the core's peak and about twice OpenBLAS
//     0.3.21, which uses its AVX2 "Haswell" kernels there (113 GFLOP/s).
//   - avx2: CPUs with AVX2 and FMA (Intel Haswell to Comet Lake, AMD Zen 1-3): a
//     6×16 tile in 12 ymm accumulators, with 8×8 register transposes for
//     packing. 118-127 GFLOP/s on a Zen 5 core, a little above OpenBLAS's AVX2
//     kernels on the same core.
//   - generic: every other CPU, non-amd64 platforms, and builds with the purego
//     tag: a 4×4 tile in scalar Go. About 8.5 GFLOP/s on a Zen 5 core, 25 times
//     slower than avx512: usable for tests and small models, not for training on
//     MNIST-scale data.
//
// Small products cost little beyond their arithmetic: a 1×1×1 Gemm takes about
// 0.15 µs, a 64×64×64 one 2.7 µs. A product with a single row (a batch of one) is
// memory-bound and runs at about 20 GFLOP/s.
//
// Work is spread over Workers() goroutines of a persistent pool when the product
// has at least half a million multiply-adds. The smaller operand is packed once and
// shared; each worker owns disjoint ranges of rows (or columns) of C and K is
// never split between workers, so every element of C is the same sequence of
// floating-point operations and the result is bit-for-bit the same for any
// number of workers. (Aᵀ·B with a small C and a long K is cut along K into parts
// fixed by K alone, summed in order: gemm_splitk.go.) Results do depend on the kernel (the K sum is blocked and
// fused differently), within the usual float32 bound |ΔC| ≤ k·ε·|alpha|·Σ|a||b|.
// Packing buffers are kept between calls: a warm call does not allocate.
func Gemm(transA, transB bool, alpha float32, a, b *Mat, beta float32, c *Mat) {
	m, k := opShape(a, transA)
	kb, n := opShape(b, transB)
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("tensor: Gemm: op(A) %d×%d, op(B) %d×%d, C %d×%d", m, k, kb, n, c.Rows, c.Cols))
	}
	gemmCheck("B", b.Rows, b.Cols, b.Stride, len(b.Data))
	if parts := gemmKParts(transA, transB, m, n, k); parts > 1 && alpha != 0 {
		gemmCheck("A", a.Rows, a.Cols, a.Stride, len(a.Data))
		gemmCheck("C", c.Rows, c.Cols, c.Stride, len(c.Data))
		gemmSplitK(alpha, a, b, beta, c, m, n, k, parts)
		return
	}
	gemmFinish32(gemmStart32(transA, alpha, a, beta, c, m, n, k, gemmKernel32()), b, transB)
}

// gemmFinish32 runs r (nil: nothing to do) with op(B) = op(b) and recycles it.
func gemmFinish32(r *gemmRun[float32], b *Mat, transB bool) {
	if r == nil {
		return
	}
	r.b = gemmOp[float32]{data: b.Data, ld: b.Stride, trans: transB}
	r.exec()
	gemmRuns32.put(r)
}

// gemmCheck panics unless a rows×cols matrix with the given stride fits in n
// elements. The kernels write through raw pointers, so this is what keeps them in
// bounds.
func gemmCheck(name string, rows, cols, stride, n int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("tensor: Gemm: %s has negative shape %d×%d", name, rows, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if stride < cols {
		panic(fmt.Sprintf("tensor: Gemm: %s stride %d < %d cols", name, stride, cols))
	}
	if need := (rows-1)*stride + cols; n < need {
		panic(fmt.Sprintf("tensor: Gemm: %s data length %d < %d needed for %d×%d with stride %d",
			name, n, need, rows, cols, stride))
	}
}

// gemmScale sets C = beta·C (C = 0 when beta == 0, NaNs included).
func gemmScale[T gemmFloat](c []T, m, n, ldc int, beta T) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		if beta == 1 {
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemmRef is the plain triple loop, kept as a float32 oracle for tests.
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

// gemmStart32 checks A and C and handles the products with nothing to multiply
// (returning nil); otherwise it returns a run from the cache set up for C =
// alpha·op(A)·op(B) + beta·C with kernel ker, B still to be set.
func gemmStart32(transA bool, alpha float32, a *Mat, beta float32, c *Mat, m, n, k int, ker *gemmKernel[float32]) *gemmRun[float32] {
	gemmCheck("A", a.Rows, a.Cols, a.Stride, len(a.Data))
	return gemmStartChecked32(transA, alpha, a, beta, c, m, n, k, ker)
}

// gemmStartChecked32 is gemmStart32 for an A already checked by the caller.
func gemmStartChecked32(transA bool, alpha float32, a *Mat, beta float32, c *Mat, m, n, k int, ker *gemmKernel[float32]) *gemmRun[float32] {
	gemmCheck("C", c.Rows, c.Cols, c.Stride, len(c.Data))
	if m == 0 || n == 0 {
		return nil
	}
	if k == 0 || alpha == 0 {
		gemmScale(c.Data, m, n, c.Stride, beta)
		return nil
	}
	r := gemmRuns32.get()
	r.ker, r.pool = ker, &gemmScratch32
	r.packFn, r.computeFn, r.stridedFn = gemmPackShared32, gemmCompute32, gemmStrided32
	r.m, r.n, r.k = m, n, k
	r.alpha, r.beta = alpha, beta
	r.a = gemmOp[float32]{data: a.Data, ld: a.Stride, trans: transA}
	r.c, r.ldc = c.Data, c.Stride
	return r
}
