package tensor

import (
	"testing"

	"github.com/latent-ml/latent/rng"
)

// TestAddTo: every length from 0 to 200 at every alignment offset gives the
// scalar loop's bits and leaves the values past len(src) alone.
func TestAddTo(t *testing.T) {
	s := rng.New(3)
	for n := 0; n <= 200; n++ {
		for off := 0; off < 3; off++ {
			dst := make([]float32, n+off+5)
			src := make([]float32, n+off)
			s.FillNormal(dst, 0, 1)
			s.FillNormal(src, 0, 1)
			want := append([]float32(nil), dst...)
			for i, v := range src[off:] {
				want[off+i] += v
			}
			AddTo(dst[off:], src[off:])
			for i := range dst {
				if dst[i] != want[i] {
					t.Fatalf("n=%d off=%d: dst[%d] = %v, want %v", n, off, i, dst[i], want[i])
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("AddTo into a shorter dst did not panic")
		}
	}()
	AddTo(make([]float32, 3), make([]float32, 4))
}

// TestAdd checks Add against the scalar sum, value by value, for every length to
// 200 at three offsets, out of place and in place over either operand, that it
// leaves dst's tail alone, and that short operands panic.
func TestAdd(t *testing.T) {
	s := rng.New(4)
	for n := 0; n <= 200; n++ {
		for off := 0; off < 3; off++ {
			a, b := make([]float32, n+off+3), make([]float32, n+off+3)
			s.FillNormal(a, 0, 1)
			s.FillNormal(b, 0, 1)
			want := make([]float32, n)
			for i := range want {
				want[i] = a[off+i] + b[off+i]
			}
			dst := make([]float32, n+off+5)
			dst[n+off] = 7
			Add(dst[off:off+n], a[off:], b[off:])
			inA, inB := append([]float32(nil), a...), append([]float32(nil), b...)
			Add(inA[off:off+n], inA[off:], b[off:])
			Add(inB[off:off+n], a[off:], inB[off:])
			for i, w := range want {
				if dst[off+i] != w || inA[off+i] != w || inB[off+i] != w {
					t.Fatalf("n=%d off=%d: [%d] = %v (in place %v, %v), want %v", n, off, i, dst[off+i], inA[off+i], inB[off+i], w)
				}
			}
			if dst[n+off] != 7 {
				t.Fatalf("n=%d off=%d: Add wrote past dst", n, off)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Add from a shorter operand did not panic")
		}
	}()
	Add(make([]float32, 4), make([]float32, 4), make([]float32, 3))
}
