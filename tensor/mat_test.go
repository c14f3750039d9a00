package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestGonumRoundTrip: Mat → mat.Dense → Mat reproduces every bit (float32 ⊂ float64),
// views included, and a gonum product agrees with Gemm.
func TestGonumRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(4, 4))
	big := gemmRandMat(rnd, 9, 7)
	big.Data[3] = float32(math.Inf(1))
	big.Data[4] = float32(math.Copysign(0, -1))
	big.Data[5] = math.Float32frombits(1) // smallest subnormal
	view := &Mat{Rows: 5, Cols: 4, Stride: 7, Data: big.Data[7*2+1 : 7*6+5]}
	for _, m := range []*Mat{big, view} {
		d := ToDense(nil, m)
		if r, c := d.Dims(); r != m.Rows || c != m.Cols {
			t.Fatalf("ToDense dims %d×%d, want %d×%d", r, c, m.Rows, m.Cols)
		}
		for i := 0; i < m.Rows; i++ {
			for j := 0; j < m.Cols; j++ {
				if d.At(i, j) != float64(m.At(i, j)) {
					t.Fatalf("ToDense (%d,%d) = %g, want %g", i, j, d.At(i, j), m.At(i, j))
				}
			}
		}
		back := FromDense(nil, d)
		for i := 0; i < m.Rows; i++ {
			for j := 0; j < m.Cols; j++ {
				if math.Float32bits(back.At(i, j)) != math.Float32bits(m.At(i, j)) {
					t.Fatalf("round trip (%d,%d): %g != %g", i, j, back.At(i, j), m.At(i, j))
				}
			}
		}
		// Transposed gonum views and reuse of dst.
		tr := FromDense(New(m.Cols, m.Rows), d.T())
		for i := 0; i < m.Rows; i++ {
			for j := 0; j < m.Cols; j++ {
				if math.Float32bits(tr.At(j, i)) != math.Float32bits(m.At(i, j)) {
					t.Fatalf("FromDense(d.T()) (%d,%d) wrong", j, i)
				}
			}
		}
		var empty mat.Dense
		if got := ToDense(&empty, m); got != &empty || got.At(m.Rows-1, m.Cols-1) != float64(m.At(m.Rows-1, m.Cols-1)) {
			t.Fatal("ToDense into an empty Dense did not fill it")
		}
	}
	// FromDense rounds to nearest float32.
	d := mat.NewDense(1, 2, []float64{1 + 1e-12, 1.0 / 3})
	got := FromDense(nil, d)
	if got.At(0, 0) != 1 || got.At(0, 1) != float32(1.0/3) {
		t.Fatalf("FromDense rounding: %v", got.Data)
	}
	// A gonum product agrees with Gemm.
	a, b := gemmRandMat(rnd, 20, 30), gemmRandMat(rnd, 30, 10)
	var p mat.Dense
	p.Mul(ToDense(nil, a), ToDense(nil, b))
	c := New(20, 10)
	Gemm(false, false, 1, a, b, 0, c)
	for i := 0; i < 20; i++ {
		for j := 0; j < 10; j++ {
			if math.Abs(p.At(i, j)-float64(c.At(i, j))) > 1e-4 {
				t.Fatalf("gonum Mul vs Gemm at (%d,%d): %g vs %g", i, j, p.At(i, j), c.At(i, j))
			}
		}
	}
}

func TestGonumPanics(t *testing.T) {
	for i, f := range []func(){
		func() { ToDense(nil, New(0, 3)) },
		func() { ToDense(mat.NewDense(2, 2, nil), New(2, 3)) },
		func() { FromDense(New(2, 2), mat.NewDense(2, 3, nil)) },
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

// TestMatViews: Slice shares storage, Row respects Stride, Reuse keeps capacity.
func TestMatViews(t *testing.T) {
	m := New(4, 3)
	for i := range m.Data {
		m.Data[i] = float32(i)
	}
	v := m.Slice(1, 3)
	if v.Rows != 2 || v.At(0, 0) != 3 || v.At(1, 2) != 8 {
		t.Fatalf("Slice(1,3) = %+v", v)
	}
	v.Set(0, 1, -1)
	if m.At(1, 1) != -1 {
		t.Fatal("Slice does not share storage")
	}
	w := &Mat{Rows: 2, Cols: 2, Stride: 3, Data: m.Data[1:]}
	if r := w.Row(1); len(r) != 2 || r[0] != -1 || r[1] != 5 {
		t.Fatalf("strided Row(1) = %v", r)
	}
	buf := New(10, 10)
	p := &buf.Data[0]
	r := Reuse(buf, 5, 7)
	if &r.Data[0] != p || r.Rows != 5 || r.Cols != 7 || r.Stride != 7 {
		t.Fatal("Reuse reallocated a large enough buffer")
	}
}
