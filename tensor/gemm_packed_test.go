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
