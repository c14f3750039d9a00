package vae

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// Pictures: these return matrices of decoder means, one image per row, ready for
// viz.SaveGrid (values in [0, 1] for a Bernoulli decoder).

// Traversals returns, for each latent dimension d (one grid row each), the decoder
// means along h_d = −span … span in steps equal steps, the other coordinates held at
// base (the zero vector when base is nil): a (Latent·steps, Dim) matrix. y is the
// conditioning vector (one row) for cvae, else nil.
func (m *Model) Traversals(base []float32, steps int, span float64, y *tensor.Mat) *tensor.Mat {
	D := m.Config.Latent
	if steps < 2 || (base != nil && len(base) != D) {
		panic(fmt.Sprintf("vae: Traversals: steps %d, len(base) %d, latent %d", steps, len(base), D))
	}
	h := tensor.New(D*steps, D)
	for d := 0; d < D; d++ {
		for i := 0; i < steps; i++ {
			r := h.Row(d*steps + i)
			copy(r, base)
			r[d] = float32(-span + 2*span*float64(i)/float64(steps-1))
		}
	}
	return m.Decode(nil, h, repeatY(y, h.Rows))
}

// Manifold returns the decoder means on an n×n grid of a 2-D latent space, at the
// normal quantiles h = (Φ⁻¹(u), Φ⁻¹(v)) of u, v evenly spaced in [0.05, 0.95]
// (the picture of Kingma & Welling 2014, fig. 4, and the Keras VAE example), row by
// row from top (large h₂) to bottom. It panics unless Latent == 2.
func (m *Model) Manifold(n int, y *tensor.Mat) *tensor.Mat {
	if m.Config.Latent != 2 || n < 2 {
		panic(fmt.Sprintf("vae: Manifold needs a 2-D latent space and n >= 2 (latent %d, n %d)", m.Config.Latent, n))
	}
	q := make([]float64, n)
	for i := range q {
		q[i] = NormalQuantile(0.05 + 0.9*float64(i)/float64(n-1))
	}
	h := tensor.New(n*n, 2)
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			h.Set(r*n+c, 0, float32(q[c]))
			h.Set(r*n+c, 1, float32(q[n-1-r]))
		}
	}
	return m.Decode(nil, h, repeatY(y, h.Rows))
}

// NormalQuantile returns Φ⁻¹(p) = √2·erfinv(2p − 1), the standard normal quantile.
func NormalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// repeatY returns y's first row repeated n times (nil for nil).
func repeatY(y *tensor.Mat, n int) *tensor.Mat {
	if y == nil {
		return nil
	}
	out := tensor.New(n, y.Cols)
	for i := 0; i < n; i++ {
		copy(out.Row(i), y.Row(0))
	}
	return out
}
