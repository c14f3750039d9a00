package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// TimeEmbedding sets row i of dst (allocated or resized to len(t)×dims) to the
// sinusoidal embedding of the integer timestep t[i] (Vaswani et al. 2017,
// section 3.5; used for the diffusion step by Ho et al. 2020, appendix B), sines
// in the first half and cosines in the second, as in Ho et al.'s code:
//
//	ω_k = 10000^(−2k/dims) = exp(−(2k/dims)·ln 10000),   k = 0, …, dims/2 − 1
//	dst[i, k] = sin(t_i ω_k),   dst[i, dims/2 + k] = cos(t_i ω_k)
//
// (Ho et al.'s code divides by dims/2 − 1 in the exponent instead of dims/2, so
// its slowest frequency is exactly 1/10000; the embedding is an input to a
// learned layer, so either serves.) Values are computed in float64 and rounded.
// It has no parameters and no backward pass. It returns dst and panics unless
// dims is even and positive.
func TimeEmbedding(dst *tensor.Mat, t []int, dims int) *tensor.Mat {
	if dims < 2 || dims%2 != 0 {
		panic(fmt.Sprintf("nn: TimeEmbedding: dims %d must be even and positive", dims))
	}
	dst = tensor.Reuse(dst, len(t), dims)
	half := dims / 2
	for i, ti := range t {
		r := dst.Row(i)
		for k := range half {
			w := math.Exp(-float64(2*k) / float64(dims) * math.Log(10000))
			s, c := math.Sincos(float64(ti) * w)
			r[k], r[half+k] = float32(s), float32(c)
		}
	}
	return dst
}
