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
