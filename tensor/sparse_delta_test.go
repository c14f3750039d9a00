package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// perturbed returns a copy of a with each element replaced, with probability p, by 0,
// by 1 or (when binary is false) by a new normal value.
func perturbed(s *rng.Stream, a *Mat, p float64, binary bool) *Mat {
	b := a.Clone()
	for i := 0; i < b.Rows; i++ {
		row := b.Row(i)
		for j := range row {
			if s.Float64() >= p {
				continue
			}
			switch {
			case binary:
				row[j] = 1 - row[j]
			case s.Float64() < 0.5:
				row[j] = 0
			default:
				row[j] = float32(s.NormFloat64())
			}
		}
	}
	return b
}

// dense returns the rows [lo, hi) of c as a dense matrix.
func denseRows(c *CSR, lo, hi int) *Mat {
	m := New(hi-lo, c.Cols())
	for i := lo; i < hi; i++ {
		idx, val := c.Row(i)
		for k, j := range idx {
			m.Set(i-lo, int(j), val[k])
		}
	}
	return m
}

func checkSorted(t *testing.T, c *CSR) {
	t.Helper()
	for i := 0; i < c.Rows(); i++ {
		idx, val := c.Row(i)
		for k := range idx {
			if k > 0 && idx[k] <= idx[k-1] {
				t.Fatalf("row %d: columns %v not increasing", i, idx)
			}
			if val[k] == 0 {
				t.Fatalf("row %d: stored zero at column %d", i, idx[k])
			}
		}
	}
}

// TestDiffRows checks DiffRows row by row against the dense difference (exact: the
// values are 0, ±1 or a float32 and its difference with 0), that a row is incremental
// exactly when its difference is shorter than next's row, and that the product
// P + s·B it stands for equals next·B within rounding, on data that changes little
// (mostly incremental rows), much (mostly fresh rows) and for empty matrices.
func TestDiffRows(t *testing.T) {
	s := rng.New(21)
	var prev, next, d CSR
	for _, c := range []struct {
		r, n    int
		density float64
		flip    float64
		binary  bool
	}{
		{0, 5, 0.2, 0.1, true},
		{7, 0, 0.2, 0.1, true},
		{40, 97, 0.15, 0.02, true},
		{40, 97, 0.15, 0.5, true},
		{30, 64, 0.3, 0.05, false},
		{30, 64, 0.3, 0.6, false},
	} {
		a := sparseMat(s, c.r, c.n, 2, c.density, c.binary)
		b := perturbed(s, a, c.flip, c.binary)
		prev.FromDense(a, false)
		next.FromDense(b, false)
		fresh := make([]bool, c.r)
		d.DiffRows(&prev, &next, fresh)
		checkSorted(t, &d)
		if d.Rows() != c.r || d.Cols() != c.n {
			t.Fatalf("%+v: %d×%d", c, d.Rows(), d.Cols())
		}
		got := denseRows(&d, 0, c.r)
		nFresh := 0
		for i := 0; i < c.r; i++ {
			diffNNZ, nextNNZ := 0, 0
			for j := 0; j < c.n; j++ {
				if b.At(i, j) != a.At(i, j) {
					diffNNZ++
				}
				if b.At(i, j) != 0 {
					nextNNZ++
				}
			}
			if fresh[i] {
				nFresh++
			}
			if fresh[i] != (diffNNZ >= nextNNZ) {
				t.Fatalf("%+v row %d: fresh %v with %d changes, %d nonzeros", c, i, fresh[i], diffNNZ, nextNNZ)
			}
			for j := 0; j < c.n; j++ {
				want := b.At(i, j)
				if !fresh[i] {
					want = b.At(i, j) - a.At(i, j)
				}
				if got.At(i, j) != want {
					t.Fatalf("%+v row %d col %d: %g, want %g", c, i, j, got.At(i, j), want)
				}
			}
		}
		// The product it stands for: P + s·B against next·B in float64.
		if c.r > 0 && c.n > 0 {
			B := denseMat(s, c.n, 33, 0)
			C := New(c.r, 33)
			Gemm(false, false, 1, a, B, 0, C)
			for i := 0; i < c.r; i++ {
				if fresh[i] {
					clear(C.Row(i))
				}
			}
			SpMM(1, &d, B, 1, C)
			for i := 0; i < c.r; i++ {
				for j := 0; j < 33; j++ {
					var want, mag float64
					for k := 0; k < c.n; k++ {
						want += float64(b.At(i, k)) * float64(B.At(k, j))
						mag += math.Abs(float64(b.At(i, k))*float64(B.At(k, j))) + math.Abs(float64(a.At(i, k))*float64(B.At(k, j)))
					}
					if e := math.Abs(float64(C.At(i, j)) - want); e > 4*float64(c.n)*0x1p-24*mag+1e-30 {
						t.Fatalf("%+v: product (%d,%d) = %g, want %g", c, i, j, C.At(i, j), want)
					}
				}
			}
		}
		t.Logf("%+v: %d of %d rows fresh, nnz %d against next's %d", c, nFresh, c.r, d.NNZ(), next.NNZ())
	}
	fresh := make([]bool, 40)
	a := sparseMat(s, 40, 97, 0, 0.15, true)
	prev.FromDense(a, false)
	next.FromDense(perturbed(s, a, 0.05, true), false)
	if n := testing.AllocsPerRun(5, func() { d.DiffRows(&prev, &next, fresh) }); n != 0 {
		t.Errorf("%.1f allocations per warm DiffRows", n)
	}
	defer func() {
		if recover() == nil {
			t.Error("DiffRows with too few flags did not panic")
		}
	}()
	d.DiffRows(&prev, &next, fresh[:39])
}

// TestSplitTranspose builds [a∖b; scale·(b∖a); a∩b] densely from its definition and
// checks SplitTranspose against FromDense of its transpose bit for bit (entries,
// order and values; scale −1 and 0.5 are exact), on binary matrices (the bitset path,
// with more than 64 rows so that a column spans words) and general ones, and empty
// shapes.
func TestSplitTranspose(t *testing.T) {
	s := rng.New(22)
	var a, b, sp, want CSR
	for _, binary := range []bool{true, false} {
		for _, sh := range [][2]int{{0, 5}, {6, 0}, {50, 80}, {130, 97}} {
			am := sparseMat(s, sh[0], sh[1], 1, 0.2, binary)
			bm := perturbed(s, am, 0.1, binary)
			a.FromDense(am, false)
			b.FromDense(bm, false)
			r := sh[0]
			for _, scale := range []float32{-1, 0.5} {
				stacked := New(3*r, sh[1])
				shared := 0
				for i := 0; i < r; i++ {
					for j := 0; j < sh[1]; j++ {
						x, y := am.At(i, j), bm.At(i, j)
						if x != 0 && x == y {
							stacked.Set(2*r+i, j, x)
							shared++
							continue
						}
						stacked.Set(i, j, x)
						stacked.Set(r+i, j, scale*y)
					}
				}
				want.FromDense(stacked, true)
				sp.SplitTranspose(&a, &b, scale)
				checkSorted(t, &sp)
				if sp.Rows() != want.Rows() || sp.Cols() != want.Cols() || sp.NNZ() != want.NNZ() || sp.NNZ() != a.NNZ()+b.NNZ()-shared {
					t.Fatalf("binary %v %v: %d×%d nnz %d, want %d×%d nnz %d", binary, sh, sp.Rows(), sp.Cols(), sp.NNZ(), want.Rows(), want.Cols(), want.NNZ())
				}
				for j := 0; j < sp.Rows(); j++ {
					gi, gv := sp.Row(j)
					wi, wv := want.Row(j)
					if fmt.Sprint(gi, gv) != fmt.Sprint(wi, wv) {
						t.Fatalf("binary %v %v scale %g: row %d is %v %v, want %v %v", binary, sh, scale, j, gi, gv, wi, wv)
					}
				}
			}
		}
		if n := testing.AllocsPerRun(5, func() { sp.SplitTranspose(&a, &b, -1) }); n != 0 {
			t.Errorf("binary %v: %.1f allocations per warm SplitTranspose", binary, n)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("SplitTranspose of mismatched shapes did not panic")
		}
	}()
	a.FromDense(New(2, 3), false)
	b.FromDense(New(2, 4), false)
	sp.SplitTranspose(&a, &b, 1)
}

// BenchmarkSparseDelta times DiffRows and SplitTranspose on an RBM-sized batch: 100 binary
// rows of 784 columns at density 0.13, and a copy of it with 4% of the bits flipped
// (about a third of the on units, as a reconstruction early in training).
func BenchmarkSparseDelta(b *testing.B) {
	s := rng.New(5)
	a := sparseMat(s, 100, 784, 0, 0.13, true)
	var prev, next, d CSR
	prev.FromDense(a, false)
	next.FromDense(perturbed(s, a, 0.04, true), false)
	fresh := make([]bool, 100)
	b.Run("DiffRows", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			d.DiffRows(&prev, &next, fresh)
		}
	})
	b.Run("SplitTranspose", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			d.SplitTranspose(&prev, &next, -1)
		}
	})
}
