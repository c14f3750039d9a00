package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/latent-ml/latent/rng"
)

// Tests that no kernel path writes outside its destination: every destination lies
// in a buffer whose other elements (guardPad before and after, and the gaps between
// rows of a strided matrix) hold a NaN pattern no kernel computes, checked bit for
// bit after the call; inputs are checked unchanged whole. Each runs on every kernel
// path this CPU supports (gemmPaths, elemPaths), on the edge sizes around the
// vector widths and the GEMM tiles and blocks.

// guardPad is the number of guard elements before and after each buffer: more than
// a full AVX-512 tile row (32 float32).
const guardPad = 80

const (
	guardBits32 = 0x7fa5a5a5         // a signalling NaN: arithmetic never yields it
	guardBits64 = 0x7ff4a5a5a5a5a5a5 // likewise
)

// guarded is a rows×cols matrix (row stride stride) inside a larger buffer. Before a
// call its visible elements hold data (or the guard pattern, for a destination that
// must be fully overwritten) and everything else the guard pattern.
type guarded[T gemmFloat] struct {
	buf                []T
	rows, cols, stride int
}

func guardPattern[T gemmFloat]() T {
	var v T
	if unsafe.Sizeof(v) == 4 {
		*(*uint32)(unsafe.Pointer(&v)) = guardBits32
	} else {
		*(*uint64)(unsafe.Pointer(&v)) = guardBits64
	}
	return v
}

func sameBits[T gemmFloat](a, b T) bool {
	if unsafe.Sizeof(a) == 4 {
		return *(*uint32)(unsafe.Pointer(&a)) == *(*uint32)(unsafe.Pointer(&b))
	}
	return *(*uint64)(unsafe.Pointer(&a)) == *(*uint64)(unsafe.Pointer(&b))
}

// newGuarded returns a guarded rows×cols matrix with stride ≥ cols; fill gives the
// visible elements (nil: the guard pattern).
func newGuarded[T gemmFloat](rows, cols, stride int, fill func() T) *guarded[T] {
	n := 0
	if rows > 0 {
		n = (rows-1)*stride + cols
	}
	g := &guarded[T]{buf: make([]T, guardPad+n+guardPad), rows: rows, cols: cols, stride: stride}
	pat := guardPattern[T]()
	for i := range g.buf {
		g.buf[i] = pat
	}
	if fill != nil {
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				g.buf[guardPad+i*stride+j] = fill()
			}
		}
	}
	return g
}

// data is the matrix's storage, from its first element to its last (capacity
// clipped, so that Go code cannot reach the guards either).
func (g *guarded[T]) data() []T {
	n := len(g.buf) - 2*guardPad
	return g.buf[guardPad : guardPad+n : guardPad+n]
}

func (g *guarded[T]) visible(p int) bool {
	p -= guardPad
	if p < 0 || g.rows == 0 || p >= (g.rows-1)*g.stride+g.cols {
		return false
	}
	return p%g.stride < g.cols
}

// check reports the first guard element that changed, and with whole set, the
// first visible element still holding the guard pattern (not written).
func (g *guarded[T]) check(whole bool) error {
	pat := guardPattern[T]()
	for p, v := range g.buf {
		vis := g.visible(p)
		switch {
		case !vis && !sameBits(v, pat):
			q := p - guardPad
			return fmt.Errorf("wrote outside its destination: element %d of the buffer (offset %d from the first element, row %d col %d of stride %d) = %v",
				p, q, floorDiv(q, g.stride), q-floorDiv(q, g.stride)*g.stride, g.stride, v)
		case vis && whole && sameBits(v, pat):
			q := p - guardPad
			return fmt.Errorf("left element (%d, %d) unwritten", q/g.stride, q%g.stride)
		}
	}
	return nil
}

func floorDiv(a, b int) int {
	if a < 0 {
		return -((-a + b - 1) / b)
	}
	return a / b
}

// snapshot and unchanged check an input buffer bit for bit.
func snapshot[T gemmFloat](b []T) []T { return append([]T(nil), b...) }

func unchanged[T gemmFloat](before, after []T) error {
	for i := range before {
		if !sameBits(before[i], after[i]) {
			return fmt.Errorf("input changed at element %d of its buffer: %v → %v", i, before[i], after[i])
		}
	}
	return nil
}

// gemmGuardSizes are the dimensions tried: 1..33 cover every partial tile of the
// 4×4, 6×16 and 14×32 kernels (and their float64 halves) up to a full tile plus one.
var gemmGuardSizes = func() []int {
	var s []int
	for i := 1; i <= 33; i++ {
		s = append(s, i)
	}
	return s
}()

// TestGemmGuards: Gemm and Gemm64 write exactly the m×n elements of C, whatever the
// shape, transposes, strides (odd ones included), beta (C read or not), kernel path,
// K blocking, chunking and number of workers; A and B are left as they were.
func TestGemmGuards(t *testing.T) {
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(21, 22))
	norm32 := func() float32 { return float32(rnd.NormFloat64()) }
	norm64 := func() float64 { return rnd.NormFloat64() }

	type shape struct{ m, n, k int }
	var shapes []shape
	sizes := gemmGuardSizes
	if testing.Short() {
		sizes = []int{1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 16, 17, 31, 32, 33}
	}
	for _, m := range sizes {
		for _, n := range sizes {
			// k: one, a tile's worth of odd lengths, and a few others; K blocking
			// (kc = 256) and the parallel path come below.
			k := []int{1, 2, 3, 7, 8, 9, 16, 17, 33}[(m*7+n*3)%9]
			shapes = append(shapes, shape{m, n, k})
		}
	}
	// K blocks of the kernels (kc 256), row and column blocks (mc 96..280), and
	// products large enough for the pool (≥ 2¹⁹ multiply-adds), split either way.
	shapes = append(shapes, shape{5, 7, 255}, shape{6, 16, 256}, shape{15, 33, 257}, shape{3, 40, 513},
		shape{97, 35, 19}, shape{193, 17, 33}, shape{281, 33, 9}, shape{29, 150, 130},
		shape{130, 95, 61}, shape{61, 200, 45}, shape{200, 61, 45})

	for _, isa := range gemmPaths(t) {
		withKernel(t, isa, func() {
			for si, sh := range shapes {
				m, n, k := sh.m, sh.n, sh.k
				parallel := m*n*k >= gemmParallelMin
				SetWorkers(1 + si%2)
				if parallel {
					SetWorkers(2 + si%2)
				}
				// One transpose combination per shape, in turn (the packing functions
				// are checked on every edge by TestGemmKernelGuards).
				for _, tr := range []int{si % 4} {
					ta, tb := tr&1 != 0, tr&2 != 0
					// Strides: tight, one more (odd for even widths), and a few more.
					pad := [3]int{0, 1, 3}
					pa, pb, pc := pad[(si+tr)%3], pad[(si+tr+1)%3], pad[(si+2*tr+2)%3]
					ar, ac := m, k
					if ta {
						ar, ac = k, m
					}
					br, bc := k, n
					if tb {
						br, bc = n, k
					}
					for _, beta := range []float32{0, 0.5} {
						name := fmt.Sprintf("%v %s m=%d n=%d k=%d strides +%d +%d +%d beta=%v workers=%d",
							isa, gemmTransName(ta, tb), m, n, k, pa, pb, pc, beta, Workers())

						a := newGuarded(ar, ac, ac+pa, norm32)
						b := newGuarded(br, bc, bc+pb, norm32)
						var cfill func() float32 // beta 0: C starts as NaN patterns, all overwritten
						if beta != 0 {
							cfill = norm32
						}
						c := newGuarded(m, n, n+pc, cfill)
						a0, b0 := snapshot(a.buf), snapshot(b.buf)
						Gemm(ta, tb, 1.25, &Mat{ar, ac, ac + pa, a.data()}, &Mat{br, bc, bc + pb, b.data()}, beta, &Mat{m, n, n + pc, c.data()})
						if err := c.check(beta == 0); err != nil {
							t.Fatalf("Gemm %s: C %v", name, err)
						}
						if err := unchanged(a0, a.buf); err != nil {
							t.Fatalf("Gemm %s: A %v", name, err)
						}
						if err := unchanged(b0, b.buf); err != nil {
							t.Fatalf("Gemm %s: B %v", name, err)
						}

						a64 := newGuarded(ar, ac, ac+pa, norm64)
						b64 := newGuarded(br, bc, bc+pb, norm64)
						var cfill64 func() float64
						if beta != 0 {
							cfill64 = norm64
						}
						c64 := newGuarded(m, n, n+pc, cfill64)
						a64s, b64s := snapshot(a64.buf), snapshot(b64.buf)
						Gemm64(ta, tb, m, n, k, 1.25, a64.data(), ac+pa, b64.data(), bc+pb, float64(beta), c64.data(), n+pc)
						if err := c64.check(beta == 0); err != nil {
							t.Fatalf("Gemm64 %s: C %v", name, err)
						}
						if err := unchanged(a64s, a64.buf); err != nil {
							t.Fatalf("Gemm64 %s: A %v", name, err)
						}
						if err := unchanged(b64s, b64.buf); err != nil {
							t.Fatalf("Gemm64 %s: B %v", name, err)
						}
					}
				}
			}
		})
	}
}

// TestGemmChunkGuards: as TestGemmGuards, with the shared operand cut into chunks of
// a few panels.
func TestGemmChunkGuards(t *testing.T) {
	defer func(old int) { gemmSharedMax = old }(gemmSharedMax)
	gemmSharedMax = 40 * 64
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(23, 24))
	norm := func() float32 { return float32(rnd.NormFloat64()) }
	for _, isa := range gemmPaths(t) {
		withKernel(t, isa, func() {
			for _, sh := range [][3]int{{91, 65, 203}, {203, 65, 91}, {61, 131, 97}} {
				m, k, n := sh[0], sh[1], sh[2]
				for _, w := range []int{1, 2} {
					SetWorkers(w)
					for tr := 0; tr < 4; tr++ {
						ta, tb := tr&1 != 0, tr&2 != 0
						ar, ac := m, k
						if ta {
							ar, ac = k, m
						}
						br, bc := k, n
						if tb {
							br, bc = n, k
						}
						a, b, c := newGuarded(ar, ac, ac+1, norm), newGuarded(br, bc, bc+3, norm), newGuarded[float32](m, n, n+1, nil)
						a0, b0 := snapshot(a.buf), snapshot(b.buf)
						Gemm(ta, tb, 1, &Mat{ar, ac, ac + 1, a.data()}, &Mat{br, bc, bc + 3, b.data()}, 0, &Mat{m, n, n + 1, c.data()})
						for what, err := range map[string]error{"C": c.check(true), "A": unchanged(a0, a.buf), "B": unchanged(b0, b.buf)} {
							if err != nil {
								t.Fatalf("%v %s %v workers=%d: %s %v", isa, gemmTransName(ta, tb), sh, w, what, err)
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmKernelGuards calls each path's micro-kernels and packing functions
// directly: a tile writes only its mr×nr corner of C (row stride ldc), a packed
// panel only its kc·MR (kc·NR) elements, for every partial tile and panel.
func TestGemmKernelGuards(t *testing.T) {
	rnd := rand.New(rand.NewPCG(25, 26))
	for _, isa := range gemmPaths(t) {
		withKernel(t, isa, func() {
			kernelGuards(t, rnd, gemmKernel32())
			kernelGuards(t, rnd, gemmKernel64())
		})
	}
}

func kernelGuards[T gemmFloat](t *testing.T, rnd *rand.Rand, ker *gemmKernel[T]) {
	t.Helper()
	norm := func() T { return T(rnd.NormFloat64()) }
	MR, NR := ker.mr, ker.nr
	var z T
	name := fmt.Sprintf("%v %T", ker.isa, z)
	ks := []int{1, 2, 3, 5, 8, 9, 16, 17, 31, 33}
	if testing.Short() {
		ks = []int{1, 3, 8, 17}
	}
	// Tiles.
	for mr := 1; mr <= MR; mr++ {
		for nr := 1; nr <= NR; nr++ {
			for ki, k := range ks {
				ldc := []int{nr, nr + 1, NR + 3}[(mr+nr+ki)%3]
				a := newGuarded(1, k*MR, k*MR, norm)
				b := newGuarded(1, k*NR, k*NR, norm)
				a0, b0 := snapshot(a.buf), snapshot(b.buf)
				for _, loadc := range []int{0, 1} {
					var fill func() T
					if loadc == 1 {
						fill = norm
					}
					c := newGuarded(mr, nr, ldc, fill)
					d := c.data()
					ker.tile(mr, nr, k, &a.data()[0], &b.data()[0], &d[0], ldc, 1.5, 0.5, loadc)
					if err := c.check(loadc == 0); err != nil {
						t.Fatalf("%s tile %d×%d k=%d ldc=%d loadc=%d: C %v", name, mr, nr, k, ldc, loadc, err)
					}
				}
				if err := unchanged(a0, a.buf); err != nil {
					t.Fatalf("%s tile %d×%d k=%d: packed A %v", name, mr, nr, k, err)
				}
				if err := unchanged(b0, b.buf); err != nil {
					t.Fatalf("%s tile %d×%d k=%d: packed B %v", name, mr, nr, k, err)
				}
			}
		}
	}
	// Packing: a panel of cnt rows (columns) of op(A) (op(B)) at an offset inside a
	// larger strided source, over kc values of K from p0.
	kcs := append(ks, 255, 256, 257)
	for _, trans := range []bool{false, true} {
		for cnt := 1; cnt <= max(MR, NR); cnt++ {
			for ki, kc := range kcs {
				const i0, p0 = 3, 2
				for _, side := range []string{"A", "B"} {
					R := MR
					if side == "B" {
						R = NR
					}
					if cnt > R {
						continue
					}
					// op(X) is (i0+cnt+1)×(p0+kc+1) for A, (p0+kc+1)×(i0+cnt+1) for B.
					rows, cols := i0+cnt+1, p0+kc+1
					if side == "B" {
						rows, cols = cols, rows
					}
					if trans {
						rows, cols = cols, rows
					}
					ld := cols + ki%3
					src := newGuarded(rows, cols, ld, norm)
					src0 := snapshot(src.buf)
					op := &gemmOp[T]{data: src.data(), ld: ld, trans: trans}
					dst := newGuarded[T](1, kc*R, kc*R, nil)
					if side == "A" {
						ker.packA(dst.data(), op, MR, i0, cnt, p0, kc)
					} else {
						ker.packB(dst.data(), op, NR, i0, cnt, p0, kc)
					}
					// packA may leave rows cnt..MR-1 of the panel as they were; B's
					// are zero-filled.
					if err := dst.check(side == "B"); err != nil {
						t.Fatalf("%s pack%s trans=%v cnt=%d kc=%d ld=%d: panel %v", name, side, trans, cnt, kc, ld, err)
					}
					if err := unchanged(src0, src.buf); err != nil {
						t.Fatalf("%s pack%s trans=%v cnt=%d kc=%d: source %v", name, side, trans, cnt, kc, err)
					}
				}
			}
		}
	}
}

// elemGuardLens are the slice lengths tried: every length up to two AVX-512 vectors
// and a bit, around the larger multiples, and around elemGrain (the parallel split).
var elemGuardLens = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
	21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 47, 48, 49, 63, 64, 65, 255, 256, 257,
	elemGrain - 1, elemGrain + 1, 2*elemGrain + 17}

// TestElemKernelGuards calls each path's element-wise kernels directly, on every
// length their contract allows (a multiple of the vector width, any for the
// generic path): they write only len(x) elements of each destination.
func TestElemKernelGuards(t *testing.T) {
	s := rng.New(31)
	normal := func() float32 { return float32(s.NormFloat64()) }
	unif := func() float32 { return float32(s.Float64()) }
	withPath(t, func(t *testing.T) {
		isa, w := elemImpl.isa, elemImpl.width
		for _, n := range elemGuardLens {
			if n%w != 0 || n > 4096 {
				continue
			}
			x := newGuarded(1, n, n, normal)
			b := newGuarded(1, n, n, normal)
			u := newGuarded(1, n, n, unif)
			pos := newGuarded(1, n, n, unif) // probabilities, and positive inputs for Log
			ins := [][]float32{x.buf, b.buf, u.buf, pos.buf}
			saved := make([][]float32, len(ins))
			for i, in := range ins {
				saved[i] = snapshot(in)
			}
			checkIns := func(what string) {
				t.Helper()
				for i, in := range ins {
					if err := unchanged(saved[i], in); err != nil {
						t.Fatalf("%s n=%d: input %d %v", what, n, i, err)
					}
				}
			}
			for op := opExp; op <= opLog; op++ {
				in := x
				if op == opLog {
					in = pos
				}
				dst := newGuarded[float32](1, n, n, nil)
				kernelUnary(isa, op, dst.data(), in.data())
				if err := dst.check(true); err != nil {
					t.Fatalf("unary op %d n=%d: %v", op, n, err)
				}
				checkIns(fmt.Sprintf("unary op %d", op))
			}
			dst := newGuarded[float32](1, n, n, nil)
			kernelSigmoidBias(isa, dst.data(), x.data(), b.data())
			if err := dst.check(true); err != nil {
				t.Fatalf("sigmoidBias n=%d: %v", n, err)
			}
			prob, sample := newGuarded[float32](1, n, n, nil), newGuarded[float32](1, n, n, nil)
			kernelSigmoidBernoulli(isa, prob.data(), sample.data(), x.data(), b.data(), u.data())
			if err := prob.check(true); err != nil {
				t.Fatalf("sigmoidBernoulli n=%d: prob %v", n, err)
			}
			if err := sample.check(true); err != nil {
				t.Fatalf("sigmoidBernoulli n=%d: sample %v", n, err)
			}
			sample = newGuarded[float32](1, n, n, nil)
			kernelBernoulli(isa, sample.data(), pos.data(), u.data())
			if err := sample.check(true); err != nil {
				t.Fatalf("bernoulli n=%d: %v", n, err)
			}
			_ = kernelMax(isa, x.data())
			_ = kernelExpSum(isa, x.data(), -1)
			checkIns("sigmoidBias, sigmoidBernoulli, bernoulli, max, expSum")
			if n%16 == 0 {
				var st [32]uint64
				for i := range st {
					st[i] = s.Uint64() | 1
				}
				dst := newGuarded[float32](1, n, n, nil)
				kernelUniformLanes(isa, &st, dst.data())
				if err := dst.check(true); err != nil {
					t.Fatalf("uniformLanes n=%d: %v", n, err)
				}
			}
		}
		// Compression: idx and val exactly len(x) long, any length.
		for _, n := range elemGuardLens {
			if n > 4096 {
				continue
			}
			for _, density := range []float64{0, 0.3, 1} {
				x := newGuarded(1, n, n, func() float32 {
					if s.Float64() < density {
						return float32(s.NormFloat64())
					}
					return 0
				})
				x0 := snapshot(x.buf)
				idx := make([]int32, guardPad+n+guardPad)
				for i := range idx {
					idx[i] = -0x5a5a5a5b
				}
				val := newGuarded[float32](1, n, n, nil)
				nnz := kernelCompress(isa, idx[guardPad:guardPad+n:guardPad+n], val.data(), x.data())
				if nnz < 0 || nnz > n {
					t.Fatalf("compress n=%d: returned %d", n, nnz)
				}
				for i, v := range idx {
					if (i < guardPad || i >= guardPad+n) && v != -0x5a5a5a5b {
						t.Fatalf("compress n=%d density %v: wrote idx outside its slice at %d", n, density, i-guardPad)
					}
				}
				if err := val.check(false); err != nil {
					t.Fatalf("compress n=%d density %v: val %v", n, density, err)
				}
				if err := unchanged(x0, x.buf); err != nil {
					t.Fatalf("compress n=%d: x %v", n, err)
				}
			}
		}
		// SpMM rows: dst a multiple of the vector width (any length on AVX-512,
		// which masks its tail), b rows of stride ≥ len(dst).
		for _, n := range elemGuardLens {
			if n > 600 || (isa != isaAVX512 && n%w != 0) {
				continue
			}
			for _, nnz := range []int{1, 3, 8} {
				const bRows = 11
				for _, pad := range []int{0, 1, 5} {
					stride := n + pad
					bm := newGuarded(bRows, n, stride, normal)
					b0 := snapshot(bm.buf)
					idx := make([]int32, nnz)
					val := make([]float32, nnz)
					for k := range idx {
						idx[k] = int32(s.IntN(bRows))
						val[k] = float32(s.NormFloat64())
					}
					for accum := 0; accum <= 1; accum++ {
						var fill func() float32
						if accum == 1 {
							fill = normal
						}
						dst := newGuarded(1, n, n, fill)
						kernelSpMMRow(isa, dst.data(), bm.data(), stride, idx, val, 1.5, 0.5, accum)
						if err := dst.check(accum == 0); err != nil {
							t.Fatalf("spmmRow n=%d nnz=%d stride=%d accum=%d: %v", n, nnz, stride, accum, err)
						}
						if err := unchanged(b0, bm.buf); err != nil {
							t.Fatalf("spmmRow n=%d: b %v", n, err)
						}
					}
				}
			}
		}
	})
}

// TestElemGuards: the public element-wise functions, with their tails and parallel
// pieces, write exactly their destinations: slices of every edge length, and
// matrices with odd strides.
func TestElemGuards(t *testing.T) {
	defer SetWorkers(0)
	s := rng.New(32)
	normal := func() float32 { return float32(s.NormFloat64()) }
	unif := func() float32 { return float32(s.Float64()) }
	withPath(t, func(t *testing.T) {
		for li, n := range elemGuardLens {
			SetWorkers(1 + li%2)
			x := newGuarded(1, n, n, normal)
			pos := newGuarded(1, n, n, unif)
			x0, pos0 := snapshot(x.buf), snapshot(pos.buf)
			for name, f := range map[string]func(dst, x []float32){
				"Exp": Exp, "Sigmoid": Sigmoid, "Softplus": Softplus, "LogSigmoid": LogSigmoid,
				"ReLU": ReLU, "Tanh": Tanh, "Log": Log,
			} {
				in := x
				if name == "Log" {
					in = pos
				}
				dst := newGuarded[float32](1, n, n, nil)
				f(dst.data(), in.data())
				if err := dst.check(true); err != nil {
					t.Fatalf("%s n=%d workers=%d: %v", name, n, Workers(), err)
				}
			}
			prob, sample := newGuarded[float32](1, n, n, nil), newGuarded[float32](1, n, n, nil)
			SigmoidBernoulli(prob.data(), sample.data(), x.data(), rng.New(uint64(n)))
			if err := prob.check(true); err != nil {
				t.Fatalf("SigmoidBernoulli n=%d: prob %v", n, err)
			}
			if err := sample.check(true); err != nil {
				t.Fatalf("SigmoidBernoulli n=%d: sample %v", n, err)
			}
			if err := unchanged(x0, x.buf); err != nil {
				t.Fatalf("n=%d: x %v", n, err)
			}
			if err := unchanged(pos0, pos.buf); err != nil {
				t.Fatalf("n=%d: x %v", n, err)
			}
		}
		// Matrices: rows × cols with strides cols, cols+1, cols+3.
		for ci, cols := range []int{1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 100, 257} {
			for _, rows := range []int{1, 2, 5, 67} {
				stride := cols + []int{0, 1, 3}[(ci+rows)%3]
				SetWorkers(1 + (ci+rows)%2)
				name := fmt.Sprintf("%d×%d stride %d workers %d", rows, cols, stride, Workers())
				x := newGuarded(rows, cols, stride, normal)
				p := newGuarded(rows, cols, stride, unif)
				bias := newGuarded(1, cols, cols, normal)
				x0, p0, bias0 := snapshot(x.buf), snapshot(p.buf), snapshot(bias.buf)
				xm := &Mat{rows, cols, stride, x.data()}
				pm := &Mat{rows, cols, stride, p.data()}
				for _, withBias := range []bool{false, true} {
					var bs []float32
					if withBias {
						bs = bias.data()
					}
					dst := newGuarded[float32](rows, cols, stride, nil)
					SigmoidBias(&Mat{rows, cols, stride, dst.data()}, xm, bs)
					if err := dst.check(true); err != nil {
						t.Fatalf("SigmoidBias %s bias=%v: %v", name, withBias, err)
					}
					prob, sample := newGuarded[float32](rows, cols, stride, nil), newGuarded[float32](rows, cols, stride, nil)
					SigmoidBiasBernoulli(&Mat{rows, cols, stride, prob.data()}, &Mat{rows, cols, stride, sample.data()}, xm, bs, rng.New(7))
					if err := prob.check(true); err != nil {
						t.Fatalf("SigmoidBiasBernoulli %s bias=%v: prob %v", name, withBias, err)
					}
					if err := sample.check(true); err != nil {
						t.Fatalf("SigmoidBiasBernoulli %s bias=%v: sample %v", name, withBias, err)
					}
				}
				sample := newGuarded[float32](rows, cols, stride, nil)
				SampleBernoulli(&Mat{rows, cols, stride, sample.data()}, pm, rng.New(8))
				if err := sample.check(true); err != nil {
					t.Fatalf("SampleBernoulli %s: %v", name, err)
				}
				lse := newGuarded[float64](1, rows, rows, nil)
				LogSumExpRows(lse.data(), xm)
				if err := lse.check(true); err != nil {
					t.Fatalf("LogSumExpRows %s: %v", name, err)
				}
				for what, err := range map[string]error{"x": unchanged(x0, x.buf), "p": unchanged(p0, p.buf), "bias": unchanged(bias0, bias.buf)} {
					if err != nil {
						t.Fatalf("%s: input %s %v", name, what, err)
					}
				}
			}
		}
	})
}

// TestSpMMGuards: SpMM writes exactly the rows×cols elements of C, for every edge
// width (the AVX2 kernel's multiples of 8 plus the Go tail, AVX-512's masked
// tail), odd strides, empty rows, beta 0, 1 and other, serial and parallel.
func TestSpMMGuards(t *testing.T) {
	defer SetWorkers(0)
	s := rng.New(33)
	normal := func() float32 { return float32(s.NormFloat64()) }
	withPath(t, func(t *testing.T) {
		for ci, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 511, 512, 513, 600} {
			for _, sh := range [][2]int{{1, 5}, {9, 13}, {70, 33}, {150, 400}} {
				m, k := sh[0], sh[1]
				if m*k*n > 1<<22 {
					continue
				}
				SetWorkers(1 + ci%2)
				// A: about 30% nonzero, with some empty rows.
				dense := New(m, k)
				for i := 0; i < m; i++ {
					if i%4 == 3 {
						continue
					}
					for j := 0; j < k; j++ {
						if s.Float64() < 0.3 {
							dense.Set(i, j, float32(s.NormFloat64()))
						}
					}
				}
				a := new(CSR).FromDense(dense, false)
				pb, pc := ci%3, (ci+1)%3*2+1
				b := newGuarded(k, n, n+pb, normal)
				b0 := snapshot(b.buf)
				for _, beta := range []float32{0, 1, 0.5} {
					var fill func() float32
					if beta != 0 {
						fill = normal
					}
					c := newGuarded(m, n, n+pc, fill)
					SpMM(1.5, a, &Mat{k, n, n + pb, b.data()}, beta, &Mat{m, n, n + pc, c.data()})
					if err := c.check(beta == 0); err != nil {
						t.Fatalf("SpMM %d×%d·%d×%d strides +%d +%d beta=%v workers=%d: C %v", m, k, k, n, pb, pc, beta, Workers(), err)
					}
					if err := unchanged(b0, b.buf); err != nil {
						t.Fatalf("SpMM %d×%d·%d×%d: B %v", m, k, k, n, err)
					}
				}
			}
		}
	})
}
