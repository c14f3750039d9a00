package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmPackedSameBits: GemmPacked with B from PackB gives Gemm's bits, for
// both transposes of A and B, several K blocks, partial panels, narrow products
// (the direct kernels), one worker and two, on every kernel path; a packed B
// serves several products; and it refuses a B packed for another kernel.
func TestGemmPackedSameBits(t *testing.T) {
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(31, 32))
	for _, isa := range gemmPaths(t) {
		withKernel(t, isa, func() {
			for _, sh := range [][3]int{{300, 600, 70}, {7, 13, 5}, {25, 64, 1024}, {1000, 9, 32}, {130, 288, 64}} {
				m, k, n := sh[0], sh[1], sh[2]
				for tr := 0; tr < 4; tr++ {
					ta, tb := tr&1 != 0, tr&2 != 0
					b := gemmRandMat(rnd, k, n)
					if tb {
						b = gemmRandMat(rnd, n, k)
					}
					var p PackedB
					PackB(&p, tb, b)
					for rep := range 2 { // the same packed B for two products
						a := gemmRandMat(rnd, m, k)
						if ta {
							a = gemmRandMat(rnd, k, m)
						}
						c0 := gemmRandMat(rnd, m, n)
						for _, w := range []int{1, 2} {
							SetWorkers(w)
							want, got := c0.Clone(), c0.Clone()
							Gemm(ta, tb, 0.5, a, b, 1.5, want)
							GemmPacked(ta, 0.5, a, &p, 1.5, got)
							for i := range want.Data {
								if math.Float32bits(want.Data[i]) != math.Float32bits(got.Data[i]) {
									t.Fatalf("%v %s %v product %d, %d workers: C[%d] Gemm %g, GemmPacked %g",
										isa, gemmTransName(ta, tb), sh, rep, w, i, want.Data[i], got.Data[i])
								}
							}
						}
					}
				}
			}
		})
	}
	var p PackedB
	PackB(&p, false, gemmRandMat(rnd, 4, 4))
	p.ker = nil
	func() {
		defer func() {
			if recover() == nil {
				t.Error("GemmPacked accepted a B packed for another kernel")
			}
		}()
		GemmPacked(false, 1, gemmRandMat(rnd, 4, 4), &p, 0, New(4, 4))
	}()
}

// TestGemmPackedNoAlloc: warm PackB and GemmPacked calls do not allocate.
func TestGemmPackedNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(3, 3))
	a, b, c := gemmRandMat(rnd, 500, 300), gemmRandMat(rnd, 300, 64), New(500, 64)
	var p PackedB
	for _, w := range []int{1, 2} {
		SetWorkers(w)
		f := func() {
			PackB(&p, false, b)
			GemmPacked(false, 1, a, &p, 0, c)
		}
		f()
		if n := testing.AllocsPerRun(5, f); n != 0 {
			t.Errorf("%s: %v allocations per call", fmt.Sprint(w, " workers"), n)
		}
	}
}

// TestScratchPool: size classes, reuse within a class only, and the pool's
// bound, dropping the buffers given back longest ago.
func TestScratchPool(t *testing.T) {
	var p gemmScratch[float32]
	for n, want := range map[int]int{1: 64, 64: 64, 100: 104, 1000: 1024, 1025: 1152, 4096: 4096} {
		if c := gemmClass(n); c != want {
			t.Errorf("gemmClass(%d) = %d, want %d", n, c, want)
		}
	}
	a, b := p.get(100), p.get(50)
	if len(a) != 100 || cap(a) != 104 || len(b) != 50 || cap(b) != 64 {
		t.Fatalf("lengths %d, %d, caps %d, %d", len(a), len(b), cap(a), cap(b))
	}
	p.put(a)
	p.put(b)
	if c := p.get(101); &c[0] != &a[0] {
		t.Error("get(101) did not reuse the buffer of class 104")
	} else {
		p.put(c)
	}
	if d := p.get(200); &d[0] == &a[0] || &d[0] == &b[0] {
		t.Error("get(200) took a buffer of another class")
	}
	var many [][]float32
	for i := range gemmScratchKeep + 1 {
		many = append(many, p.get(2000+256*i))
	}
	for _, m := range many {
		p.put(m)
	}
	if len(p.free) != gemmScratchKeep {
		t.Fatalf("%d free buffers, want %d", len(p.free), gemmScratchKeep)
	}
	for _, m := range p.free {
		if cap(m) < 2000 || &m[0] == &many[0][0] {
			t.Errorf("a buffer of %d values given back early was kept", cap(m))
		}
	}
}

// TestGemmPackedRowsSameBits: GemmPackedRows on rows that overlap (stride below
// the row length), touch or leave gaps gives the bits of GemmPacked on a copy
// of those rows, for partial tiles, several K blocks, narrow products (A read
// where it lies) and wide ones (A packed), one worker and two, on every kernel
// path; and it refuses an A too short for its rows.
func TestGemmPackedRowsSameBits(t *testing.T) {
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(33, 34))
	for _, isa := range gemmPaths(t) {
		withKernel(t, isa, func() {
			for _, sh := range [][3]int{{14, 96, 64}, {1, 96, 64}, {15, 300, 32}, {29, 20, 100}, {7, 600, 70}} {
				m, k, n := sh[0], sh[1], sh[2]
				b := gemmRandMat(rnd, k, n)
				var p PackedB
				PackB(&p, false, b)
				for _, stride := range []int{1, 64, k, k + 3} {
					data := gemmRandMat(rnd, 1, (m-1)*stride+k).Data
					a := &Mat{Rows: m, Cols: k, Stride: stride, Data: data}
					cp := New(m, k)
					for i := range m {
						copy(cp.Row(i), data[i*stride:i*stride+k])
					}
					c0 := gemmRandMat(rnd, m, n)
					for _, w := range []int{1, 2} {
						SetWorkers(w)
						want, got := c0.Clone(), c0.Clone()
						GemmPacked(false, 0.5, cp, &p, 1.5, want)
						GemmPackedRows(0.5, a, &p, 1.5, got)
						for i := range want.Data {
							if math.Float32bits(want.Data[i]) != math.Float32bits(got.Data[i]) {
								t.Fatalf("%s %v stride %d, %d workers: C[%d] = %g, want %g", isa, sh, stride, w, i, got.Data[i], want.Data[i])
							}
						}
					}
				}
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%v: GemmPackedRows accepted an A one value short", sh)
						}
					}()
					a := &Mat{Rows: m, Cols: k, Stride: 2, Data: make([]float32, (m-1)*2+k-1)}
					GemmPackedRows(1, a, &p, 0, New(m, n))
				}()
			}
		})
	}
}

// TestGemmOverlapSameBits: GemmOverlap on rows that overlap, touch or leave
// gaps, in A (transposed or not) or in B, gives the bits of Gemm on copies, on
// shapes Gemm does not split along K, with the strided kernels (the
// convolutions' weight gradients: n a multiple of the tile width, k ≥ 64) and
// the packed paths, one worker and two, on every kernel path; and it refuses
// an operand too short for its rows.
func TestGemmOverlapSameBits(t *testing.T) {
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(35, 36))
	// overlapping returns a rows×cols matrix with the given stride and a
	// contiguous copy.
	overlapping := func(rows, cols, stride int) (*Mat, *Mat) {
		data := gemmRandMat(rnd, 1, (rows-1)*stride+cols).Data
		cp := New(rows, cols)
		for i := range rows {
			copy(cp.Row(i), data[i*stride:i*stride+cols])
		}
		return &Mat{Rows: rows, Cols: cols, Stride: stride, Data: data}, cp
	}
	for _, isa := range gemmPaths(t) {
		withKernel(t, isa, func() {
			for _, sh := range [][3]int{{96, 210, 64}, {96, 210, 32}, {64, 210, 96}, {13, 70, 20}, {300, 100, 64}, {5, 3, 7}} {
				m, k, n := sh[0], sh[1], sh[2]
				for tr := 0; tr < 3; tr++ { // 0: Aᵀ overlapping; 1: A overlapping; 2: Aᵀ·B, B overlapping
					transA := tr != 1
					if parts := gemmKParts(transA, false, m, n, k); parts > 1 {
						t.Fatalf("%v: Gemm splits K in %d parts; pick another shape", sh, parts)
					}
					for _, stride := range []int{1, 64, 97} {
						var a, ac, b, bc *Mat
						switch tr {
						case 0:
							a, ac = overlapping(k, m, stride)
							b = gemmRandMat(rnd, k, n)
							bc = b
						case 1:
							a, ac = overlapping(m, k, stride)
							b = gemmRandMat(rnd, k, n)
							bc = b
						case 2:
							a = gemmRandMat(rnd, k, m)
							ac = a
							b, bc = overlapping(k, n, stride)
						}
						c0 := gemmRandMat(rnd, m, n)
						for _, w := range []int{1, 2} {
							SetWorkers(w)
							want, got := c0.Clone(), c0.Clone()
							Gemm(transA, false, 0.5, ac, bc, 1.5, want)
							GemmOverlap(transA, false, 0.5, a, b, 1.5, got)
							for i := range want.Data {
								if math.Float32bits(want.Data[i]) != math.Float32bits(got.Data[i]) {
									t.Fatalf("%s %v case %d stride %d, %d workers: C[%d] = %g, want %g", isa, sh, tr, stride, w, i, got.Data[i], want.Data[i])
								}
							}
						}
					}
				}
				for _, short := range []string{"A", "B"} {
					func() {
						defer func() {
							if recover() == nil {
								t.Errorf("%v: GemmOverlap accepted %s one value short", sh, short)
							}
						}()
						a, b := New(k, m), New(k, n)
						bad := &Mat{Rows: k, Cols: m, Stride: 2, Data: make([]float32, (k-1)*2+m-1)}
						if short == "A" {
							a = bad
						} else {
							b = &Mat{Rows: k, Cols: n, Stride: 2, Data: make([]float32, (k-1)*2+n-1)}
						}
						GemmOverlap(true, false, 1, a, b, 0, New(m, n))
					}()
				}
			}
		})
	}
}
