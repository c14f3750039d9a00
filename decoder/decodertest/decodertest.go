// Package decodertest gives the closed-form answer that tests of decoder-based
// models check their log-likelihood estimates against: a decoder whose mean
// G(z) is affine makes p(x) = ∫ N(z; 0, I) N(x; G(z), σ² I) dz probabilistic PCA,
// N(x; G(0), WᵀW + σ² I) with W's rows G(e_i) − G(0).
package decodertest

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/tensor"
	"gonum.org/v1/gonum/mat"
)

// AffineLogLik returns the exact log p(x_r) of every row of x under the decoder
// model with mean g (assumed affine: it is probed at z = 0 and the unit vectors)
// and variance sigma2. It returns an error if the covariance is not positive
// definite or g is visibly not affine (G(e_1 + e_2) off G(e_1) + G(e_2) − G(0)).
func AffineLogLik(g mcmc.Generator, latent int, sigma2 float64, x *tensor.Mat) ([]float64, error) {
	probe := tensor.New(latent+2, latent)
	for i := 0; i < latent; i++ {
		probe.Set(i+1, i, 1)
	}
	probe.Set(latent+1, 0, 1)
	if latent > 1 {
		probe.Set(latent+1, 1, 1)
	}
	out := g.Forward(probe)
	D := out.Cols
	if D != x.Cols {
		return nil, fmt.Errorf("decodertest: G makes %d values, x has %d", D, x.Cols)
	}
	b := out.Row(0)
	w := mat.NewDense(latent, D, nil)
	for i := 0; i < latent; i++ {
		for j := 0; j < D; j++ {
			w.Set(i, j, float64(out.At(i+1, j)-b[j]))
		}
	}
	for j := 0; j < D; j++ {
		want := float64(b[j]) + w.At(0, j)
		if latent > 1 {
			want += w.At(1, j)
		}
		if math.Abs(float64(out.At(latent+1, j))-want) > 1e-4*(1+math.Abs(want)) {
			return nil, fmt.Errorf("decodertest: G is not affine (value %d: %g, want %g)", j, out.At(latent+1, j), want)
		}
	}
	cov := mat.NewSymDense(D, nil)
	cov.SymOuterK(1, w.T())
	for j := 0; j < D; j++ {
		cov.SetSym(j, j, cov.At(j, j)+sigma2)
	}
	var chol mat.Cholesky
	if !chol.Factorize(cov) {
		return nil, fmt.Errorf("decodertest: covariance not positive definite")
	}
	ll := make([]float64, x.Rows)
	r := mat.NewVecDense(D, nil)
	var sol mat.VecDense
	for i := range ll {
		for j := 0; j < D; j++ {
			r.SetVec(j, float64(x.At(i, j))-float64(b[j]))
		}
		if err := chol.SolveVecTo(&sol, r); err != nil {
			return nil, err
		}
		ll[i] = -0.5 * (float64(D)*math.Log(2*math.Pi) + chol.LogDet() + mat.Dot(r, &sol))
	}
	return ll, nil
}
