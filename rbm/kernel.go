package rbm

import (
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// kernel is the fused element-wise pass of a training step, run over row ranges by
// tensor.ParallelFor through a method value bound once (so a warm step does not
// allocate). Row i draws from streams[i]: results do not depend on the number of workers.
type kernel struct {
	mode    int
	a       *tensor.Mat // pre-activations in; probabilities out (sigmoid modes)
	s       *tensor.Mat // samples out (may equal a), nil for none
	u       *tensor.Mat // Gaussian: z/σ out
	bias    []float32
	streams []*rng.Stream
	sigma   []float32 // Gaussian σ_i
	sigInv  []float32 // 1/σ_i
	h       *tensor.Mat
	c       []float32
	e       []float64 // PT: energies out
}

const (
	kGaussVis = iota // s ← bias + σ⊙(a + ε), ε ~ N(0, I); u ← s/σ
	kPTEnergy        // e ← E(s, h) = −Σ_j s_j(a_j + b_j) − hᵀc, with a = Wh
)

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (k *kernel) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		a := k.a.Row(i)
		switch k.mode {
		case kGaussVis:
			st, s, u := k.streams[i], k.s.Row(i), k.u.Row(i)
			for j, x := range a {
				z := k.bias[j] + k.sigma[j]*(x+float32(st.NormFloat64()))
				s[j] = z
				u[j] = z * k.sigInv[j]
			}
		case kPTEnergy:
			var e float64
			for j, v := range k.s.Row(i) {
				if v != 0 {
					e -= float64(a[j]) + float64(k.bias[j])
				}
			}
			for j, hj := range k.h.Row(i) {
				if hj != 0 {
					e -= float64(k.c[j])
				}
			}
			k.e[i] = e
		}
	}
}
