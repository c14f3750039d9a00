package tensor

import "math"

// Sigmoid sets dst[i] = 1/(1+exp(-x[i])). dst may alias x.
func Sigmoid(dst, x []float32) {
	for i, v := range x[:len(dst)] {
		dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
}

// Softplus sets dst[i] = log(1+exp(x[i])), computed stably. dst may alias x.
func Softplus(dst, x []float32) {
	for i, v := range x[:len(dst)] {
		f := float64(v)
		if f > 0 {
			dst[i] = float32(f + math.Log1p(math.Exp(-f)))
		} else {
			dst[i] = float32(math.Log1p(math.Exp(f)))
		}
	}
}
