package tensor

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/latent-ml/latent/tensor/internal/kernel"
)

// This file is the packing GEMM driver shared by Gemm (float32) and Gemm64 (float64),
// in the style of Goto & van de Geijn (2008) and BLIS:
//
//	for each chunk of the shared operand       (A if m ≤ n, else B; packed once, by all workers)
//	  for each worker's piece of C              (a range of columns if A is shared, else of rows)
//	    for jc in steps of nc                   (B block kc×nc, L3)
//	      for pc in steps of kc                 (K blocks: fixed by K alone)
//	        for ic in steps of mc               (A block mc×kc, L2)
//	          for jr in steps of NR             (B sliver kc×NR, L1)
//	            for ir in steps of MR           (micro-kernel: MR×NR tile in registers)
//
// Every element of C is computed by exactly one micro-kernel call per K block, in
// increasing K order, with the same sequence of floating-point operations whichever
// worker runs it and however the rows and columns were split, so the result does not
// depend on the number of workers.

type gemmFloat interface{ ~float32 | ~float64 }

// gemmKernel describes one micro-kernel and the blocking that suits it.
type gemmKernel[T gemmFloat] struct {
	isa        kernel.ISA
	mr, nr     int // full tile
	kc, mc, nc int // largest blocks
	// tile computes the mr×nr (mr ≤ MR, nr ≤ NR) corner of a tile of C at c (row
	// stride ldc) from a packed MR×k panel a and a packed k×NR panel b:
	// C = alpha·a·b + beta·C, or C = alpha·a·b (C not read) when loadc == 0.
	tile func(mr, nr, k int, a, b, c *T, ldc int, alpha, beta T, loadc int)
	// packA and packB pack one panel (gemmPackA and gemmPackB, or faster versions
	// with the same results).
	packA func(dst []T, a *gemmOp[T], MR, i0, cnt, p0, kc int)
	packB func(dst []T, b *gemmOp[T], NR, j0, cnt, p0, kc int)
	// direct, where there is one, is tile reading A where it is stored (row r at
	// a + r·lda) instead of from a packed panel, with the same FMAs and so the
	// same results.
	direct func(mr, nr, k int, a, b, c *T, lda, ldc int, alpha, beta T, loadc int)
	// strided, where there is one, is tile reading a whole-width (NR) tile
	// from both operands where they are stored, A transposed (step p's values
	// at a + p·lda) and B not (its row at b + p·ldb), with the same FMAs.
	strided func(mr, k int, a, b, c *T, lda, ldb, ldc int, alpha, beta T, loadc int)
}

// gemmDirectMaxN and gemmDirectMaxK bound the products whose A, when not
// transposed and not shared, the kernels read as stored rather than packed: a
// packed A panel serves n/NR tiles of k steps each, too few at small n or k to
// repay the packing. On Zen 1 (BenchmarkGemmDirect) reading A as stored is
// 13-22% faster at n = 32 or k = 9 (the 32-channel Winograd planes, a 1-channel
// convolution's im2col) and 2-9% slower from n = 128 up. At n = 64 it was level
// in session 9; re-measured in session 14 (three rounds, one thread) it is
// 12-13% faster at k = 64 (6272×64×64: 34.4 against 30.3 GFLOP/s; 25088×64×64:
// 33.2 against 29.9) and level at k = 288 (29.0 against 29.4), and in the blocked
// convolutions, whose blocks of A sit in cache, c2's forward pass (k = 288) is 5%
// faster and the fused Winograd forward pass on c3 (k = 64) 4%. On Zen 5
// (session 23, BenchmarkGemmDirect, medians of 3) reading A as stored also wins
// at k ≤ 64 with wide n: the transposed convolutions' x·W, 25088×64×288 213 →
// 248 GFLOP/s at one thread and 426 → 482 at two, t2's blocks of 672×64×288 242
// → 252 and 467 → 473, 1000×64×500 level at one thread and 440 → 452 at two;
// level (±1%) on MLP shapes 128×20×400, 128×50×200, 128×64×512 and 64×32×1024.
// Variables so that tests can force either path.
var gemmDirectMaxN, gemmDirectMaxK = 64, 64

// gemmStridedMaxM, gemmStridedMaxN and gemmStridedMinK bound the products that
// read both operands where they are stored (kernel.strided): op(A) = Aᵀ and
// op(B) = B with n a multiple of NR and a long K, such as the weight gradients
// of convolutions (patchesᵀ·dy, Winograd's V_ξᵀ·dM_ξ), where each packed panel
// serves only a few tiles. On Zen 1 (BenchmarkGemmStrided, one thread) reading
// in place is 2-3.2× faster at m ≤ 32 (32×25088×32: 13.8 → 28.1 GFLOP/s;
// 9×100352×32: 6.5 → 21.0), 1.3-1.7× at m, n = 64-128, 1-4% at m = 256-784,
// n ≤ 400, and 17% slower at 1024×512×1024, whose 4 KiB row strides alias in
// L1. On Zen 5 (session 23, BenchmarkGemmStrided, medians of 3) reading in
// place also wins at k = 64-128, where the bound of 256 had packed: one thread
// 64×64×64 221 → 254 GFLOP/s, 32×128×32 190 → 237, 784×100×64 243 → 266,
// 1024×128×256 238 → 256, level at 256×128×256 and 500×128×256; two threads
// 64×128×64 108 → 307, 128×64×128 315 → 418, 784×100×64 414 → 483, and 4%
// slower at 256×128×256 (465 → 448). Such products are the weight gradients
// of Linear layers of 64-256 outputs at batch 64-255. Variables so that tests
// can force either path.
var gemmStridedMaxM, gemmStridedMaxN, gemmStridedMinK = 1024, 256, 64

// gemmInPlaceBMaxM bounds the products op(A)·B (B not transposed, A shared) whose
// full-width panels of B the strided kernels read where they are stored, with A
// packed as usual (a packed panel is Aᵀ with a row stride of MR): with few rows
// a packed panel of B serves only a few tiles, too few to repay its packing.
// BenchmarkGemmInPlaceB, Zen 1, one thread, medians of three (session 14):
// 100×784×500 32.1 → 34.2 GFLOP/s, 128×784×400 32.9 → 35.9, 128×400×784 33.5 →
// 36.5, 256×784×500 33.7 → 34.3, 512×784×1000 34.4 → 34.8; two threads
// likewise. A variable so that tests can force either path.
var gemmInPlaceBMaxM = 512

// gemmOp is one operand: element (i, j) of the stored matrix is data[i*ld+j]; when
// trans is set the operand used is its transpose.
type gemmOp[T gemmFloat] struct {
	data  []T
	ld    int
	trans bool
}

// gemmRun holds the arguments of one GEMM call and its shared packing buffer. Runs
// are recycled through a sync.Pool so that a warm call does not allocate.
type gemmRun[T gemmFloat] struct {
	ker         *gemmKernel[T]
	m, n, k     int
	alpha, beta T
	a, b        gemmOp[T]
	c           []T
	ldc         int

	shareA bool // A is packed once and shared; workers split the columns of C
	pieces int  // pieces of C per chunk
	// The current chunk of the shared operand: rows [ch0, ch0+chLen) of op(A) or
	// columns of op(B).
	ch0, chLen int
	shared     []T

	bufMu sync.Mutex
	bufs  []*gemmBuf[T] // the pieces' packing-buffer holders, kept for reuse
	pool  *gemmScratch[T]

	// The piece functions, instantiated once per type (a generic function used as a
	// value would allocate its closure on every call).
	packFn, computeFn, stridedFn func(ctx any, piece int)
}

var (
	gemmPackShared32, gemmCompute32, gemmStrided32 = gemmPackSharedPiece[float32], gemmComputePiece[float32], gemmStridedPiece[float32]
	gemmPackShared64, gemmCompute64                = gemmPackSharedPiece[float64], gemmComputePiece[float64]
)

type gemmBuf[T gemmFloat] struct{ p []T }

// gemmScratch keeps the packing buffers of every GEMM by size class (eight per
// doubling), shared by all runs: a run takes a buffer of its product's class
// for the call and gives it back. Runs are recycled between products of every
// shape, concurrently when GEMMs run inside parallel jobs (the blocked
// convolutions), so buffers owned by runs kept growing on warm steps whenever a
// run met a larger product than before; a class's buffers instead settle once a
// step has needed as many at once as it ever will. At most gemmScratchKeep are
// kept, the ones given back longest ago dropped first.
type gemmScratch[T gemmFloat] struct {
	mu    sync.Mutex
	free  [][]T
	used  []uint64
	clock uint64
}

const gemmScratchKeep = 96

var (
	gemmScratch32 gemmScratch[float32]
	gemmScratch64 gemmScratch[float64]
)

// BorrowScratch returns n float32s of scratch (64-byte aligned, contents
// unspecified) from the pool the GEMM packs into, for values that live only
// within one call (package nn's convolutions borrow their per-call buffers here).
// Give them back with ReturnScratch. A request takes a free buffer of its size
// class (eight per doubling) or a new one, never a larger buffer of another
// class, so a training step that borrows the same sizes every time stops
// allocating once its first steps have filled the pool.
func BorrowScratch(n int) []float32 { return gemmScratch32.get(n) }

// ReturnScratch gives back a buffer from BorrowScratch.
func ReturnScratch(b []float32) { gemmScratch32.put(b) }

// gemmClass rounds n up to its size class.
func gemmClass(n int) int {
	if n <= 64 {
		return 64
	}
	step := 1 << (bits.Len(uint(n)) - 4)
	return (n + step - 1) / step * step
}

// get returns n elements of a 64-byte aligned buffer of n's class.
func (p *gemmScratch[T]) get(n int) []T {
	c := gemmClass(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, f := range p.free {
		if cap(f) == c {
			p.remove(i)
			return f[:n]
		}
	}
	return gemmAlignedSlice[T](c)[:n]
}

// put gives back a buffer from get.
func (p *gemmScratch[T]) put(b []T) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clock++
	p.free = append(p.free, b[:cap(b)])
	p.used = append(p.used, p.clock)
	if len(p.free) > gemmScratchKeep {
		old := 0
		for i, u := range p.used {
			if u < p.used[old] {
				old = i
			}
		}
		p.remove(old)
	}
}

func (p *gemmScratch[T]) remove(i int) {
	last := len(p.free) - 1
	p.free[i], p.used[i] = p.free[last], p.used[last]
	p.free[last] = nil
	p.free, p.used = p.free[:last], p.used[:last]
}

// gemmAlignedSlice returns a zeroed slice of length n whose first element is aligned
// to 64 bytes (one cache line, one AVX-512 vector).
func gemmAlignedSlice[T gemmFloat](n int) []T {
	var z T
	es := int(unsafe.Sizeof(z))
	pad := 64 / es
	s := make([]T, n+pad)
	off := int(uintptr(unsafe.Pointer(&s[0]))%64) / es
	if off != 0 {
		off = pad - off
	}
	return s[off : off+n : off+n]
}

func gemmGrow[T gemmFloat](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return gemmAlignedSlice[T](n + n/4)
}

// gemmParallelMin is the number of multiply-adds below which a GEMM runs on the
// calling goroutine alone: waking the pool costs a few microseconds.
const gemmParallelMin = 1 << 19

// gemmSharedMax bounds the shared packed operand (elements) per chunk: larger
// products process the shared operand in chunks. A variable so that tests can
// exercise the chunking on small products.
var gemmSharedMax = 1 << 21

// kBlocks returns the number of K blocks and their size: K is cut into equal blocks
// no larger than kc. It depends only on k and the kernel, never on the workers.
func (r *gemmRun[T]) kBlocks() (nb, kc int) {
	nb = (r.k + r.ker.kc - 1) / r.ker.kc
	kc = (r.k + nb - 1) / nb
	return nb, kc
}

func (r *gemmRun[T]) exec() {
	m, n, k := r.m, r.n, r.k
	ker := r.ker
	w := Workers()
	if m*n*k < gemmParallelMin {
		w = 1
	}
	if ker.strided != nil && r.a.trans && !r.b.trans && n%ker.nr == 0 &&
		m <= gemmStridedMaxM && n <= gemmStridedMaxN && k >= gemmStridedMinK {
		// Workers split the rows of C; nothing is packed.
		r.pieces = gemmPieces(w, (m+ker.mr-1)/ker.mr)
		parallelDo(r.pieces, w, r, r.stridedFn)
		return
	}
	r.shareA = m <= n
	if r.shareA {
		// Workers split the columns of C; A is packed once per chunk of rows.
		units := (n + ker.nr - 1) / ker.nr
		r.pieces = gemmPieces(w, units)
		step := max(ker.mr, gemmSharedMax/max(k, 1)/ker.mr*ker.mr)
		for i0 := 0; i0 < m; i0 += step {
			r.ch0, r.chLen = i0, min(step, m-i0)
			panels := (r.chLen + ker.mr - 1) / ker.mr
			r.shared = r.pool.get(panels * ker.mr * k)
			parallelDo(min(panels, r.pieces), w, r, r.packFn)
			parallelDo(r.pieces, w, r, r.computeFn)
			r.pool.put(r.shared)
			r.shared = nil
		}
	} else {
		units := (m + ker.mr - 1) / ker.mr
		r.pieces = gemmPieces(w, units)
		step := max(ker.nr, gemmSharedMax/max(k, 1)/ker.nr*ker.nr)
		for j0 := 0; j0 < n; j0 += step {
			r.ch0, r.chLen = j0, min(step, n-j0)
			panels := (r.chLen + ker.nr - 1) / ker.nr
			r.shared = r.pool.get(panels * ker.nr * k)
			parallelDo(min(panels, r.pieces), w, r, r.packFn)
			parallelDo(r.pieces, w, r, r.computeFn)
			r.pool.put(r.shared)
			r.shared = nil
		}
	}
}

// execPacked is exec with op(B) already packed (PackB's layout, the whole of n
// as one chunk): workers split the rows of C and pack their A.
func (r *gemmRun[T]) execPacked(shared []T) {
	m, n, k := r.m, r.n, r.k
	ker := r.ker
	w := Workers()
	if m*n*k < gemmParallelMin {
		w = 1
	}
	r.shareA = false
	units := (m + ker.mr - 1) / ker.mr
	r.pieces = gemmPieces(w, units)
	r.ch0, r.chLen = 0, n
	r.shared = shared
	parallelDo(r.pieces, w, r, r.computeFn)
	r.shared = nil
}

// gemmPieces returns how many pieces C is cut into for w workers: several per
// worker, so that a worker slowed down by another process does not hold up the
// rest. Only the operand that is not shared is packed per piece, so more pieces
// cost no extra packing.
func gemmPieces(w, units int) int {
	if w <= 1 {
		return 1
	}
	return min(units, 4*w)
}

// split returns the i-th of parts near-equal ranges of [0, units).
func gemmSplit(units, parts, i int) (lo, hi int) {
	return units * i / parts, units * (i + 1) / parts
}

// The shared operand is stored K block by K block; within K block pc (kcb wide, at
// offset p0) the panels of the chunk lie back to back, panel q at
// p0*chPad + q*kcb*R, where R is MR (A) or NR (B) and chPad the padded chunk length.

func gemmPackSharedPiece[T gemmFloat](ctx any, piece int) {
	r := ctx.(*gemmRun[T])
	ker := r.ker
	R := ker.nr
	if r.shareA {
		R = ker.mr
	}
	panels := (r.chLen + R - 1) / R
	chPad := panels * R
	q0, q1 := gemmSplit(panels, min(panels, r.pieces), piece)
	nb, kc := r.kBlocks()
	for b := 0; b < nb; b++ {
		p0 := b * kc
		kcb := min(kc, r.k-p0)
		for q := q0; q < q1; q++ {
			lo := q * R
			cnt := min(R, r.chLen-lo)
			dst := r.shared[p0*chPad+q*kcb*R:]
			if r.shareA {
				ker.packA(dst, &r.a, ker.mr, r.ch0+lo, cnt, p0, kcb)
			} else {
				ker.packB(dst, &r.b, ker.nr, r.ch0+lo, cnt, p0, kcb)
			}
		}
	}
}

func gemmComputePiece[T gemmFloat](ctx any, piece int) {
	r := ctx.(*gemmRun[T])
	ker := r.ker
	mr, nr := ker.mr, ker.nr
	nb, kc := r.kBlocks()
	r.bufMu.Lock()
	var bp *gemmBuf[T]
	if n := len(r.bufs); n > 0 {
		bp, r.bufs = r.bufs[n-1], r.bufs[:n-1]
	} else {
		bp = new(gemmBuf[T])
	}
	r.bufMu.Unlock()
	if r.shareA {
		// This piece: columns [n0, n1) of C, rows of the chunk.
		units := (r.n + nr - 1) / nr
		u0, u1 := gemmSplit(units, r.pieces, piece)
		n0, n1 := u0*nr, min(u1*nr, r.n)
		chPad := (r.chLen + mr - 1) / mr * mr
		ncMax := min(ker.nc, (n1-n0+nr-1)/nr*nr)
		inPlaceB := ker.strided != nil && !r.b.trans && r.m <= gemmInPlaceBMaxM
		bp.p = r.pool.get(kc * ncMax)
		for jc := n0; jc < n1; jc += ker.nc {
			nc := min(ker.nc, n1-jc)
			for b := 0; b < nb; b++ {
				p0 := b * kc
				kcb := min(kc, r.k-p0)
				ablk := r.shared[p0*chPad:]
				if inPlaceB {
					for ic := 0; ic < r.chLen; ic += ker.mc {
						mc := min(ker.mc, r.chLen-ic)
						r.macroInPlaceB(ablk[ic*kcb:], bp.p, r.ch0+ic, jc, p0, mc, nc, kcb, b == 0)
					}
					continue
				}
				for j := 0; j < nc; j += nr {
					ker.packB(bp.p[j*kcb:], &r.b, nr, jc+j, min(nr, nc-j), p0, kcb)
				}
				for ic := 0; ic < r.chLen; ic += ker.mc {
					mc := min(ker.mc, r.chLen-ic)
					r.macro(ablk[ic*kcb:], bp.p, r.ch0+ic, jc, p0, mc, nc, kcb, b == 0)
				}
			}
		}
	} else {
		// This piece: rows [m0, m1) of C, columns of the chunk.
		units := (r.m + mr - 1) / mr
		u0, u1 := gemmSplit(units, r.pieces, piece)
		m0, m1 := u0*mr, min(u1*mr, r.m)
		chPad := (r.chLen + nr - 1) / nr * nr
		// Narrow products read A where it is stored (ap nil: the direct
		// kernels) instead of packing it.
		direct := ker.direct != nil && !r.a.trans && (r.n <= gemmDirectMaxN || r.k <= gemmDirectMaxK)
		var ap []T
		if !direct {
			mcMax := min(ker.mc, (m1-m0+mr-1)/mr*mr)
			bp.p = r.pool.get(kc * mcMax)
			ap = bp.p
		}
		for b := 0; b < nb; b++ {
			p0 := b * kc
			kcb := min(kc, r.k-p0)
			bblk := r.shared[p0*chPad:]
			for ic := m0; ic < m1; ic += ker.mc {
				mc := min(ker.mc, m1-ic)
				for i := 0; i < mc && !direct; i += mr {
					ker.packA(bp.p[i*kcb:], &r.a, mr, ic+i, min(mr, mc-i), p0, kcb)
				}
				for jc := 0; jc < r.chLen; jc += ker.nc {
					nc := min(ker.nc, r.chLen-jc)
					r.macro(ap, bblk[jc*kcb:], ic, r.ch0+jc, p0, mc, nc, kcb, b == 0)
				}
			}
		}
	}
	r.pool.put(bp.p)
	bp.p = nil
	r.bufMu.Lock()
	r.bufs = append(r.bufs, bp)
	r.bufMu.Unlock()
}

// gemmStridedPiece computes one piece of rows of C with the strided kernels,
// K block by K block as the packed path does, so with the same FMAs.
func gemmStridedPiece[T gemmFloat](ctx any, piece int) {
	r := ctx.(*gemmRun[T])
	ker := r.ker
	mr, nr := ker.mr, ker.nr
	u0, u1 := gemmSplit((r.m+mr-1)/mr, r.pieces, piece)
	m0, m1 := u0*mr, min(u1*mr, r.m)
	nb, kc := r.kBlocks()
	for b := 0; b < nb; b++ {
		p0 := b * kc
		kcb := min(kc, r.k-p0)
		beta, loadc := T(1), 1
		if b == 0 {
			beta = r.beta
			if beta == 0 {
				loadc = 0
			}
		}
		for i := m0; i < m1; i += mr {
			a := &r.a.data[p0*r.a.ld+i]
			for j := 0; j < r.n; j += nr {
				ker.strided(min(mr, m1-i), kcb, a, &r.b.data[p0*r.b.ld+j], &r.c[i*r.ldc+j], r.a.ld, r.b.ld, r.ldc, r.alpha, beta, loadc)
			}
		}
	}
}

// gemmRunCache keeps finished runs, with their packing buffers, for the next call.
// Unlike a sync.Pool it is not emptied by the garbage collector, so a warm GEMM
// never allocates; it holds at most gemmRunCacheMax runs (one per GEMM running
// concurrently is enough).
type gemmRunCache[T gemmFloat] struct {
	mu   sync.Mutex
	runs []*gemmRun[T]
}

const gemmRunCacheMax = 8

func (c *gemmRunCache[T]) get() *gemmRun[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.runs); n > 0 {
		r := c.runs[n-1]
		c.runs = c.runs[:n-1]
		return r
	}
	return new(gemmRun[T])
}

func (c *gemmRunCache[T]) put(r *gemmRun[T]) {
	r.a, r.b, r.c = gemmOp[T]{}, gemmOp[T]{}, nil // do not keep the caller's matrices alive
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.runs) < gemmRunCacheMax {
		c.runs = append(c.runs, r)
	}
}

var (
	gemmRuns32 gemmRunCache[float32]
	gemmRuns64 gemmRunCache[float64]
)

// blockBeta returns the beta of a K block and whether its kernels read C
// (loadc): the caller's beta on the first block (C not read when it is 0),
// then 1, adding to what the blocks before left.
func (r *gemmRun[T]) blockBeta(first bool) (T, int) {
	if !first {
		return 1, 1
	}
	if r.beta == 0 {
		return 0, 0
	}
	return r.beta, 1
}

// macro multiplies a packed mc×kcb block of A by a packed kcb×nc block of B into
// C[i0:i0+mc, j0:j0+nc]. first marks the first K block, the only one that applies
// the caller's beta. With ap nil, A is read where it is stored (the direct
// kernels): rows [i0, i0+mc) and columns [p0, p0+kcb) of A, not transposed.
func (r *gemmRun[T]) macro(ap, bp []T, i0, j0, p0, mc, nc, kcb int, first bool) {
	ker := r.ker
	mr, nr := ker.mr, ker.nr
	beta, loadc := r.blockBeta(first)
	// Bounds were checked on entry to Gemm: every tile lies inside r.c and every
	// row read inside r.a.
	c0 := unsafe.Pointer(unsafe.SliceData(r.c))
	a0 := unsafe.Pointer(unsafe.SliceData(r.a.data))
	var z T
	es := unsafe.Sizeof(z)
	for j := 0; j < nc; j += nr {
		nrb := min(nr, nc-j)
		b := &bp[j*kcb]
		for i := 0; i < mc; i += mr {
			mrb := min(mr, mc-i)
			c := (*T)(unsafe.Add(c0, uintptr((i0+i)*r.ldc+j0+j)*es))
			if ap == nil {
				a := (*T)(unsafe.Add(a0, uintptr((i0+i)*r.a.ld+p0)*es))
				ker.direct(mrb, nrb, kcb, a, b, c, r.a.ld, r.ldc, r.alpha, beta, loadc)
			} else {
				ker.tile(mrb, nrb, kcb, &ap[i*kcb], b, c, r.ldc, r.alpha, beta, loadc)
			}
		}
	}
}

// macroInPlaceB is macro for the products gemmInPlaceBMaxM selects: each
// full-width panel of B is read where it is stored (rows [p0, p0+kcb), columns
// [j0+j, j0+j+NR) of B, not transposed) by the strided kernel, with the packed
// panels of A (row stride MR); a last, narrower panel is packed into bp as
// macro would and multiplied by the packed kernel. Both kernels do the same
// FMAs in the same order, so the results are macro's bits.
func (r *gemmRun[T]) macroInPlaceB(ap, bp []T, i0, j0, p0, mc, nc, kcb int, first bool) {
	ker := r.ker
	mr, nr := ker.mr, ker.nr
	beta, loadc := r.blockBeta(first)
	c0 := unsafe.Pointer(unsafe.SliceData(r.c))
	var z T
	es := unsafe.Sizeof(z)
	for j := 0; j < nc; j += nr {
		nrb := min(nr, nc-j)
		if nrb < nr {
			ker.packB(bp, &r.b, nr, j0+j, nrb, p0, kcb)
		}
		b := &r.b.data[p0*r.b.ld+j0+j]
		for i := 0; i < mc; i += mr {
			mrb := min(mr, mc-i)
			c := (*T)(unsafe.Add(c0, uintptr((i0+i)*r.ldc+j0+j)*es))
			if nrb < nr {
				ker.tile(mrb, nrb, kcb, &ap[i*kcb], &bp[0], c, r.ldc, r.alpha, beta, loadc)
			} else {
				ker.strided(mrb, kcb, &ap[i*kcb], b, c, mr, r.b.ld, r.ldc, r.alpha, beta, loadc)
			}
		}
	}
}

// gemmPackA packs rows [i0, i0+cnt) and columns [p0, p0+kc) of op(A) as one panel:
// dst[p*MR+i] = op(A)[i0+i, p0+p]. Rows cnt..MR-1 are left as they are: the kernels
// never read them.
func gemmPackA[T gemmFloat](dst []T, a *gemmOp[T], MR, i0, cnt, p0, kc int) {
	dst = dst[:kc*MR]
	if !a.trans {
		for i := 0; i < cnt; i++ {
			src := a.data[(i0+i)*a.ld+p0:]
			src = src[:kc]
			for p, v := range src {
				dst[p*MR+i] = v
			}
		}
		return
	}
	// op(A)[i, p] = A[p, i]: each column of the panel is a contiguous run of A.
	for p := 0; p < kc; p++ {
		src := a.data[(p0+p)*a.ld+i0:]
		copy(dst[p*MR:p*MR+cnt], src[:cnt])
	}
}

// gemmPackB packs rows [p0, p0+kc) and columns [j0, j0+cnt) of op(B) as one panel:
// dst[p*NR+j] = op(B)[p0+p, j0+j], zero for j ≥ cnt.
func gemmPackB[T gemmFloat](dst []T, b *gemmOp[T], NR, j0, cnt, p0, kc int) {
	dst = dst[:kc*NR]
	if !b.trans {
		for p := 0; p < kc; p++ {
			src := b.data[(p0+p)*b.ld+j0:]
			d := dst[p*NR : p*NR+NR]
			copy(d, src[:cnt])
			clear(d[cnt:])
		}
		return
	}
	// op(B)[p, j] = B[j, p]: each column of the panel is a contiguous run of B.
	for j := 0; j < cnt; j++ {
		src := b.data[(j0+j)*b.ld+p0:]
		src = src[:kc]
		for p, v := range src {
			dst[p*NR+j] = v
		}
	}
	if cnt < NR {
		for p := 0; p < kc; p++ {
			clear(dst[p*NR+cnt : p*NR+NR])
		}
	}
}
