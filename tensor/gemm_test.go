package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/latent-ml/latent/tensor/internal/kernel"
)

// gemmPaths returns the kernel families this CPU can run, switching to each in turn.
func gemmPaths(t testing.TB) []kernel.ISA {
	var out []kernel.ISA
	for _, isa := range []kernel.ISA{kernel.Generic, kernel.AVX2, kernel.AVX512} {
		if kernel.Supported(isa) {
			out = append(out, isa)
		} else {
			t.Logf("kernel %v not supported by this CPU/build: skipped", isa)
		}
	}
	return out
}

// forVectorKernels runs f under each vector kernel family this CPU supports
// (AVX2, AVX-512), as a subtest named after it; it skips when there is none.
func forVectorKernels(t *testing.T, f func(t *testing.T)) {
	ran := false
	for _, isa := range []kernel.ISA{kernel.AVX2, kernel.AVX512} {
		if !kernel.Supported(isa) {
			continue
		}
		ran = true
		t.Run(isa.String(), func(t *testing.T) { withKernel(t, isa, func() { f(t) }) })
	}
	if !ran {
		t.Skip("no AVX2 or AVX-512: there are no direct or strided kernels")
	}
}

func withKernel(t testing.TB, isa kernel.ISA, f func()) {
	restore, ok := setGemmKernel(isa)
	if !ok {
		t.Fatalf("setGemmKernel(%v) refused a supported kernel", isa)
	}
	defer restore()
	f()
}

// gemmProblem is op(A) (m×k) and op(B) (k×n) with their float64 product, the bound
// Σ_p |op(A)_ip|·|op(B)_pj| for the rounding error, and a starting C.
type gemmProblem struct {
	m, k, n   int
	opA, opB  []float32 // row-major, op(A) m×k, op(B) k×n
	ab, absAB []float64 // m×n
	c0        []float32 // m×n
	nanC0     bool
}

func newGemmProblem(rnd *rand.Rand, m, k, n int) *gemmProblem {
	p := &gemmProblem{m: m, k: k, n: n}
	p.opA = make([]float32, m*k)
	p.opB = make([]float32, k*n)
	p.c0 = make([]float32, m*n)
	for i := range p.opA {
		p.opA[i] = float32(rnd.NormFloat64())
	}
	for i := range p.opB {
		p.opB[i] = float32(rnd.NormFloat64())
	}
	for i := range p.c0 {
		p.c0[i] = float32(rnd.NormFloat64())
	}
	p.ab = make([]float64, m*n)
	p.absAB = make([]float64, m*n)
	row := make([]float64, n)
	abs := make([]float64, n)
	for i := 0; i < m; i++ {
		clear(row)
		clear(abs)
		for q := 0; q < k; q++ {
			a := float64(p.opA[i*k+q])
			br := p.opB[q*n : q*n+n]
			for j, b := range br {
				row[j] += a * float64(b)
				abs[j] += math.Abs(a * float64(b))
			}
		}
		copy(p.ab[i*n:], row)
		copy(p.absAB[i*n:], abs)
	}
	return p
}

// storeMat lays out the rows×cols matrix x (row-major) as a Mat, transposed when
// trans is set, inside a larger allocation with Stride = Cols+pad; the padding
// holds sentinel values.
func storeMat(x []float32, rows, cols int, trans bool, pad int, sentinel float32) *Mat {
	r, c := rows, cols
	if trans {
		r, c = cols, rows
	}
	stride := c + pad
	data := make([]float32, r*stride+pad)
	for i := range data {
		data[i] = sentinel
	}
	m := &Mat{Rows: r, Cols: c, Stride: stride, Data: data[:max(0, (r-1)*stride+c)]}
	if r == 0 || c == 0 {
		m.Data = nil
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			v := x[i*cols+j]
			if trans {
				m.Data[j*stride+i] = v
			} else {
				m.Data[i*stride+j] = v
			}
		}
	}
	return m
}

// check compares C against alpha·AB + beta·C0 with the bound
//
//	|C - exact| ≤ 2·k·u·|alpha|·Σ|a||b| + 3u·(|alpha·ab| + |beta·c0|) + tiny
//
// (u = 2⁻²⁴), the standard float32 dot-product bound with room for the K blocking and
// the final scaling. A wrong element, index or transpose is off by O(1).
func (p *gemmProblem) check(t *testing.T, what string, alpha, beta float32, c *Mat) {
	t.Helper()
	const u = 1.0 / (1 << 24)
	bad := 0
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			want := float64(alpha) * p.ab[i*p.n+j]
			var bc float64 // beta·c0, exactly 0 when beta == 0 whatever c0 holds
			if beta != 0 {
				bc = float64(beta) * float64(p.c0[i*p.n+j])
			}
			want += bc
			tol := 2*float64(p.k)*u*math.Abs(float64(alpha))*p.absAB[i*p.n+j] +
				3*u*(math.Abs(float64(alpha)*p.ab[i*p.n+j])+math.Abs(bc)) + 1e-30
			got := float64(c.At(i, j))
			if !(math.Abs(got-want) <= tol) {
				if bad < 5 {
					t.Errorf("%s: C[%d,%d] = %g, want %g ± %.3g", what, i, j, got, want, tol)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements wrong", what, bad, p.m*p.n)
	}
}

var gemmTestShapes = [][3]int{ // m, k, n
	{1, 1, 1},
	{1, 1, 300},
	{1, 77, 300},
	{300, 77, 1},
	{7, 13, 5},
	{14, 20, 32},
	{15, 33, 33},
	{257, 129, 65},
	{65, 129, 257},
	{1000, 784, 500},
	{700, 600, 30}, // A read as stored (n ≤ gemmDirectMaxN), three K blocks
}

// TestGemm runs every kernel this CPU supports, all four transpose combinations,
// on awkward shapes, with and without alpha/beta, on views whose Stride > Cols,
// against a float64 reference; it also checks that nothing outside the C view is
// written.
func TestGemm(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	paths := gemmPaths(t)
	for _, sh := range gemmTestShapes {
		m, k, n := sh[0], sh[1], sh[2]
		if testing.Short() && m*k*n > 1e7 {
			continue
		}
		p := newGemmProblem(rnd, m, k, n)
		for _, isa := range paths {
			withKernel(t, isa, func() {
				for tr := 0; tr < 4; tr++ {
					ta, tb := tr&1 != 0, tr&2 != 0
					for _, ab := range [][2]float32{{1, 0}, {-0.75, 1.25}, {2, -1}} {
						alpha, beta := ab[0], ab[1]
						pad := ((tr+int(alpha*4))%3 + 3) % 3 // 0, 1 or 2: contiguous and strided views
						a := storeMat(p.opA, m, k, ta, pad, float32(math.NaN()))
						b := storeMat(p.opB, k, n, tb, 2-pad, float32(math.NaN()))
						const sentinel = 12345
						c := storeMat(p.c0, m, n, false, 3, sentinel)
						full := c.Data[:cap(c.Data)]
						Gemm(ta, tb, alpha, a, b, beta, c)
						what := fmt.Sprintf("%v %s %dx%dx%d alpha=%g beta=%g", isa, gemmTransName(ta, tb), m, k, n, alpha, beta)
						p.check(t, what, alpha, beta, c)
						for i, v := range full {
							if i%c.Stride >= c.Cols || i >= len(c.Data) {
								if v != sentinel {
									t.Fatalf("%s: wrote %g outside the C view at offset %d", what, v, i)
								}
							}
						}
					}
				}
			})
		}
	}
}

// TestGemmBetaZeroIgnoresC: with beta = 0 the old C (NaN, Inf) must not reach the
// result; with alpha = 0 A and B are not used (BLAS semantics) and C = beta·C.
func TestGemmBetaZeroIgnoresC(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, isa := range gemmPaths(t) {
		withKernel(t, isa, func() {
			for _, sh := range [][3]int{{1, 1, 1}, {7, 13, 5}, {257, 300, 65}, {31, 600, 47}} {
				m, k, n := sh[0], sh[1], sh[2]
				p := newGemmProblem(rnd, m, k, n)
				for i := range p.c0 {
					p.c0[i] = float32(math.NaN())
					if i%3 == 1 {
						p.c0[i] = float32(math.Inf(-1))
					}
				}
				for tr := 0; tr < 4; tr++ {
					ta, tb := tr&1 != 0, tr&2 != 0
					a := storeMat(p.opA, m, k, ta, 1, 0)
					b := storeMat(p.opB, k, n, tb, 0, 0)
					c := storeMat(p.c0, m, n, false, 2, 0)
					Gemm(ta, tb, 0.5, a, b, 0, c)
					p.check(t, fmt.Sprintf("%v %s %v beta=0, NaN in C", isa, gemmTransName(ta, tb), sh), 0.5, 0, c)
				}
			}
		})
	}
	// alpha = 0: C = beta·C, NaNs in A not read.
	a := New(3, 4)
	a.Fill(float32(math.NaN()))
	b := New(4, 5)
	c := New(3, 5)
	c.Fill(2)
	Gemm(false, false, 0, a, b, 1.5, c)
	for _, v := range c.Data {
		if v != 3 {
			t.Fatalf("alpha=0, beta=1.5: C = %v, want all 3", c.Data)
		}
	}
	// k = 0: C = beta·C; beta = 0 clears NaNs.
	c.Fill(float32(math.NaN()))
	Gemm(false, false, 1, New(3, 0), New(0, 5), 0, c)
	for _, v := range c.Data {
		if v != 0 {
			t.Fatalf("k=0, beta=0: C = %v, want zeros", c.Data)
		}
	}
}

// TestGemmWorkersBitIdentical: the same product with 1, 2 and 3 workers gives the same
// bits, on shapes that split C by columns (m ≤ n) and by rows (m > n).
func TestGemmWorkersBitIdentical(t *testing.T) {
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(5, 6))
	shapes := [][3]int{{100, 784, 500}, {1000, 300, 200}, {784, 100, 500}, {129, 257, 131}}
	if testing.Short() {
		shapes = [][3]int{{100, 300, 257}, {300, 130, 200}, {129, 257, 131}}
	}
	for _, isa := range gemmPaths(t) {
		withKernel(t, isa, func() {
			for _, sh := range shapes {
				m, k, n := sh[0], sh[1], sh[2]
				if m*n*k < gemmParallelMin {
					t.Fatalf("shape %v is below the parallel threshold: the test would not test", sh)
				}
				for tr := 0; tr < 4; tr++ {
					ta, tb := tr&1 != 0, tr&2 != 0
					a, b := gemmRandMat(rnd, m, k), gemmRandMat(rnd, k, n)
					if ta {
						a = gemmRandMat(rnd, k, m)
					}
					if tb {
						b = gemmRandMat(rnd, n, k)
					}
					c0 := gemmRandMat(rnd, m, n)
					var ref *Mat
					for _, w := range []int{1, 2, 3} {
						SetWorkers(w)
						c := c0.Clone()
						Gemm(ta, tb, 0.5, a, b, 1.5, c)
						if ref == nil {
							ref = c
							continue
						}
						for i := range c.Data {
							if math.Float32bits(c.Data[i]) != math.Float32bits(ref.Data[i]) {
								t.Fatalf("%v %s %v: workers=%d differs from workers=1 at %d: %g vs %g",
									isa, gemmTransName(ta, tb), sh, w, i, c.Data[i], ref.Data[i])
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmNoAlloc: a warm Gemm does not allocate, with one worker or two.
func TestGemmNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(1, 1))
	a, b, c := gemmRandMat(rnd, 128, 400), gemmRandMat(rnd, 400, 300), New(128, 300)
	at := gemmRandMat(rnd, 400, 128)
	for _, isa := range gemmPaths(t) {
		withKernel(t, isa, func() {
			for _, w := range []int{1, 2} {
				SetWorkers(w)
				for _, ta := range []bool{false, true} {
					x := a
					if ta {
						x = at
					}
					Gemm(ta, false, 1, x, b, 0, c)
					allocs := testing.AllocsPerRun(20, func() { Gemm(ta, false, 1, x, b, 0.5, c) })
					if allocs != 0 {
						t.Errorf("%v workers=%d transA=%v: %.1f allocations per warm Gemm", isa, w, ta, allocs)
					}
				}
			}
		})
	}
}

func TestGemmPanics(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"k mismatch", func() { Gemm(false, false, 1, New(2, 3), New(4, 2), 0, New(2, 2)) }},
		{"C rows", func() { Gemm(false, false, 1, New(2, 3), New(3, 2), 0, New(3, 2)) }},
		{"C cols transB", func() { Gemm(false, true, 1, New(2, 3), New(3, 2), 0, New(2, 2)) }},
		{"short data", func() {
			Gemm(false, false, 1, &Mat{Rows: 2, Cols: 3, Stride: 3, Data: make([]float32, 5)}, New(3, 2), 0, New(2, 2))
		}},
		{"stride < cols", func() {
			Gemm(false, false, 1, New(2, 3), New(3, 2), 0, &Mat{Rows: 2, Cols: 2, Stride: 1, Data: make([]float32, 4)})
		}},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

// TestGemmMatchesRef: the blocked driver and the triple loop agree (within float32
// rounding) on a product that spans several K, M and N blocks.
func TestGemmMatchesRef(t *testing.T) {
	if testing.Short() {
		t.Skip("large product")
	}
	rnd := rand.New(rand.NewPCG(9, 9))
	m, k, n := 300, 1100, 4200 // k > 4·kc, n > nc
	a, b := gemmRandMat(rnd, k, m), gemmRandMat(rnd, n, k)
	c, want := New(m, n), New(m, n)
	Gemm(true, true, 1, a, b, 0, c)
	gemmRef(true, true, 1, a, b, 0, want)
	for i := range c.Data {
		if d := math.Abs(float64(c.Data[i] - want.Data[i])); d > 2e-3 {
			t.Fatalf("element %d: %g vs ref %g", i, c.Data[i], want.Data[i])
		}
	}
}

// TestGemmKernelName logs the kernel in use (bench/gemm-vs-numpy.sh reads the line)
// and checks it is the start-up choice.
func TestGemmKernelName(t *testing.T) {
	name := GemmKernel()
	if name != kernel.Default.String() {
		t.Fatalf("GemmKernel() = %q, want %q", name, kernel.Default)
	}
	if isa, ok := kernel.Parse(name); !ok || !kernel.Supported(isa) {
		t.Fatalf("GemmKernel() = %q is not a supported kernel", name)
	}
	t.Logf("kernel: %s", name)
}

// FuzzGemm checks random shapes, transposes, strides, alpha and beta on every
// kernel path against the float64 reference.
func FuzzGemm(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint8(0), uint8(0), float32(1), float32(0), uint64(1))
	f.Add(uint8(15), uint8(33), uint8(33), uint8(3), uint8(2), float32(-0.5), float32(2), uint64(2))
	f.Add(uint8(29), uint8(17), uint8(65), uint8(1), uint8(1), float32(1), float32(1), uint64(3))
	f.Add(uint8(200), uint8(9), uint8(7), uint8(2), uint8(0), float32(3), float32(-1), uint64(4))
	f.Fuzz(func(t *testing.T, m8, k8, n8, tr, pad uint8, alpha, beta float32, seed uint64) {
		m, k, n := int(m8)%160+1, int(k8)%300+1, int(n8)%160+1
		if math.IsNaN(float64(alpha)) || math.IsInf(float64(alpha), 0) || math.Abs(float64(alpha)) > 1e3 ||
			math.IsNaN(float64(beta)) || math.IsInf(float64(beta), 0) || math.Abs(float64(beta)) > 1e3 {
			t.Skip()
		}
		ta, tb := tr&1 != 0, tr&2 != 0
		p := newGemmProblem(rand.New(rand.NewPCG(seed, 1)), m, k, n)
		for _, isa := range gemmPaths(t) {
			withKernel(t, isa, func() {
				a := storeMat(p.opA, m, k, ta, int(pad%3), float32(math.NaN()))
				b := storeMat(p.opB, k, n, tb, int(pad/3%3), float32(math.NaN()))
				c := storeMat(p.c0, m, n, false, int(pad/9%3), 0)
				Gemm(ta, tb, alpha, a, b, beta, c)
				p.check(t, fmt.Sprintf("%v %s %dx%dx%d", isa, gemmTransName(ta, tb), m, k, n), alpha, beta, c)
			})
		}
	})
}

// TestGemmDirectSameBits: reading A where it is stored (the direct kernels, for
// narrow products) gives the bits of packing it, on strided views, over several
// K blocks and partial tiles, with one worker and two.
func TestGemmDirectSameBits(t *testing.T) {
	defer SetWorkers(0)
	defer func(n, k int) { gemmDirectMaxN, gemmDirectMaxK = n, k }(gemmDirectMaxN, gemmDirectMaxK)
	gemmDirectMaxK = 0
	rnd := rand.New(rand.NewPCG(21, 22))
	forVectorKernels(t, func(t *testing.T) {
		for _, sh := range [][3]int{{700, 600, 100}, {301, 64, 37}, {1000, 70, 128}, {97, 513, 9}, {43, 300, 64}} {
			m, k, n := sh[0], sh[1], sh[2]
			p := newGemmProblem(rnd, m, k, n)
			a := storeMat(p.opA, m, k, false, 3, float32(math.NaN()))
			for tb := range 2 {
				b := storeMat(p.opB, k, n, tb == 1, 1, float32(math.NaN()))
				for _, w := range []int{1, 2} {
					SetWorkers(w)
					var got [2]*Mat
					for i, maxN := range []int{0, 128} {
						gemmDirectMaxN = maxN
						got[i] = storeMat(p.c0, m, n, false, 2, 0)
						Gemm(false, tb == 1, 0.75, a, b, -1.5, got[i])
					}
					what := fmt.Sprintf("%v transB=%d workers=%d", sh, tb, w)
					p.check(t, what, 0.75, -1.5, got[1])
					sameBitsC(t, what, "packed", "direct", got[0], got[1])
				}
			}
		}
	})
}

// TestGemmStridedSameBits: the strided kernels, reading a transposed A and a B
// where they are stored, give the packed path's bits (same K blocks, same FMAs),
// for partial row tiles, several K blocks, beta 0 (C not read) and not, at 1 and
// 2 workers, with NaN in the stride padding of every operand.
func TestGemmStridedSameBits(t *testing.T) {
	defer SetWorkers(0)
	defer func(m, n, k int) { gemmStridedMaxM, gemmStridedMaxN, gemmStridedMinK = m, n, k }(gemmStridedMaxM, gemmStridedMaxN, gemmStridedMinK)
	rnd := rand.New(rand.NewPCG(23, 24))
	forVectorKernels(t, func(t *testing.T) {
		for _, sh := range [][3]int{{32, 3000, 32}, {5, 700, 16}, {64, 513, 64}, {7, 256, 48}, {1, 300, 16}, {13, 9, 32}, {30, 700, 96}} {
			m, k, n := sh[0], sh[1], sh[2]
			p := newGemmProblem(rnd, m, k, n)
			a := storeMat(p.opA, m, k, true, 3, float32(math.NaN()))
			b := storeMat(p.opB, k, n, false, 1, float32(math.NaN()))
			for _, ab := range [][2]float32{{0.75, -1.5}, {1, 0}} {
				for _, w := range []int{1, 2} {
					SetWorkers(w)
					var got [2]*Mat
					for i, maxM := range []int{0, 64} {
						gemmStridedMaxM, gemmStridedMaxN, gemmStridedMinK = maxM, 64, 0
						got[i] = storeMat(p.c0, m, n, false, 2, float32(math.NaN()))
						if ab[1] != 0 {
							got[i] = storeMat(p.c0, m, n, false, 2, 0)
						}
						Gemm(true, false, ab[0], a, b, ab[1], got[i])
					}
					what := fmt.Sprintf("%v alpha=%g beta=%g workers=%d", sh, ab[0], ab[1], w)
					p.check(t, what, ab[0], ab[1], got[1])
					sameBitsC(t, what, "packed", "strided", got[0], got[1])
				}
			}
		}
	})
}

// TestGemmInPlaceBSameBits: reading the full-width panels of an untransposed B
// where it is stored (the strided kernels with A packed) gives the packing
// path's bits, for A transposed or not, a narrower last panel (packed), partial
// row tiles, several K blocks, beta 0 (C not read) and not, at 1 and 2 workers,
// with NaN in the stride padding of every operand.
func TestGemmInPlaceBSameBits(t *testing.T) {
	defer SetWorkers(0)
	defer func(m int) { gemmInPlaceBMaxM = m }(gemmInPlaceBMaxM)
	rnd := rand.New(rand.NewPCG(25, 26))
	forVectorKernels(t, func(t *testing.T) {
		for _, sh := range [][3]int{{100, 784, 500}, {7, 700, 48}, {64, 513, 130}, {13, 9, 200}, {1, 300, 16}} {
			m, k, n := sh[0], sh[1], sh[2]
			p := newGemmProblem(rnd, m, k, n)
			b := storeMat(p.opB, k, n, false, 1, float32(math.NaN()))
			for ta := range 2 {
				a := storeMat(p.opA, m, k, ta == 1, 3, float32(math.NaN()))
				for _, ab := range [][2]float32{{0.75, -1.5}, {1, 0}} {
					for _, w := range []int{1, 2} {
						SetWorkers(w)
						var got [2]*Mat
						for i, maxM := range []int{0, 1 << 20} {
							gemmInPlaceBMaxM = maxM
							got[i] = storeMat(p.c0, m, n, false, 2, float32(math.NaN()))
							if ab[1] != 0 {
								got[i] = storeMat(p.c0, m, n, false, 2, 0)
							}
							Gemm(ta == 1, false, ab[0], a, b, ab[1], got[i])
						}
						what := fmt.Sprintf("%v transA=%d alpha=%g beta=%g workers=%d", sh, ta, ab[0], ab[1], w)
						p.check(t, what, ab[0], ab[1], got[1])
						sameBitsC(t, what, "packed", "in place", got[0], got[1])
					}
				}
			}
		}
	})
}

// TestGemmSplitK: products cut along K (forced on small ones here) agree with
// the reference and give the same bits at 1 and 2 workers, for beta 0 (C not
// read) and not, with NaN in the stride padding of every operand; the cut is
// fixed by K, so it is also taken by a product inside a parallel job.
func TestGemmSplitK(t *testing.T) {
	defer SetWorkers(0)
	defer func(mn, k, part int) { gemmSplitKMaxMN, gemmSplitKMinK, gemmSplitKPart = mn, k, part }(gemmSplitKMaxMN, gemmSplitKMinK, gemmSplitKPart)
	gemmSplitKMaxMN, gemmSplitKMinK, gemmSplitKPart = 4096, 64, 50
	rnd := rand.New(rand.NewPCG(27, 28))
	for _, sh := range [][3]int{{9, 1000, 32}, {5, 333, 7}, {64, 130, 64}} {
		m, k, n := sh[0], sh[1], sh[2]
		if got := gemmKParts(true, false, m, n, k); got != min(16, k/50) {
			t.Fatalf("%v: %d parts", sh, got)
		}
		p := newGemmProblem(rnd, m, k, n)
		a := storeMat(p.opA, m, k, true, 3, float32(math.NaN()))
		b := storeMat(p.opB, k, n, false, 1, float32(math.NaN()))
		for _, ab := range [][2]float32{{0.75, -1.5}, {1, 0}} {
			var got [2]*Mat
			for i, w := range []int{1, 2} {
				SetWorkers(w)
				got[i] = storeMat(p.c0, m, n, false, 2, float32(math.NaN()))
				if ab[1] != 0 {
					got[i] = storeMat(p.c0, m, n, false, 2, 0)
				}
				Gemm(true, false, ab[0], a, b, ab[1], got[i])
			}
			what := fmt.Sprintf("%v alpha=%g beta=%g", sh, ab[0], ab[1])
			p.check(t, what, ab[0], ab[1], got[0])
			sameBitsC(t, what, "one worker", "two workers", got[0], got[1])
		}
	}
	if gemmKParts(false, false, 9, 32, 100000) != 1 || gemmKParts(true, true, 9, 32, 100000) != 1 {
		t.Error("only Aᵀ·B is cut")
	}
}

// sameBitsC fails the test unless a and b (what computed by the ways named
// na and nb) hold the same bits.
func sameBitsC(t *testing.T, what, na, nb string, a, b *Mat) {
	t.Helper()
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < a.Cols; j++ {
			if x, y := a.At(i, j), b.At(i, j); math.Float32bits(x) != math.Float32bits(y) {
				t.Fatalf("%s: C[%d,%d] %s %g, %s %g", what, i, j, na, x, nb, y)
			}
		}
	}
}

// TestGemmChunks: products whose shared operand is processed in several chunks
// (forced small here) agree with the reference, for both ways of splitting C.
func TestGemmChunks(t *testing.T) {
	defer func(old int) { gemmSharedMax = old }(gemmSharedMax)
	gemmSharedMax = 40 * 64 // a few panels per chunk
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(12, 13))
	for _, sh := range [][3]int{{90, 64, 200}, {200, 64, 90}, {61, 130, 97}} {
		m, k, n := sh[0], sh[1], sh[2]
		p := newGemmProblem(rnd, m, k, n)
		for _, isa := range gemmPaths(t) {
			withKernel(t, isa, func() {
				for _, w := range []int{1, 2} {
					SetWorkers(w)
					for tr := 0; tr < 4; tr++ {
						ta, tb := tr&1 != 0, tr&2 != 0
						a := storeMat(p.opA, m, k, ta, 1, float32(math.NaN()))
						b := storeMat(p.opB, k, n, tb, 2, float32(math.NaN()))
						c := storeMat(p.c0, m, n, false, 1, 0)
						Gemm(ta, tb, 1.5, a, b, -0.5, c)
						p.check(t, fmt.Sprintf("%v w=%d %s %v chunked", isa, w, gemmTransName(ta, tb), sh), 1.5, -0.5, c)
					}
				}
			})
		}
	}
}
