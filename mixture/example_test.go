package mixture_test

import (
	"fmt"

	"github.com/latent-ml/latent/mixture"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func ExampleFitGaussian() {
	// Two clusters in 2-D: 200 points around (0, 0) and 100 around (3, 3), overlapping.
	s := rng.New(1)
	x := tensor.New(300, 2)
	for i := 0; i < 300; i++ {
		c := float64(0)
		if i >= 200 {
			c = 3
		}
		x.Set(i, 0, float32(c+s.NormFloat64()))
		x.Set(i, 1, float32(c+s.NormFloat64()))
	}
	g, res, err := mixture.FitGaussian(x, mixture.GaussianConfig{
		Components: 2, Covariance: mixture.Diag, RegCovar: mixture.DefaultRegCovar, Seed: 1,
		InitIters: -1, // k-means++ seeds only, so that EM has work to do
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	a := 0
	if g.Means[0] > 1.5 {
		a = 1
	}
	fmt.Printf("converged: %v\n", res.Converged)
	fmt.Printf("weights: %.2f %.2f\n", g.Weights[a], g.Weights[1-a])
	fmt.Printf("means: (%.1f, %.1f) (%.1f, %.1f)\n", g.Means[2*a], g.Means[2*a+1], g.Means[2*(1-a)], g.Means[2*(1-a)+1])
	fmt.Printf("F: %.4f after the first E-step, %.4f at the end\n", res.History[0].F, res.FreeEnergy)
	// Output:
	// converged: true
	// weights: 0.66 0.34
	// means: (-0.0, -0.1) (3.0, 3.0)
	// F: 3.5123 after the first E-step, 3.4550 at the end
}
