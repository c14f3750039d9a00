package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// BernoulliLogLik sets, for each row i, the log-likelihood of x under independent
// Bernoulli variables with logits l (p = σ(l)), computed stably from the logits:
//
//	ll[i] = Σ_j x_ij·l_ij − softplus(l_ij)      (= Σ_j log p(x_ij | l_ij))
//
// and the gradient of the negative log-likelihood (binary cross-entropy) in dl:
//
//	dl_ij = −∂ll[i]/∂l_ij = σ(l_ij) − x_ij.
//
// x may hold values in [0, 1] (then ll is minus the cross-entropy, as in
// pytorch/examples vae). Sums accumulate in float64. dl is required (it is used as
// scratch) and may not alias logits or x. It panics on mismatched shapes.
func BernoulliLogLik(ll []float64, dl, logits, x *tensor.Mat) {
	checkLoss("BernoulliLogLik", ll, dl, logits, x)
	j := newRowJob(func(j *rowJob, lo, hi int) {
		ll, dl, logits, x := j.ll, j.a, j.b, j.c
		for i := lo; i < hi; i++ {
			l, xi, d := logits.Row(i), x.Row(i), dl.Row(i)
			tensor.Softplus(d, l)
			ll[i] = sumXLMinusD(xi, l, d)
			tensor.Sigmoid(d, l)
			for j, v := range xi {
				d[j] -= v
			}
		}
	})
	j.ll, j.a, j.b, j.c = ll, dl, logits, x
	forRows(x.Rows, x.Cols, j)
}

// sumXLMinusD returns Σ_j float64(x_j·l_j − d_j) over len(l), in four float64
// partial sums (j mod 4) added as (s₀ + s₁) + (s₂ + s₃), then the tail: four
// independent chains of additions instead of one, in an order fixed by the length
// alone.
func sumXLMinusD(x, l, d []float32) float64 {
	x, d = x[:len(l)], d[:len(l)]
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(l); j += 4 {
		s0 += float64(x[j]*l[j] - d[j])
		s1 += float64(x[j+1]*l[j+1] - d[j+1])
		s2 += float64(x[j+2]*l[j+2] - d[j+2])
		s3 += float64(x[j+3]*l[j+3] - d[j+3])
	}
	s := (s0 + s1) + (s2 + s3)
	for ; j < len(l); j++ {
		s += float64(x[j]*l[j] - d[j])
	}
	return s
}

// GaussianLogLik sets, for each row i, the log-density of x under independent
// Gaussians with means m and one shared variance σ² = exp(logVar):
//
//	ll[i] = −½ Σ_j [ (x_ij − m_ij)²/σ² + log 2π + log σ² ]
//
// and the gradients of the negative log-likelihood
//
//	dm_ij        = −∂ll[i]/∂m_ij     = (m_ij − x_ij)/σ²
//	dLogVar[i]   = −∂ll[i]/∂log σ²   = ½ Σ_j [ 1 − (x_ij − m_ij)²/σ² ]
//
// dLogVar may be nil (σ² fixed). Sums accumulate in float64. It panics on
// mismatched shapes.
func GaussianLogLik(ll []float64, dm, mean, x *tensor.Mat, logVar float64, dLogVar []float64) {
	checkLoss("GaussianLogLik", ll, dm, mean, x)
	if dLogVar != nil && len(dLogVar) != x.Rows {
		panic(fmt.Sprintf("nn: GaussianLogLik: len(dLogVar) %d != %d rows", len(dLogVar), x.Rows))
	}
	inv := math.Exp(-logVar)
	inv32 := float32(inv)
	cst := float64(x.Cols) * (math.Log(2*math.Pi) + logVar)
	j := newRowJob(func(j *rowJob, lo, hi int) {
		ll, dLogVar, dm, mean, x := j.ll, j.dlv, j.a, j.b, j.c
		inv, inv32, cst := j.x64, j.x32, j.y64
		for i := lo; i < hi; i++ {
			m, xi, d := mean.Row(i), x.Row(i), dm.Row(i)
			var sq float64
			for j, v := range m {
				r := v - xi[j]
				sq += float64(r * r)
				d[j] = r * inv32
			}
			ll[i] = -0.5 * (sq*inv + cst)
			if dLogVar != nil {
				dLogVar[i] = 0.5 * (float64(x.Cols) - sq*inv)
			}
		}
	})
	j.ll, j.dlv, j.a, j.b, j.c = ll, dLogVar, dm, mean, x
	j.x64, j.x32, j.y64 = inv, inv32, cst
	forRows(x.Rows, x.Cols, j)
}

func checkLoss(op string, ll []float64, d, y, x *tensor.Mat) {
	if len(ll) != x.Rows || y.Rows != x.Rows || y.Cols != x.Cols || d.Rows != x.Rows || d.Cols != x.Cols {
		panic(fmt.Sprintf("nn: %s: len(ll) %d, gradient %d×%d, prediction %d×%d, data %d×%d",
			op, len(ll), d.Rows, d.Cols, y.Rows, y.Cols, x.Rows, x.Cols))
	}
}
