package tensor

import "fmt"

// PackedB is op(B) packed once for the micro-kernels, for several products
// op(A)·op(B) with the same B: a convolution multiplies its weights by one block
// of patches at a time, and Gemm would pack the weights again for every block.
// The zero value is ready for PackB, which reuses its storage.
type PackedB struct {
	k, n int
	ker  *gemmKernel[float32]
	data []float32
	op   gemmOp[float32] // B while PackB runs (a field, so that it does not escape)
}

// PackB packs op(B) (k×n; transB chooses Bᵀ) into p for GemmPacked. p holds a
// copy: later changes to b do not reach it.
func PackB(p *PackedB, transB bool, b *Mat) {
	k, n := b.Rows, b.Cols
	if transB {
		k, n = n, k
	}
	gemmCheck("B", b.Rows, b.Cols, b.Stride, len(b.Data))
	ker := gemmKernel32()
	p.k, p.n, p.ker = k, n, ker
	panels := (n + ker.nr - 1) / ker.nr
	p.data = gemmGrow(p.data, panels*ker.nr*k)
	if k == 0 || n == 0 {
		return
	}
	// The layout of Gemm's shared B (gemmPackSharedPiece): K block by K block,
	// the panels of each back to back.
	p.op = gemmOp[float32]{data: b.Data, ld: b.Stride, trans: transB}
	defer func() { p.op = gemmOp[float32]{} }()
	nb := (k + ker.kc - 1) / ker.kc // gemmRun.kBlocks
	kc := (k + nb - 1) / nb
	chPad := panels * ker.nr
	for blk := 0; blk < nb; blk++ {
		p0 := blk * kc
		kcb := min(kc, k-p0)
		for q := 0; q < panels; q++ {
			ker.packB(p.data[p0*chPad+q*kcb*ker.nr:], &p.op, ker.nr, q*ker.nr, min(ker.nr, n-q*ker.nr), p0, kcb)
		}
	}
}

// GemmPacked computes C = alpha·op(A)·B + beta·C with B packed by PackB; it gives
// the bits of Gemm with the same operands. It panics on mismatched shapes, or
// if the micro-kernels changed since PackB (SetGemmKernel in tests).
func GemmPacked(transA bool, alpha float32, a *Mat, p *PackedB, beta float32, c *Mat) {
	gemmPacked("GemmPacked", transA, false, alpha, a, p, beta, c)
}

// GemmPackedRows is GemmPacked(false, alpha, a, p, beta, c) for an A whose rows
// may overlap: row i is a.Data[i·a.Stride : i·a.Stride+a.Cols] with any stride
// of at least 1, even below a.Cols (A is only read). A convolution's patches
// are such a matrix: along an output row, the patch row under kernel row ky is
// one run of K·InC values of the (padded) input image, Stride·InC further on
// for each output pixel, so its GEMM can read them where they lie instead of
// from an im2col copy. Same bits as GemmPacked on a copy of A.
func GemmPackedRows(alpha float32, a *Mat, p *PackedB, beta float32, c *Mat) {
	gemmPacked("GemmPackedRows", false, true, alpha, a, p, beta, c)
}

// gemmPacked is GemmPacked (overlap false) and GemmPackedRows (overlap true),
// name the one called.
func gemmPacked(name string, transA, overlap bool, alpha float32, a *Mat, p *PackedB, beta float32, c *Mat) {
	m, k := opShape(a, transA)
	if k != p.k || c.Rows != m || c.Cols != p.n {
		panic(fmt.Sprintf("tensor: %s: op(A) %d×%d, B %d×%d, C %d×%d", name, m, k, p.k, p.n, c.Rows, c.Cols))
	}
	if p.ker != gemmKernel32() {
		panic("tensor: " + name + ": B was packed for another micro-kernel")
	}
	if overlap {
		gemmCheckRows(name, "A", a)
	} else {
		gemmCheck("A", a.Rows, a.Cols, a.Stride, len(a.Data))
	}
	r := gemmStartChecked32(transA, alpha, a, beta, c, m, p.n, k, p.ker)
	if r == nil {
		return
	}
	r.execPacked(p.data)
	gemmRuns32.put(r)
}

// opShape returns the shape of op(m): m's, or its transpose's.
func opShape(m *Mat, trans bool) (rows, cols int) {
	if trans {
		return m.Cols, m.Rows
	}
	return m.Rows, m.Cols
}

// GemmOverlap is Gemm for operands whose rows may overlap, as GemmPackedRows
// reads them: row i of A (or B) at a.Data[i·a.Stride:], any stride of at least
// 1, below the row length too (A and B are only read). A convolution's patches
// are such a matrix in its padded image, and its weight gradients are products
// with them: Σ over output pixels of patchᵀ·dy (A the patches, transposed), or
// of a transposed convolution xᵀ·patch (B the patches of dy). The bits of Gemm
// on copies of A and B when Gemm does not split K (gemm_splitk.go); this never
// splits it.
func GemmOverlap(transA, transB bool, alpha float32, a, b *Mat, beta float32, c *Mat) {
	m, k := opShape(a, transA)
	kb, n := opShape(b, transB)
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("tensor: GemmOverlap: op(A) %d×%d, op(B) %d×%d, C %d×%d", m, k, kb, n, c.Rows, c.Cols))
	}
	gemmCheckRows("GemmOverlap", "A", a)
	gemmCheckRows("GemmOverlap", "B", b)
	gemmFinish32(gemmStartChecked32(transA, alpha, a, beta, c, m, n, k, gemmKernel32()), b, transB)
}

// gemmCheckRows panics (naming fn and the operand) unless m's rows, m.Stride ≥
// 1 apart and possibly overlapping, fit in m.Data.
func gemmCheckRows(fn, name string, m *Mat) {
	if m.Rows > 0 && m.Cols > 0 && (m.Stride < 1 || len(m.Data) < (m.Rows-1)*m.Stride+m.Cols) {
		panic(fmt.Sprintf("tensor: %s: %s %d×%d with stride %d needs %d values, has %d", fn, name, m.Rows, m.Cols, m.Stride, (m.Rows-1)*max(m.Stride, 0)+m.Cols, len(m.Data)))
	}
}
