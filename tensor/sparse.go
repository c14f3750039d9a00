package tensor

import (
	"fmt"
	"sync"
)

// CSR is a sparse matrix in compressed sparse row form: the nonzeros of row i are
// at columns ColIdx[k] with values Val[k] for k in [RowPtr[i], RowPtr[i+1]), in
// increasing column order. It is built from a dense Mat by FromDense (or from
// another CSR by Transpose), which reuse its buffers, so a CSR kept between calls
// makes a warm rebuild allocation-free. The fields are unexported so that every
// CSR is valid by construction (SpMM's assembly kernels rely on the indices being
// in range); read them with Row.
//
// A CSR pays off when a matrix is mostly zeros: SpMM does nnz·n multiply-adds
// where a dense Gemm does rows·cols·n, at a lower rate per multiply-add (the
// rows of B are gathered rather than packed): on one Zen 5 core, 50-85 GFLOP/s
// against Gemm's 220. On the RBM shapes (100×784 times 784×500, and 784×100
// times 100×500) the break-even is near 25-30% nonzeros, including the cost of
// FromDense and Transpose; see BenchmarkSpMM.
type CSR struct {
	rows, cols int
	rowPtr     []int32 // len rows+1
	colIdx     []int32
	val        []float32
	cnt        []int32 // scratch for Transpose
	// scratch for DiffRows and SplitTranspose
	dense  []float32
	bits   []uint64
	tmpIdx []int32
	tmpVal []float32
	aux    *CSR
}

// Rows returns the number of rows.
func (s *CSR) Rows() int { return s.rows }

// Cols returns the number of columns.
func (s *CSR) Cols() int { return s.cols }

// NNZ returns the number of stored nonzeros.
func (s *CSR) NNZ() int {
	if s.rows == 0 {
		return 0
	}
	return int(s.rowPtr[s.rows])
}

// Density returns NNZ/(Rows·Cols), the fraction of nonzero elements (0 for an
// empty matrix).
func (s *CSR) Density() float64 {
	if s.rows == 0 || s.cols == 0 {
		return 0
	}
	return float64(s.NNZ()) / (float64(s.rows) * float64(s.cols))
}

// Row returns the column indices and values of the nonzeros of row i, in
// increasing column order. The slices alias the CSR's storage.
func (s *CSR) Row(i int) (idx []int32, val []float32) {
	lo, hi := s.rowPtr[i], s.rowPtr[i+1]
	return s.colIdx[lo:hi:hi], s.val[lo:hi:hi]
}

// Reserve makes room for nnz nonzeros and rows rows, so that later builds of up to
// that size (by FromDense of a matrix with at most nnz elements, or by Transpose)
// do not allocate.
func (s *CSR) Reserve(rows, nnz int) {
	if cap(s.colIdx) < nnz {
		s.colIdx = make([]int32, nnz)
		s.val = make([]float32, nnz)
	}
	if cap(s.rowPtr) < rows+1 {
		s.rowPtr = make([]int32, rows+1)
	}
	if cap(s.cnt) < rows {
		s.cnt = make([]int32, rows)
	}
}

// grow returns b resliced to n elements, or a new slice when its capacity is short.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// FromDense sets s to the nonzeros of a (transpose false) or of aᵀ (transpose
// true) and returns s. Elements equal to zero (either sign) are dropped; NaNs are
// kept. a may be a view (Stride > Cols). It panics if a has more than 2³¹−1
// elements.
func (s *CSR) FromDense(a *Mat, transpose bool) *CSR {
	if int64(a.Rows)*int64(a.Cols) > 1<<31-1 {
		panic(fmt.Sprintf("tensor: CSR.FromDense: %d×%d is too large", a.Rows, a.Cols))
	}
	if transpose {
		// Count per column, then fill scanning a's rows in order, so each row of
		// aᵀ lists a's row indices in increasing order.
		s.rows, s.cols = a.Cols, a.Rows
		s.rowPtr = grow(s.rowPtr, s.rows+1)
		cnt := grow(s.cnt, s.rows)
		s.cnt = cnt
		clear(cnt)
		for i := 0; i < a.Rows; i++ {
			for j, x := range a.Row(i) {
				if x != 0 {
					cnt[j]++
				}
			}
		}
		s.fillPtr(cnt)
		for i := 0; i < a.Rows; i++ {
			for j, x := range a.Row(i) {
				if x != 0 {
					p := cnt[j]
					s.colIdx[p], s.val[p] = int32(i), x
					cnt[j]++
				}
			}
		}
		return s
	}
	s.rows, s.cols = a.Rows, a.Cols
	s.rowPtr = grow(s.rowPtr, s.rows+1)
	// Room for a dense row past the nonzeros so far: the row is compressed in
	// place (AVX-512: VCOMPRESSPS; else a branch-free loop).
	nnz := 0
	s.rowPtr[0] = 0
	if s.cols > 0 {
		s.colIdx = grow(s.colIdx, max(cap(s.colIdx), s.cols))
		s.val = grow(s.val, max(cap(s.val), s.cols))
	}
	for i := 0; i < a.Rows; i++ {
		row := a.Row(i)
		if need := nnz + len(row); need > len(s.colIdx) {
			n := max(need, 2*len(s.colIdx))
			s.colIdx = append(s.colIdx[:nnz], make([]int32, n-nnz)...)
			s.val = append(s.val[:nnz], make([]float32, n-nnz)...)
		}
		n := kernelCompress(elemImpl.isa, s.colIdx[nnz:nnz+len(row)], s.val[nnz:nnz+len(row)], row)
		nnz += n
		s.rowPtr[i+1] = int32(nnz)
	}
	return s
}

// compressGeneric writes the nonzeros of x (x != 0, NaN included) and their
// positions to val and idx (each at least len(x) long) and returns their number.
// The fill is branch-free: every element is written at position n, and n
// advances on nonzeros only.
func compressGeneric(idx []int32, val, x []float32) int {
	idx, val = idx[:len(x)], val[:len(x)]
	n := 0
	for j, v := range x {
		idx[n], val[n] = int32(j), v
		if v != 0 {
			n++
		}
	}
	return n
}

// fillPtr sets rowPtr from the per-row counts cnt, sizes colIdx and val, and
// leaves cnt[i] = rowPtr[i] (the next free slot of row i).
func (s *CSR) fillPtr(cnt []int32) {
	var sum int32
	for i, c := range cnt {
		s.rowPtr[i] = sum
		cnt[i] = sum
		sum += c
	}
	s.rowPtr[len(cnt)] = sum
	s.colIdx = grow(s.colIdx, int(sum))
	s.val = grow(s.val, int(sum))
}

// Transpose sets s to srcᵀ and returns s. s must not be src. It costs
// O(NNZ + Rows + Cols), much less than FromDense(a, true) on a sparse a.
func (s *CSR) Transpose(src *CSR) *CSR {
	if s == src {
		panic("tensor: CSR.Transpose: s and src are the same CSR")
	}
	s.rows, s.cols = src.cols, src.rows
	s.rowPtr = grow(s.rowPtr, s.rows+1)
	cnt := grow(s.cnt, s.rows)
	s.cnt = cnt
	clear(cnt)
	nnz := src.NNZ()
	for _, j := range src.colIdx[:nnz] {
		cnt[j]++
	}
	s.fillPtr(cnt)
	for i := 0; i < src.rows; i++ {
		idx, val := src.Row(i)
		for k, j := range idx {
			p := cnt[j]
			s.colIdx[p], s.val[p] = int32(i), val[k]
			cnt[j]++
		}
	}
	return s
}

// GatherRows sets s to the rows rows[0], rows[1], … of src, in that order, and
// returns s: the sparse form of a mini-batch drawn from a data set kept as a CSR,
// identical to FromDense of the gathered dense rows. s must not be src. It panics
// if a row index is out of range.
func (s *CSR) GatherRows(src *CSR, rows []int) *CSR {
	if s == src {
		panic("tensor: CSR.GatherRows: s and src are the same CSR")
	}
	s.rows, s.cols = len(rows), src.cols
	s.rowPtr = grow(s.rowPtr, s.rows+1)
	nnz := 0
	for i, r := range rows {
		if r < 0 || r >= src.rows {
			panic(fmt.Sprintf("tensor: CSR.GatherRows: row %d of %d", r, src.rows))
		}
		s.rowPtr[i] = int32(nnz)
		nnz += int(src.rowPtr[r+1] - src.rowPtr[r])
	}
	s.rowPtr[len(rows)] = int32(nnz)
	if cap(s.colIdx) < nnz {
		s.colIdx = make([]int32, nnz)
	}
	if cap(s.val) < nnz {
		s.val = make([]float32, nnz)
	}
	s.colIdx, s.val = s.colIdx[:cap(s.colIdx)], s.val[:cap(s.val)]
	for i, r := range rows {
		idx, val := src.Row(r)
		copy(s.colIdx[s.rowPtr[i]:], idx)
		copy(s.val[s.rowPtr[i]:], val)
	}
	return s
}

// SpMM computes C = alpha·A·B + beta·C for a sparse A (m×k) and dense B (k×n) and
// C (m×n):
//
//	C[i,j] = alpha·Σ_{p: A[i,p] ≠ 0} A[i,p]·B[p,j] + beta·C[i,j].
//
// When beta == 0, C's previous contents are ignored (NaNs in C do not
// propagate). C must not alias B. It panics on mismatched shapes.
//
// Row i of C is a sum of the rows of B selected by row i of A, scaled by its
// values: the assembly kernels (AVX-512: 128 columns in 8 zmm accumulators at a
// time; AVX2: 64 in 8 ymm) gather those rows and run a fused multiply-add chain
// per element over A's nonzeros (the even-numbered and the odd-numbered ones in
// two accumulators, added at the end; AVX-512 takes the last n mod 16 columns
// under a lane mask); on AVX2 the last n mod 8 columns, and every column on the
// generic path (LATENT_KERNEL=generic, non-amd64, purego), take the plain sum in
// increasing order in Go, without fusion. Rows of C are split
// between Workers() goroutines in fixed pieces, each row computed by one worker,
// so results do not depend on the number of workers; they differ from Gemm's in
// the last bits (another summation order), within |ΔC| ≤ nnz_i·ε·|alpha|·Σ|a||b|.
// A warm call does not allocate.
func SpMM(alpha float32, a *CSR, b *Mat, beta float32, c *Mat) {
	if a.cols != b.Rows || c.Rows != a.rows || c.Cols != b.Cols {
		panic(fmt.Sprintf("tensor: SpMM: A %d×%d, B %d×%d, C %d×%d", a.rows, a.cols, b.Rows, b.Cols, c.Rows, c.Cols))
	}
	spmmCheck("B", b)
	spmmCheck("C", c)
	if c.Rows == 0 || c.Cols == 0 {
		return
	}
	r := spmmPool.Get().(*spmmRun)
	r.alpha, r.beta, r.a, r.b, r.c = alpha, beta, a, b, c
	// At most spmmPieces pieces of at least 2¹⁶ multiply-adds, fixed by the
	// shapes: large enough that a piece sweeps each slab of B over many rows.
	work := (a.NNZ() + a.rows) * c.Cols
	pieces := max(1, min(spmmPieces, work>>16))
	r.grain = (a.rows + pieces - 1) / pieces
	pieces = (a.rows + r.grain - 1) / r.grain
	if work < 1<<17 {
		for p := 0; p < pieces; p++ {
			spmmPiece(r, p)
		}
	} else {
		parallelDo(pieces, pieces, r, spmmPiece)
	}
	r.a, r.b, r.c = nil, nil, nil
	spmmPool.Put(r)
}

type spmmRun struct {
	alpha, beta float32
	a           *CSR
	b, c        *Mat
	grain       int
}

var spmmPool = sync.Pool{New: func() any { return new(spmmRun) }}

func spmmPiece(ctx any, p int) {
	r := ctx.(*spmmRun)
	lo := p * r.grain
	hi := min(lo+r.grain, r.a.rows)
	isa, w := elemImpl.isa, elemImpl.width
	n := r.c.Cols
	nv := n - n%w // columns for the assembly kernel
	if isa == isaAVX512 {
		nv = n // masked tail
	}
	bd := r.b.Data
	accum := 0
	if r.beta != 0 {
		accum = 1
	}
	stride := r.b.Stride
	for i := lo; i < hi; i++ {
		if r.a.rowPtr[i] == r.a.rowPtr[i+1] {
			dst := r.c.Row(i)
			switch r.beta {
			case 1:
			case 0:
				clear(dst)
			default:
				for j := range dst {
					dst[j] *= r.beta
				}
			}
		}
	}
	// Column slabs of B outer, rows inner, so that the slab (k×spmmSlab) stays in
	// cache while the rows of the piece gather from it.
	for j0 := 0; j0 < n; j0 += spmmSlab {
		j1 := min(j0+spmmSlab, n)
		jv := min(j1, nv)
		for i := lo; i < hi; i++ {
			idx, val := r.a.Row(i)
			if len(idx) == 0 {
				continue
			}
			dst := r.c.Row(i)
			if jv > j0 {
				kernelSpMMRow(isa, dst[j0:jv], bd[j0:], stride, idx, val, r.alpha, r.beta, accum)
			}
			if jv < j1 {
				spmmRowGeneric(dst[jv:j1], bd[jv:], stride, idx, val, r.alpha, r.beta, accum)
			}
		}
	}
}

// spmmSlab is the number of columns of B swept per pass over a piece's rows: 512
// float32 (2 KB) per row of B. On the RBM shapes (B of 200-784 rows of 500 columns,
// which fit in a 1 MB L2 whole) one pass over full rows was fastest: 13% faster than
// 128-column slabs for 784×200 times 200×500, level for 100×784 times 784×500.
const spmmSlab = 512

// spmmPieces caps the number of parallel pieces of a product.
const spmmPieces = 8

// spmmRowGeneric is the pure-Go spmmRow: dst[j] = alpha·Σ_k val[k]·b[idx[k]·stride
// + j] (+ beta·dst[j] when accum != 0), any len(dst), in blocks of 64 columns held
// in a local array. Products are rounded before they are added (no fusion).
func spmmRowGeneric(dst, b []float32, stride int, idx []int32, val []float32, alpha, beta float32, accum int) {
	var acc [64]float32
	for j0 := 0; j0 < len(dst); j0 += len(acc) {
		w := min(len(acc), len(dst)-j0)
		s := acc[:w]
		clear(s)
		for k, p := range idx {
			v := val[k]
			off := int(p)*stride + j0
			row := b[off : off+w]
			for j, x := range row {
				s[j] += float32(v * x)
			}
		}
		d := dst[j0 : j0+w]
		if accum != 0 {
			for j, x := range s {
				d[j] = float32(alpha*x) + float32(beta*d[j])
			}
		} else {
			for j, x := range s {
				d[j] = alpha * x
			}
		}
	}
}

func spmmCheck(name string, m *Mat) {
	if m.Rows == 0 || m.Cols == 0 {
		return
	}
	if m.Stride < m.Cols || len(m.Data) < (m.Rows-1)*m.Stride+m.Cols {
		panic(fmt.Sprintf("tensor: SpMM: %s is %d×%d with stride %d but holds %d elements", name, m.Rows, m.Cols, m.Stride, len(m.Data)))
	}
}
