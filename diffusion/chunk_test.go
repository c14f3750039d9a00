package diffusion

import (
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// The sampler's chunked network calls give the same bits as one call on all
// rows, for an unconditional and a conditional U-Net (labels follow the rows).
func TestChunkedNetSameBits(t *testing.T) {
	for _, classes := range []int{0, 3} {
		s := rng.New(3)
		u := NewUNetCond(8, 8, 1, 4, classes, s)
		for _, p := range u.Params() { // the last convolution starts at zero
			if len(p.W) > 0 && p.W[0] == 0 {
				s.FillNormal(p.W, 0, 0.1)
			}
		}
		x := tensor.New(7, 64)
		s.FillNormal(x.Data, 0, 1)
		steps := []int{1, 5, 9, 2, 7, 3, 8}
		labels := []int{0, 1, 2, 3, 0, 1, 2}
		whole := &chunkedNet{net: u, rows: 100}
		whole.SetLabels(labels)
		want := whole.Eps(x, steps).Clone()
		for _, rows := range []int{1, 2, 3, 6} {
			c := &chunkedNet{net: u, rows: rows}
			c.SetLabels(labels)
			got := c.Eps(x, steps)
			for i, v := range got.Data {
				if v != want.Data[i] {
					t.Fatalf("classes %d, chunks of %d: value %d is %v, one call gives %v", classes, rows, i, v, want.Data[i])
				}
			}
		}
		if classes > 0 {
			other := &chunkedNet{net: u, rows: 3}
			other.SetLabels([]int{2, 2, 2, 2, 2, 2, 2})
			if got := other.Eps(x, steps); got.Data[0] == want.Data[0] && got.Data[1] == want.Data[1] {
				t.Errorf("the labels do not reach the network")
			}
		}
	}
}
