package mixture

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// PredictProba sets dst[n*K+k] = p(k | x_n) for model m (dst allocated when nil)
// and returns it.
func PredictProba(m Model, dst []float64, x *tensor.Mat) []float64 {
	k := m.NumComponents()
	logJ := make([]float64, x.Rows*k)
	m.LogJoint(logJ, x)
	if dst == nil {
		dst = make([]float64, x.Rows*k)
	}
	if len(dst) != x.Rows*k {
		panic(fmt.Sprintf("mixture: PredictProba: len(dst) %d != %d×%d", len(dst), x.Rows, k))
	}
	eStep(dst, logJ, x.Rows, k)
	return dst
}

// Predict sets dst[n] = argmax_k p(k | x_n) (dst allocated when nil) and returns it.
func Predict(m Model, dst []int, x *tensor.Mat) []int {
	k := m.NumComponents()
	logJ := make([]float64, x.Rows*k)
	m.LogJoint(logJ, x)
	if dst == nil {
		dst = make([]int, x.Rows)
	}
	for i := range dst[:x.Rows] {
		best := 0
		for c := 1; c < k; c++ {
			if logJ[i*k+c] > logJ[i*k+best] {
				best = c
			}
		}
		dst[i] = best
	}
	return dst
}

// ScoreSamples sets dst[n] = log p(x_n) = log Σ_k exp(log π_k + log p(x_n|k)) (dst
// allocated when nil) and returns it.
func ScoreSamples(m Model, dst []float64, x *tensor.Mat) []float64 {
	k := m.NumComponents()
	logJ := make([]float64, x.Rows*k)
	m.LogJoint(logJ, x)
	if dst == nil {
		dst = make([]float64, x.Rows)
	}
	tensor.ParallelFor(x.Rows, rowChunk, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = tensor.LogSumExp64(logJ[i*k : (i+1)*k])
		}
	})
	return dst
}

// Score returns the mean log-likelihood per example, (1/n) Σ_n log p(x_n), summed
// in float64 in a fixed order.
func Score(m Model, x *tensor.Mat) float64 {
	ll := ScoreSamples(m, nil, x)
	s := chunkSum(len(ll), func(lo, hi int) float64 {
		var s float64
		for _, v := range ll[lo:hi] {
			s += v
		}
		return s
	})
	return s / float64(x.Rows)
}

// BIC returns the Bayesian information criterion -2 Σ_n log p(x_n) + p log n, p the
// number of free parameters (Schwarz 1978). Lower is better.
func BIC(m Model, numParams int, x *tensor.Mat) float64 {
	n := float64(x.Rows)
	return -2*Score(m, x)*n + float64(numParams)*math.Log(n)
}

// AIC returns Akaike's information criterion -2 Σ_n log p(x_n) + 2p. Lower is better.
func AIC(m Model, numParams int, x *tensor.Mat) float64 {
	return -2*Score(m, x)*float64(x.Rows) + 2*float64(numParams)
}

// Predict returns the most probable component of every row of x.
func (g *GaussianMixture) Predict(x *tensor.Mat) []int { return Predict(g, nil, x) }

// PredictProba returns p(k | x_n), n×K row-major.
func (g *GaussianMixture) PredictProba(x *tensor.Mat) []float64 { return PredictProba(g, nil, x) }

// ScoreSamples returns log p(x_n) for every row.
func (g *GaussianMixture) ScoreSamples(x *tensor.Mat) []float64 { return ScoreSamples(g, nil, x) }

// Score returns the mean log-likelihood per example.
func (g *GaussianMixture) Score(x *tensor.Mat) float64 { return Score(g, x) }

// BIC returns -2 Σ log p(x_n) + NumParams·log n.
func (g *GaussianMixture) BIC(x *tensor.Mat) float64 { return BIC(g, g.NumParams(), x) }

// AIC returns -2 Σ log p(x_n) + 2·NumParams.
func (g *GaussianMixture) AIC(x *tensor.Mat) float64 { return AIC(g, g.NumParams(), x) }
