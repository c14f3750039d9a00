package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// sparseMat returns an r×c view (stride c+pad) whose elements are nonzero with
// probability density: 1 when binary, else normal values.
func sparseMat(s *rng.Stream, r, c, pad int, density float64, binary bool) *Mat {
	m := &Mat{Rows: r, Cols: c, Stride: c + pad, Data: make([]float32, r*(c+pad))}
	for i := range m.Data {
		m.Data[i] = float32(math.NaN()) // padding must never be read
	}
	for i := 0; i < r; i++ {
		row := m.Row(i)
		for j := range row {
			row[j] = 0
			if s.Float64() < density {
				row[j] = 1
				if !binary {
					row[j] = float32(s.NormFloat64())
				}
			}
		}
	}
	return m
}

func denseMat(s *rng.Stream, r, c, pad int) *Mat {
	m := &Mat{Rows: r, Cols: c, Stride: c + pad, Data: make([]float32, r*(c+pad))}
	for i := range m.Data {
		m.Data[i] = float32(math.NaN())
	}
	for i := 0; i < r; i++ {
		row := m.Row(i)
		for j := range row {
			row[j] = float32(s.NormFloat64())
		}
	}
	return m
}

// checkSpMM compares c (= alpha·op(a)·b + beta·c0) with a float64 reference, to
// within (k+2)·2⁻²³ relative to Σ|alpha·a·b| + |beta·c0|.
func checkSpMM(t *testing.T, name string, transA bool, alpha float32, a, b *Mat, beta float32, c0, c *Mat) {
	t.Helper()
	m, k := a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	at := func(i, p int) float64 {
		if transA {
			return float64(a.At(p, i))
		}
		return float64(a.At(i, p))
	}
	for i := 0; i < m; i++ {
		for j := 0; j < b.Cols; j++ {
			var sum, mag float64
			for p := 0; p < k; p++ {
				x := at(i, p) * float64(b.At(p, j))
				sum += x
				mag += math.Abs(x)
			}
			want := float64(alpha) * sum
			mag *= math.Abs(float64(alpha))
			if beta != 0 {
				want += float64(beta) * float64(c0.At(i, j))
				mag += math.Abs(float64(beta) * float64(c0.At(i, j)))
			}
			got := float64(c.At(i, j))
			if tol := float64(k+2) * 0x1p-23 * mag; math.Abs(got-want) > tol || math.IsNaN(got) {
				t.Fatalf("%s: C[%d,%d] = %g, want %g (tol %g)", name, i, j, got, want, tol)
			}
		}
	}
}

func TestSpMM(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {2, 9, 16}, {17, 33, 129}, {5, 40, 257}, {100, 784, 500}, {8, 3, 200}, {4, 6, 15}}
	densities := []float64{0, 0.01, 0.13, 0.5, 1}
	coefs := [][2]float32{{1, 0}, {-0.7, 1}, {0.3, -2}}
	withPath(t, func(t *testing.T) {
		s := rng.New(1)
		var csr CSR
		for _, sh := range shapes {
			m, k, n := sh[0], sh[1], sh[2]
			for _, d := range densities {
				for ci, co := range coefs {
					// The RBM shape (100×784×500) is costly to check against the
					// float64 reference: two densities and two coefficient pairs
					// there; the small shapes take every combination.
					if m*k*n > 1e6 && (ci == 2 || (d != 0.13 && d != 1)) {
						continue
					}
					for _, transA := range []bool{false, true} {
						pad := ci // views with Stride > Cols for ci > 0
						binary := ci != 2
						ar, ac := m, k
						if transA {
							ar, ac = k, m
						}
						a := sparseMat(s, ar, ac, pad, d, binary)
						b := denseMat(s, k, n, pad)
						c := denseMat(s, m, n, pad)
						if co[1] == 0 {
							for i := range c.Data {
								c.Data[i] = float32(math.NaN()) // ignored when beta = 0
							}
						}
						c0 := &Mat{Rows: c.Rows, Cols: c.Cols, Stride: c.Stride, Data: append([]float32(nil), c.Data...)}
						SpMM(co[0], csr.FromDense(a, transA), b, co[1], c)
						name := fmt.Sprintf("%dx%dx%d d=%g alpha=%g beta=%g transA=%v", m, k, n, d, co[0], co[1], transA)
						checkSpMM(t, name, transA, co[0], a, b, co[1], c0, c)
						// Padding of C untouched.
						for i := 0; i < c.Rows; i++ {
							for j := c.Cols; j < c.Stride && i*c.Stride+j < len(c.Data); j++ {
								if x, y := c.Data[i*c.Stride+j], c0.Data[i*c0.Stride+j]; math.Float32bits(x) != math.Float32bits(y) {
									t.Fatalf("%s: padding C[%d,%d] changed", name, i, j)
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestSpMMvsGemm checks SpMM against the dense Gemm on the RBM shapes.
func TestSpMMvsGemm(t *testing.T) {
	withPath(t, func(t *testing.T) {
		s := rng.New(2)
		v := sparseMat(s, 100, 784, 0, 0.13, true)
		w := denseMat(s, 784, 500, 0)
		p := denseMat(s, 100, 500, 0)
		var csr, csrT CSR
		csr.FromDense(v, false)
		csrT.Transpose(&csr)
		got, want := New(100, 500), New(100, 500)
		SpMM(1, &csr, w, 0, got)
		Gemm(false, false, 1, v, w, 0, want)
		closeMat(t, "v·W", got, want, 784)
		got, want = New(784, 500), New(784, 500)
		got.Fill(0.5)
		want.Fill(0.5)
		SpMM(-0.01, &csrT, p, 1, got)
		Gemm(true, false, -0.01, v, p, 1, want)
		closeMat(t, "vᵀ·P", got, want, 100)
	})
}

func closeMat(t *testing.T, name string, got, want *Mat, k int) {
	t.Helper()
	var worst float64
	for i := 0; i < got.Rows; i++ {
		for j := 0; j < got.Cols; j++ {
			d := math.Abs(float64(got.At(i, j) - want.At(i, j)))
			worst = max(worst, d/(1+math.Abs(float64(want.At(i, j)))))
		}
	}
	if worst > float64(k)*0x1p-23*4 {
		t.Errorf("%s: worst relative difference from Gemm %g", name, worst)
	}
}

func TestCSRBuild(t *testing.T) {
	withPath(t, func(t *testing.T) {
		s := rng.New(3)
		var a, b, c CSR
		for _, sh := range [][2]int{{0, 0}, {0, 5}, {5, 0}, {1, 1}, {7, 13}, {100, 784}} {
			for _, d := range []float64{0, 0.1, 1} {
				m := sparseMat(s, sh[0], sh[1], 2, d, false)
				a.FromDense(m, false)
				b.FromDense(m, true)
				c.Transpose(&a)
				if a.Rows() != sh[0] || a.Cols() != sh[1] || b.Rows() != sh[1] || b.Cols() != sh[0] {
					t.Fatalf("%v: shapes %d×%d, %d×%d", sh, a.Rows(), a.Cols(), b.Rows(), b.Cols())
				}
				nnz := 0
				for i := 0; i < m.Rows; i++ {
					for _, x := range m.Row(i) {
						if x != 0 {
							nnz++
						}
					}
				}
				if a.NNZ() != nnz || b.NNZ() != nnz || c.NNZ() != nnz {
					t.Fatalf("%v d=%g: NNZ %d, %d, %d, want %d", sh, d, a.NNZ(), b.NNZ(), c.NNZ(), nnz)
				}
				if nnz > 0 && math.Abs(a.Density()-float64(nnz)/float64(sh[0]*sh[1])) > 1e-12 {
					t.Fatalf("Density %g", a.Density())
				}
				// Expand every form back and compare with m (or mᵀ).
				for i := 0; i < m.Rows; i++ {
					idx, val := a.Row(i)
					dense := make([]float32, m.Cols)
					last := int32(-1)
					for k, j := range idx {
						if j <= last {
							t.Fatalf("row %d: columns not increasing", i)
						}
						last = j
						dense[j] = val[k]
					}
					for j, x := range m.Row(i) {
						if dense[j] != x {
							t.Fatalf("%v: row %d col %d = %g, want %g", sh, i, j, dense[j], x)
						}
					}
				}
				for _, tr := range []*CSR{&b, &c} {
					for j := 0; j < m.Cols; j++ {
						idx, val := tr.Row(j)
						last := int32(-1)
						for k, i := range idx {
							if i <= last || m.At(int(i), j) != val[k] || val[k] == 0 {
								t.Fatalf("%v: transposed row %d entry %d wrong", sh, j, k)
							}
							last = i
						}
					}
				}
				for i := 0; i < b.Rows(); i++ {
					bi, bv := b.Row(i)
					ci, cv := c.Row(i)
					if fmt.Sprint(bi, bv) != fmt.Sprint(ci, cv) {
						t.Fatalf("FromDense(·, true) and Transpose differ in row %d", i)
					}
				}
			}
		}
	})
}

// TestSpMMWorkers checks that one and two workers give bit-identical results and
// that warm calls do not allocate.
func TestSpMMWorkers(t *testing.T) {
	defer SetWorkers(0)
	withPath(t, func(t *testing.T) {
		s := rng.New(4)
		v := sparseMat(s, 100, 784, 0, 0.2, true)
		w := denseMat(s, 784, 500, 3)
		p := denseMat(s, 100, 500, 0)
		var csr, csrT CSR
		var outs [2][2]*Mat
		for wi, workers := range []int{1, 2} {
			SetWorkers(workers)
			c1, c2 := New(100, 500), New(784, 500)
			c2.Fill(1)
			csr.FromDense(v, false)
			csrT.Transpose(&csr)
			SpMM(0.5, &csr, w, 0, c1)
			SpMM(-0.25, &csrT, p, 1, c2)
			outs[wi] = [2]*Mat{c1, c2}
			allocs := testing.AllocsPerRun(20, func() {
				csr.FromDense(v, false)
				csrT.Transpose(&csr)
				SpMM(0.5, &csr, w, 0, c1)
				SpMM(-0.25, &csrT, p, 1, c2)
			})
			if allocs != 0 {
				t.Errorf("%d workers: %g allocations per warm call", workers, allocs)
			}
		}
		for k := range outs[0] {
			for i, x := range outs[0][k].Data {
				if math.Float32bits(x) != math.Float32bits(outs[1][k].Data[i]) {
					t.Fatalf("product %d element %d: 1 worker %g, 2 workers %g", k, i, x, outs[1][k].Data[i])
				}
			}
		}
	})
}

func TestSpMMPanics(t *testing.T) {
	var csr CSR
	csr.FromDense(New(3, 4), false)
	for name, f := range map[string]func(){
		"shape":  func() { SpMM(1, &csr, New(5, 2), 0, New(3, 2)) },
		"C rows": func() { SpMM(1, &csr, New(4, 2), 0, New(2, 2)) },
		"B data": func() { SpMM(1, &csr, &Mat{Rows: 4, Cols: 2, Stride: 2, Data: make([]float32, 7)}, 0, New(3, 2)) },
		"same":   func() { csr.Transpose(&csr) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkSpMM times the four sparse products of an RBM CD step (784×500, batch
// 100) at several densities of the visible batch, next to the dense Gemm doing
// the same product: "vW" is (100×784 sparse)·(784×500), "vTP" is
// (784×100 sparse)·(100×500) with beta = 1; "build" is FromDense plus Transpose.
func BenchmarkSpMM(b *testing.B) {
	s := rng.New(5)
	w := denseMat(s, 784, 500, 0)
	p := denseMat(s, 100, 500, 0)
	for _, d := range []float64{0.13, 0.19, 0.3, 0.5} {
		v := sparseMat(s, 100, 784, 0, d, true)
		var csr, csrT CSR
		csr.FromDense(v, false)
		csrT.Transpose(&csr)
		c1, c2 := New(100, 500), New(784, 500)
		b.Run(fmt.Sprintf("d=%g/vW", d), func(b *testing.B) {
			b.SetBytes(0)
			for i := 0; i < b.N; i++ {
				SpMM(1, &csr, w, 0, c1)
			}
			b.ReportMetric(2*float64(csr.NNZ())*500*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("d=%g/vTP", d), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				SpMM(1, &csrT, p, 1, c2)
			}
			b.ReportMetric(2*float64(csr.NNZ())*500*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("d=%g/build", d), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				csr.FromDense(v, false)
				csrT.Transpose(&csr)
			}
		})
	}
	v := sparseMat(s, 100, 784, 0, 0.13, true)
	c1, c2 := New(100, 500), New(784, 500)
	b.Run("dense/vW", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Gemm(false, false, 1, v, w, 0, c1)
		}
	})
	b.Run("dense/vTP", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Gemm(true, false, 1, v, p, 1, c2)
		}
	})
}

// NaNs count as nonzeros on every path, and signed zeros are dropped.
func TestCSRKeepsNaN(t *testing.T) {
	withPath(t, func(t *testing.T) {
		m := New(2, 37)
		nan := float32(math.NaN())
		m.Set(0, 3, nan)
		m.Set(0, 36, 2)
		m.Set(1, 17, float32(math.Copysign(0, -1)))
		m.Set(1, 20, nan)
		var c CSR
		c.FromDense(m, false)
		i0, v0 := c.Row(0)
		i1, v1 := c.Row(1)
		if c.NNZ() != 3 || len(i0) != 2 || i0[0] != 3 || i0[1] != 36 || v0[1] != 2 || !math.IsNaN(float64(v0[0])) ||
			len(i1) != 1 || i1[0] != 20 || !math.IsNaN(float64(v1[0])) {
			t.Errorf("rows %v %v, %v %v", i0, v0, i1, v1)
		}
	})
}

// TestGatherRows checks that gathering rows of a CSR gives exactly the CSR of the
// gathered dense rows (repeats and an empty selection included), without
// allocating once warm.
func TestGatherRows(t *testing.T) {
	s := rng.New(4)
	a := sparseMat(s, 50, 37, 3, 0.2, false)
	var src, got, want CSR
	src.FromDense(a, false)
	for _, rows := range [][]int{{}, {0}, {49, 0, 7, 7, 12}, s.Perm(50)} {
		got.GatherRows(&src, rows)
		d := New(len(rows), a.Cols)
		for i, r := range rows {
			copy(d.Row(i), a.Row(r))
		}
		want.FromDense(d, false)
		if got.Rows() != want.Rows() || got.Cols() != want.Cols() || got.NNZ() != want.NNZ() {
			t.Fatalf("rows %v: %d×%d nnz %d, want %d×%d nnz %d", rows, got.Rows(), got.Cols(), got.NNZ(), want.Rows(), want.Cols(), want.NNZ())
		}
		for i := 0; i < got.Rows(); i++ {
			gi, gv := got.Row(i)
			wi, wv := want.Row(i)
			if fmt.Sprint(gi, gv) != fmt.Sprint(wi, wv) {
				t.Fatalf("rows %v: row %d differs", rows, i)
			}
		}
	}
	rows := s.Perm(50)
	if n := testing.AllocsPerRun(5, func() { got.GatherRows(&src, rows) }); n != 0 {
		t.Errorf("%.1f allocations per warm GatherRows", n)
	}
	defer func() {
		if recover() == nil {
			t.Error("out-of-range row did not panic")
		}
	}()
	got.GatherRows(&src, []int{50})
}
