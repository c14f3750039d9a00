package tensor

import "sync"

// A weight gradient of a convolution with few weights, C = Aᵀ·B with C small
// (9×32 for a 1-channel 3×3 layer with 32 outputs) and K the batch's positions
// (100,352 at batch 128 on 28×28), has too few rows of C to split between
// workers: each worker streams all of B for its rows, so a second worker doubles
// the memory traffic and gains nothing (c1's weight gradient ran slower at two
// threads than at one). Such products are cut along K instead, into a number of
// parts fixed by K alone (never by the workers): each part's product goes to
// its own slot, the parts in parallel, and C = alpha·(slot₀ + slot₁ + ...) +
// beta·C with the slots added in order, so the bits do not depend on the number
// of workers (they differ from the unsplit sum's by the grouping of its terms).

// gemmSplitKMaxMN, gemmSplitKMinK and gemmSplitKPart choose the products cut
// along K (op(A) = Aᵀ, op(B) = B, m·n at most gemmSplitKMaxMN, k at least
// gemmSplitKMinK) and the parts' length (k/gemmSplitKPart parts, at most 16).
// Variables so that tests can force the cut on small products.
var gemmSplitKMaxMN, gemmSplitKMinK, gemmSplitKPart = 4096, 8192, 4096

// gemmKParts returns how many parts a product is cut into along K (1: none).
func gemmKParts(transA, transB bool, m, n, k int) int {
	if !transA || transB || m*n > gemmSplitKMaxMN || k < gemmSplitKMinK {
		return 1
	}
	return min(16, max(1, k/gemmSplitKPart))
}

// gemmSplitJob is one cut product: the operands and the slots, parts × m·n.
type gemmSplitJob struct {
	a, b       Mat // copies, so that the caller's matrices do not escape
	alpha      float32
	m, n, k    int
	parts      int
	slots      []float32
	pa, pb, pc [16]Mat
}

var gemmSplitJobs = sync.Pool{New: func() any { return new(gemmSplitJob) }}

// gemmSplitPart computes part i: its slot = alpha·A[k0:k1]ᵀ·B[k0:k1].
func gemmSplitPart(ctx any, i int) {
	j := ctx.(*gemmSplitJob)
	k0, k1 := j.k*i/j.parts, j.k*(i+1)/j.parts
	j.pa[i] = Mat{Rows: k1 - k0, Cols: j.m, Stride: j.a.Stride, Data: j.a.Data[k0*j.a.Stride:]}
	j.pb[i] = Mat{Rows: k1 - k0, Cols: j.n, Stride: j.b.Stride, Data: j.b.Data[k0*j.b.Stride:]}
	j.pc[i] = Mat{Rows: j.m, Cols: j.n, Stride: j.n, Data: j.slots[i*j.m*j.n : (i+1)*j.m*j.n]}
	Gemm(true, false, j.alpha, &j.pa[i], &j.pb[i], 0, &j.pc[i])
}

// gemmSplitK computes C = alpha·Aᵀ·B + beta·C in parts along K (see above).
func gemmSplitK(alpha float32, a, b *Mat, beta float32, c *Mat, m, n, k, parts int) {
	j := gemmSplitJobs.Get().(*gemmSplitJob)
	j.a, j.b, j.alpha, j.m, j.n, j.k, j.parts = *a, *b, alpha, m, n, k, parts
	j.slots = BorrowScratch(parts * m * n)
	parallelDo(parts, Workers(), j, gemmSplitPart)
	for i := range m {
		cr := c.Data[i*c.Stride : i*c.Stride+n]
		for jj := range cr {
			s := j.slots[i*n+jj]
			for p := 1; p < parts; p++ {
				s += j.slots[p*m*n+i*n+jj]
			}
			if beta != 0 {
				s += beta * cr[jj]
			}
			cr[jj] = s
		}
	}
	ReturnScratch(j.slots)
	*j = gemmSplitJob{}
	gemmSplitJobs.Put(j)
}
