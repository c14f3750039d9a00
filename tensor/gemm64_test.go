package tensor

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestGemm64 checks every kernel path and transpose combination of the float64 GEMM
// against an exactly rounded reference (big.Float dot products), on strided storage.
func TestGemm64(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 3))
	shapes := [][3]int{{1, 1, 1}, {1, 40, 37}, {7, 13, 5}, {15, 17, 17}, {130, 129, 65}, {65, 300, 131}}
	for _, sh := range shapes {
		m, k, n := sh[0], sh[1], sh[2]
		opA, opB, c0 := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
		for _, s := range [][]float64{opA, opB, c0} {
			for i := range s {
				s[i] = rnd.NormFloat64()
			}
		}
		// Exact Σ_p a·b rounded once, and Σ|a·b| for the error bound.
		exact, abs := make([]float64, m*n), make([]float64, m*n)
		acc := new(big.Float).SetPrec(2000)
		prod := new(big.Float).SetPrec(2000)
		bf := new(big.Float).SetPrec(2000)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				acc.SetFloat64(0)
				var s float64
				for q := 0; q < k; q++ {
					prod.SetFloat64(opA[i*k+q])
					prod.Mul(prod, bf.SetFloat64(opB[q*n+j]))
					acc.Add(acc, prod)
					s += math.Abs(opA[i*k+q] * opB[q*n+j])
				}
				exact[i*n+j], _ = acc.Float64()
				abs[i*n+j] = s
			}
		}
		for _, isa := range gemmPaths(t) {
			withKernel(t, isa, func() {
				for tr := 0; tr < 4; tr++ {
					ta, tb := tr&1 != 0, tr&2 != 0
					for _, ab := range [][2]float64{{1, 0}, {-0.5, 2}} {
						alpha, beta := ab[0], ab[1]
						a, lda := store64(opA, m, k, ta, 1)
						b, ldb := store64(opB, k, n, tb, 2)
						c, ldc := store64(c0, m, n, false, 3)
						Gemm64(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						const u = 1.0 / (1 << 53)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								want := alpha*exact[i*n+j] + beta*c0[i*n+j]
								tol := 2*float64(k)*u*math.Abs(alpha)*abs[i*n+j] + 3*u*(math.Abs(want)+math.Abs(beta*c0[i*n+j])) + 1e-300
								if got := c[i*ldc+j]; !(math.Abs(got-want) <= tol) {
									t.Fatalf("%v %s %v alpha=%g beta=%g: C[%d,%d] = %.17g, want %.17g ± %.2g",
										isa, gemmTransName(ta, tb), sh, alpha, beta, i, j, got, want, tol)
								}
							}
							for j := n; j < ldc && i < m-1; j++ {
								if c[i*ldc+j] != 99 {
									t.Fatalf("%v: wrote outside C at (%d,%d)", isa, i, j)
								}
							}
						}
					}
				}
			})
		}
	}
}

// TestGemm64WorkersBitIdentical: 1 and 2 workers give the same bits.
func TestGemm64WorkersBitIdentical(t *testing.T) {
	defer SetWorkers(0)
	rnd := rand.New(rand.NewPCG(8, 1))
	for _, sh := range [][3]int{{90, 300, 257}, {301, 200, 100}} {
		m, k, n := sh[0], sh[1], sh[2]
		a, b, c0 := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
		for _, s := range [][]float64{a, b, c0} {
			for i := range s {
				s[i] = rnd.NormFloat64()
			}
		}
		for _, isa := range gemmPaths(t) {
			withKernel(t, isa, func() {
				var ref []float64
				for _, w := range []int{1, 2} {
					SetWorkers(w)
					c := append([]float64(nil), c0...)
					Gemm64(false, true, m, n, k, 1.5, a, k, b, k, -1, c, n)
					if ref == nil {
						ref = c
						continue
					}
					for i := range c {
						if math.Float64bits(c[i]) != math.Float64bits(ref[i]) {
							t.Fatalf("%v %v: workers=%d differs at %d", isa, sh, w, i)
						}
					}
				}
			})
		}
	}
}

func TestGemm64Panics(t *testing.T) {
	for i, f := range []func(){
		func() {
			Gemm64(false, false, 2, 2, 2, 1, make([]float64, 3), 2, make([]float64, 4), 2, 0, make([]float64, 4), 2)
		},
		func() {
			Gemm64(false, false, 2, 2, 2, 1, make([]float64, 4), 1, make([]float64, 4), 2, 0, make([]float64, 4), 2)
		},
		func() { Gemm64(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("case %d: no panic", i)
				}
			}()
			f()
		}()
	}
}

// store64 lays out a rows×cols matrix, transposed if asked, with leading dimension
// cols+pad; padding holds 99.
func store64(x []float64, rows, cols int, trans bool, pad int) ([]float64, int) {
	r, c := rows, cols
	if trans {
		r, c = cols, rows
	}
	ld := c + pad
	out := make([]float64, (r-1)*ld+c)
	for i := range out {
		out[i] = 99
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			if trans {
				out[j*ld+i] = x[i*cols+j]
			} else {
				out[i*ld+j] = x[i*cols+j]
			}
		}
	}
	return out, ld
}

func ExampleGemm64() {
	// C (2×2) = A (2×3) · Bᵀ, B stored 2×3.
	a := []float64{1, 2, 3, 4, 5, 6}
	b := []float64{1, 0, 1, 0, 1, 0}
	c := make([]float64, 4)
	Gemm64(false, true, 2, 2, 3, 1, a, 3, b, 3, 0, c, 2)
	fmt.Println(c)
	// Output: [4 2 10 5]
}
