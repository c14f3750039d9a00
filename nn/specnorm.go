package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// SpectralNorm is spectral normalisation (Miyato, Kataoka, Koyama & Yoshida
// 2018, "Spectral normalization for generative adversarial networks"): it
// wraps a Linear or Conv2D layer whose weights, as an r×c matrix M (rows the
// fan-in, K²·InC for a convolution, columns the outputs), the wrapped layer
// sees divided by their largest singular value, W = M/σ(M). σ is estimated by
// one step of power iteration per training forward pass from a persistent
// vector p (c values) and its partner q (r values):
//
//	q ← M p / ‖M p‖,   p ← Mᵀ q / ‖Mᵀ q‖,   σ = qᵀ M p.
//
// In evaluation mode p stays as it is, q = M p / ‖M p‖ and σ = qᵀ M p = ‖M p‖.
// The gradient treats p and q as constants, as the paper does (its section
// 2.1; in evaluation mode it is then exact): with
// G = ∂L/∂W from the wrapped layer,
//
//	∂L/∂M = (G − ⟨G, W⟩ q pᵀ) / σ.
//
// Params returns M (the trainable weights, named "W") and the wrapped layer's
// bias; Buffers returns p and q, so a model file holds them and a resumed run
// continues bit for bit. Sums run in float64 in a fixed order.
type SpectralNorm struct {
	Inner Layer  // *Linear or *Conv2D; its W holds M/σ after each Forward
	M     *Param // the raw weights, r×c
	P, Q  *Param // buffers: the power iteration's vectors (c and r values)
	Sigma float64

	inner    *Param // the wrapped layer's weight parameter (W = M/σ)
	bias     *Param
	r, c     int
	training bool
	noGrad   func() bool
	acc      []float64   // Mᵀq
	mm       *tensor.Mat // M as r×c
}

// NewSpectralNorm wraps l (a *Linear or *Conv2D), taking its current weights as
// M and drawing p from s. It panics for any other layer.
func NewSpectralNorm(l Layer, s *rng.Stream) *SpectralNorm {
	sn := &SpectralNorm{Inner: l, training: true}
	switch l := l.(type) {
	case *Linear:
		sn.inner, sn.bias, sn.r, sn.c = l.W, l.B, l.In, l.Out
		sn.noGrad = func() bool { return l.NoParamGrad }
	case *Conv2D:
		g := l.Geom
		sn.inner, sn.bias, sn.r, sn.c = l.W, l.B, g.K*g.K*g.InC, g.OutC
		sn.noGrad = func() bool { return l.NoParamGrad }
	default:
		panic(fmt.Sprintf("nn: NewSpectralNorm: %T is not a Linear or Conv2D", l))
	}
	sn.M = NewParam("W", sn.inner.Shape...)
	copy(sn.M.W, sn.inner.W)
	sn.mm = sn.M.Mat(sn.r, sn.c)
	sn.P, sn.Q = NewBuffer("sn_p", sn.c), NewBuffer("sn_q", sn.r)
	s.FillNormal(sn.P.W, 0, 1)
	normalize32(sn.P.W)
	sn.power(false) // q from p, so that evaluation before training is defined
	return sn
}

// normalize32 scales v to unit length (in float64), leaving a zero vector as it is.
func normalize32(v []float32) float64 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	n := math.Sqrt(ss)
	if n > 0 {
		for i, x := range v {
			v[i] = float32(float64(x) / n)
		}
	}
	return n
}

// power runs q ← Mp/‖Mp‖ and, with both, p ← Mᵀq/‖Mᵀq‖; then it sets σ = qᵀMp.
func (sn *SpectralNorm) power(both bool) {
	m := sn.mm
	p, q := sn.P.W, sn.Q.W
	for i := range sn.r {
		var s float64
		for j, v := range m.Row(i) {
			s += float64(v) * float64(p[j])
		}
		q[i] = float32(s)
	}
	normalize32(q)
	if both {
		if len(sn.acc) != sn.c {
			sn.acc = make([]float64, sn.c)
		}
		acc := sn.acc
		clear(acc)
		for i := range sn.r {
			qi := float64(q[i])
			for j, v := range m.Row(i) {
				acc[j] += qi * float64(v)
			}
		}
		for j := range p {
			p[j] = float32(acc[j])
		}
		normalize32(p)
	}
	var sigma float64
	for i := range sn.r {
		var s float64
		for j, v := range m.Row(i) {
			s += float64(v) * float64(p[j])
		}
		sigma += float64(q[i]) * s
	}
	sn.Sigma = sigma
}

// SetTraining switches power iteration on (training) or off (evaluation).
func (sn *SpectralNorm) SetTraining(on bool) {
	sn.training = on
	SetTraining(sn.Inner, on)
}

// Forward sets the wrapped layer's weights to M/σ (one power-iteration step
// first in training mode) and runs it.
func (sn *SpectralNorm) Forward(x *tensor.Mat) *tensor.Mat {
	sn.power(sn.training)
	// Weights that are all zero or not finite give σ = 0 or NaN and outputs
	// that are not finite, which the caller's loss check reports (the GAN
	// names the epoch and step).
	inv := 1 / sn.Sigma
	for i, v := range sn.M.W {
		sn.inner.W[i] = float32(float64(v) * inv)
	}
	return sn.Inner.Forward(x)
}

// Backward runs the wrapped layer's Backward and sets ∂L/∂M from its ∂L/∂W.
func (sn *SpectralNorm) Backward(dy *tensor.Mat) *tensor.Mat {
	dx := sn.Inner.Backward(dy)
	if sn.noGrad() {
		return dx
	}
	g, w := sn.inner.G, sn.inner.W
	var gw float64
	for i, v := range g {
		gw += float64(v) * float64(w[i])
	}
	inv := 1 / sn.Sigma
	p, q := sn.P.W, sn.Q.W
	for i := range sn.r {
		qi := gw * float64(q[i])
		row := i * sn.c
		for j := range sn.c {
			sn.M.G[row+j] = float32((float64(g[row+j]) - qi*float64(p[j])) * inv)
		}
	}
	return dx
}

// Params returns M and the wrapped layer's bias.
func (sn *SpectralNorm) Params() []*Param { return []*Param{sn.M, sn.bias} }

// Buffers returns p and q, then the wrapped layer's buffers (none for Linear
// and Conv2D).
func (sn *SpectralNorm) Buffers() []*Param {
	return append([]*Param{sn.P, sn.Q}, Buffers(sn.Inner)...)
}
