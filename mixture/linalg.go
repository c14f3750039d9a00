package mixture

import (
	"fmt"
	"math"
	"sync"

	"github.com/latent-ml/latent/tensor"
)

// cholesky overwrites the lower triangle of the symmetric d×d matrix a with L such
// that a = L Lᵀ (the upper triangle is zeroed). It returns false when a is not
// numerically positive definite.
func cholesky(a []float64, d int) bool {
	for j := 0; j < d; j++ {
		rj := a[j*d : j*d+d]
		s := rj[j]
		for p := 0; p < j; p++ {
			s -= rj[p] * rj[p]
		}
		if !(s > 0) || math.IsInf(s, 0) {
			return false
		}
		ljj := math.Sqrt(s)
		rj[j] = ljj
		for i := j + 1; i < d; i++ {
			ri := a[i*d : i*d+d]
			t := ri[j]
			for p := 0; p < j; p++ {
				t -= ri[p] * rj[p]
			}
			ri[j] = t / ljj
		}
		for p := j + 1; p < d; p++ {
			rj[p] = 0
		}
	}
	return true
}

// lowerInverse sets dst to L⁻¹ for the lower-triangular d×d matrix l (dst lower
// triangular, upper triangle zero). dst must not alias l.
func lowerInverse(dst, l []float64, d int) {
	for i := range dst[:d*d] {
		dst[i] = 0
	}
	for j := 0; j < d; j++ {
		dst[j*d+j] = 1 / l[j*d+j]
		for i := j + 1; i < d; i++ {
			var s float64
			for p := j; p < i; p++ {
				s += l[i*d+p] * dst[p*d+j]
			}
			dst[i*d+j] = -s / l[i*d+i]
		}
	}
}

// f32Pool holds float32 scratch slices for the FastMath paths.
var f32Pool sync.Pool

func getF32(n int) []float32 {
	if p, ok := f32Pool.Get().(*[]float32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float32, n)
}

func putF32(b []float32) { f32Pool.Put(&b) }

// f64Pool holds float64 scratch slices.
var f64Pool sync.Pool

func getF64(n int) []float64 {
	if p, ok := f64Pool.Get().(*[]float64); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float64, n)
}

func putF64(b []float64) { f64Pool.Put(&b) }

// gemm32 computes c (m×n, float32 scratch) = op(a)·op(b) with tensor.Gemm.
func gemm32(transA, transB bool, a *tensor.Mat, b *tensor.Mat, c *tensor.Mat) {
	tensor.Gemm(transA, transB, 1, a, b, 0, c)
}

// NotPDError reports a covariance that is not positive definite: the data of a
// component are singular (fewer distinct points than dimensions, a constant
// column) or collapsed onto a point. Raising RegCovar (the CLI's --reg) or using
// fewer components helps.
type NotPDError struct {
	Covariance CovarianceType
	Component  int     // -1 for the shared (tied) covariance
	RegCovar   float64 // the regularisation in effect
}

func (e *NotPDError) Error() string {
	if e.Component < 0 {
		return fmt.Sprintf("mixture: the %s covariance is not positive definite (singular or collapsed data; RegCovar = %g)", e.Covariance, e.RegCovar)
	}
	return fmt.Sprintf("mixture: the covariance of component %d (%s) is not positive definite (singular or collapsed data; RegCovar = %g)", e.Component, e.Covariance, e.RegCovar)
}

func errNotPD(c CovarianceType, k int, reg float64) error {
	return &NotPDError{Covariance: c, Component: k, RegCovar: reg}
}
