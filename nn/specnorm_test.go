package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// orthonormalColumns returns an n×k matrix (row-major) with orthonormal columns,
// by Gram-Schmidt on normal draws.
func orthonormalColumns(s *rng.Stream, n, k int) []float64 {
	q := make([]float64, n*k)
	for j := range k {
		for i := range n {
			q[i*k+j] = s.NormFloat64()
		}
		for l := range j {
			var d float64
			for i := range n {
				d += q[i*k+j] * q[i*k+l]
			}
			for i := range n {
				q[i*k+j] -= d * q[i*k+l]
			}
		}
		var ss float64
		for i := range n {
			ss += q[i*k+j] * q[i*k+j]
		}
		for i := range n {
			q[i*k+j] /= math.Sqrt(ss)
		}
	}
	return q
}

// TestSpectralNormSigma: on a Linear layer whose weights are U·diag(s)·Vᵀ with
// known singular values s (largest 3), σ after 100 training passes is 3, the
// normalised weights' largest singular value is 1 (their ‖W v‖ for the top
// right singular vector v of M), and evaluation mode leaves p as it is.
func TestSpectralNormSigma(t *testing.T) {
	s := rng.New(41)
	r, c := 12, 7
	sv := []float64{3, 2.5, 1, 0.7, 0.5, 0.2, 0.1}
	u, v := orthonormalColumns(s, r, c), orthonormalColumns(s, c, c)
	l := NewLinear(r, c, He, s)
	for i := range r {
		for j := range c {
			var m float64
			for k := range c {
				m += u[i*c+k] * sv[k] * v[j*c+k]
			}
			l.W.W[i*c+j] = float32(m)
		}
	}
	sn := NewSpectralNorm(l, s)
	x := randMat(s, 4, r, 1)
	for range 100 {
		sn.Forward(x)
	}
	if math.Abs(sn.Sigma-3) > 1e-5 {
		t.Fatalf("σ after 100 passes = %.8g, want 3", sn.Sigma)
	}
	// W = M/σ maps the top right singular vector (column 0 of V) to length 1.
	var norm float64
	for i := range r {
		var y float64
		for j := range c {
			y += float64(l.W.W[i*c+j]) * v[j*c]
		}
		norm += y * y
	}
	if math.Abs(math.Sqrt(norm)-1) > 1e-5 {
		t.Fatalf("‖W v₁‖ = %.8g, want 1", math.Sqrt(norm))
	}
	p := append([]float32(nil), sn.P.W...)
	sn.SetTraining(false)
	sn.Forward(x)
	sameBits(t, "p in evaluation mode", sn.P.W, p)
}

// TestSpectralNormGrad: in evaluation mode (p fixed) the gradients of a
// wrapped Linear and a wrapped Conv2D (Winograd and im2col geometries) agree
// with finite differences, for the input, M and the bias.
func TestSpectralNormGrad(t *testing.T) {
	s := rng.New(42)
	for _, l := range []Layer{
		NewLinear(6, 4, He, s),
		NewConv2D(ConvGeom{InH: 5, InW: 4, InC: 2, OutC: 3, K: 3, Stride: 2, Pad: 1}, He, s),
		NewConv2D(ConvGeom{InH: 5, InW: 5, InC: 16, OutC: 16, K: 3, Stride: 1, Pad: 1}, He, s),
	} {
		if c, ok := l.(*Conv2D); ok && c.winograd() {
			// Winograd's float32 rounding is not smooth in W, which the finite
			// differences of checkGrad (h = 5e-3, float32) cannot tell from a wrong
			// gradient; its gradients are checked against float64 in TestConv2DRef64.
			c.direct = true
		}
		sn := NewSpectralNorm(l, s)
		in := 6
		if c, ok := l.(*Conv2D); ok {
			in = c.Geom.InH * c.Geom.InW * c.Geom.InC
		}
		x := randMat(s, 3, in, 1)
		for range 3 {
			sn.Forward(x) // training passes move p
		}
		sn.SetTraining(false)
		checkGrad(t, "SpectralNorm", sn, x, false)
	}
}

// TestSpectralNormParamGradOff: with SetParamGrad off, Backward leaves M.G as
// it was and still returns ∂L/∂x; a warm step allocates nothing.
func TestSpectralNormParamGradOff(t *testing.T) {
	s := rng.New(43)
	sn := NewSpectralNorm(NewLinear(5, 3, He, s), s)
	x := randMat(s, 2, 5, 1)
	dy := randMat(s, 2, 3, 1)
	sn.Forward(x)
	sn.Backward(dy)
	g := append([]float32(nil), sn.M.G...)
	SetParamGrad(sn, false)
	sn.Forward(x)
	if sn.Backward(dy) == nil {
		t.Fatal("no ∂L/∂x with the parameter gradients off")
	}
	sameBits(t, "M.G with the parameter gradients off", sn.M.G, g)
	SetParamGrad(sn, true)
	noAllocs(t, "spectral norm step", func() {
		sn.Forward(x)
		sn.Backward(dy)
	})
}
